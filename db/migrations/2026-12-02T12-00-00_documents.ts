import { sql, type Kysely } from 'kysely';

// Documents both sides sign off (repair plans, service reports, ...): the document, its versions and
// the decisions on them. All three are append-only: a new version or decision is a new row, and the
// sign-off's state is read from them. The kinds, steps and decisions are declared in
// workflows/sign-off/definitions.ts; test/db/status-constraints.test.ts holds these CHECKs to them.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function append_only() returns trigger language plpgsql as $$
    begin
      raise exception '% is append-only', tg_table_name;
    end;
    $$`.execute(db);

  await db.schema
    .createTable('documents')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('case_id', 'uuid', (col) => col.notNull().references('cases.id'))
    .addColumn('kind', 'text', (col) =>
      col.notNull().check(sql`kind in ('repair_plan', 'service_report', 'fault_report', 'recovery_plan', 'implementation_plan', 'write_up')`),
    )
    .addColumn('title', 'text', (col) => col.notNull())
    .addColumn('steps', sql`text[]`, (col) =>
      col.notNull().check(sql`cardinality(steps) > 0 and steps <@ array['technical_review', 'manager_approval', 'rd_review', 'customer_signature']::text[]`),
    )
    .addColumn('contact_id', 'uuid', (col) => col.references('contacts.id'))
    .addColumn('workflow_id', 'text', (col) => col.notNull().unique())
    .addColumn('created_by', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('documents_customer_step_has_contact', sql`contact_id is not null or not ('customer_signature' = any(steps))`)
    .execute();
  await db.schema.createIndex('documents_case_idx').on('documents').columns(['case_id', 'created_at']).execute();

  await db.schema
    .createTable('document_versions')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('document_id', 'uuid', (col) => col.notNull().references('documents.id'))
    .addColumn('version', 'integer', (col) => col.notNull().check(sql`version > 0`))
    .addColumn('content', 'jsonb', (col) => col.notNull())
    .addColumn('reason', 'text')
    .addColumn('submitted_by', 'text', (col) => col.notNull())
    .addColumn('submitted_by_role', 'text', (col) => col.notNull())
    .addColumn('submitted_by_user_id', 'uuid', (col) => col.references('users.id'))
    .addColumn('submitted_at', 'timestamptz', (col) => col.notNull())
    .addUniqueConstraint('document_versions_one_per_number', ['document_id', 'version'])
    .execute();

  await db.schema
    .createTable('document_decisions')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('document_id', 'uuid', (col) => col.notNull().references('documents.id'))
    .addColumn('version', 'integer', (col) => col.notNull())
    .addColumn('step', 'text', (col) =>
      col.notNull().check(sql`step in ('technical_review', 'manager_approval', 'rd_review', 'customer_signature', 'withdrawal')`),
    )
    .addColumn('decision', 'text', (col) => col.notNull().check(sql`decision in ('approved', 'rejected', 'signed', 'objected', 'withdrawn')`))
    .addColumn('comment', 'text')
    .addColumn('decided_by', 'text', (col) => col.notNull())
    .addColumn('decided_by_role', 'text', (col) => col.notNull())
    .addColumn('decided_at', 'timestamptz', (col) => col.notNull())
    // One decision per step of a version: a retried step changes nothing twice.
    .addUniqueConstraint('document_decisions_one_per_step', ['document_id', 'version', 'step'])
    .execute();

  for (const table of ['documents', 'document_versions', 'document_decisions']) {
    await sql`create trigger ${sql.raw(`${table}_append_only`)} before update or delete on ${sql.table(table)} for each row execute function append_only()`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('document_decisions').execute();
  await db.schema.dropTable('document_versions').execute();
  await db.schema.dropTable('documents').execute();
  await sql`drop function append_only()`.execute(db);
}
