import { sql, type Kysely } from 'kysely';

// Goods problems (P5), the shared part: the three processes get their own case kinds (one workflow
// type each, so each has its own CaseProcess), devices name who sold them ("whoever sold it is
// responsible"), and the evidence customers and the desk upload to a case, stored append-only.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table cases drop constraint if exists cases_kind_check`.execute(db);
  await sql`update cases set kind = 'rma_repair' where kind = 'doa_rma'`.execute(db);
  await sql`alter table cases add constraint cases_kind_check
    check (kind in ('fault_repair', 'incident', 'batch_rectification', 'spare_part', 'doa_claim', 'goods_claim', 'rma_repair'))`.execute(db);

  // Null: our company sold it. Otherwise the seller, who is responsible for DOA and goods claims.
  await db.schema.alterTable('devices').addColumn('sold_by', 'text').execute();

  await db.schema
    .createTable('evidence_files')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('case_id', 'uuid', (col) => col.notNull().references('cases.id'))
    // Which piece of required evidence the file is (e.g. "delivery note marked damaged"); null when not said.
    .addColumn('item', 'text')
    .addColumn('file_name', 'text', (col) => col.notNull())
    .addColumn('declared_type', 'text')
    .addColumn('sniffed_type', 'text', (col) => col.notNull().check(sql`sniffed_type in ('image/jpeg', 'image/png', 'image/webp', 'application/pdf')`))
    .addColumn('size_bytes', 'integer', (col) => col.notNull().check(sql`size_bytes > 0`))
    .addColumn('sha256', 'text', (col) => col.notNull())
    .addColumn('content', 'bytea', (col) => col.notNull())
    .addColumn('thumbnail', 'bytea')
    .addColumn('uploaded_by', 'text', (col) => col.notNull())
    .addColumn('uploaded_by_role', 'text', (col) => col.notNull())
    .addColumn('uploaded_at', 'timestamptz', (col) => col.notNull())
    // The same bytes uploaded to the same case again (a retried upload) are the same file.
    .addUniqueConstraint('evidence_files_case_sha256_key', ['case_id', 'sha256'])
    .execute();
  await db.schema.createIndex('evidence_files_case_idx').on('evidence_files').columns(['case_id', 'uploaded_at']).execute();
  await sql`create trigger evidence_files_append_only before update or delete on evidence_files for each row execute function append_only()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('evidence_files').execute();
  await db.schema.alterTable('devices').dropColumn('sold_by').execute();
  await sql`alter table cases drop constraint if exists cases_kind_check`.execute(db);
  await sql`update cases set kind = 'doa_rma' where kind in ('doa_claim', 'goods_claim', 'rma_repair')`.execute(db);
  await sql`alter table cases add constraint cases_kind_check
    check (kind in ('fault_repair', 'incident', 'batch_rectification', 'spare_part', 'doa_rma'))`.execute(db);
}
