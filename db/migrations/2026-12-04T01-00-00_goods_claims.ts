import { sql, type Kysely } from 'kysely';

// Goods claims (P5): transport damage and wrong, missing or extra goods. The window as the rules
// decided it at registration, the identifiers recorded (jsonb, workflows/goods-claim/evidence.ts), the
// evidence request with its chase and lapse, and the desk's resolution. Statuses are declared in
// workflows/goods-claim/definitions.ts (test/db/status-constraints.test.ts holds the CHECK to them);
// the evidence files themselves are in `evidence_files`.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('goods_claims')
    .addColumn('case_id', 'uuid', (col) => col.primaryKey().references('cases.id'))
    .addColumn('claim_number', 'text', (col) => col.notNull().unique())
    .addColumn('customer_id', 'uuid', (col) => col.notNull().references('customers.id'))
    .addColumn('contact_id', 'uuid', (col) => col.notNull().references('contacts.id'))
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('transport_damage', 'wrong_missing_extra')`))
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('registered', 'evidence_requested', 'resolution', 'replacement_shipped', 'credited', 'refused', 'lapsed')`),
    )
    .addColumn('arrived_on', 'date', (col) => col.notNull())
    .addColumn('claimed_at', 'timestamptz', (col) => col.notNull())
    .addColumn('window_last_day', 'date', (col) => col.notNull())
    .addColumn('window_deadline_at', 'timestamptz', (col) => col.notNull())
    .addColumn('day_of_claim', 'integer', (col) => col.notNull())
    .addColumn('carried_by_us', 'boolean')
    .addColumn('device_serials', sql`text[]`, (col) => col.notNull().check(sql`cardinality(device_serials) > 0`))
    .addColumn('identifiers', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('description', 'text', (col) => col.notNull())
    .addColumn('registered_by', 'text', (col) => col.notNull())
    .addColumn('registered_by_role', 'text', (col) => col.notNull())
    .addColumn('evidence_requested_at', 'timestamptz')
    .addColumn('evidence_chase_at', 'timestamptz')
    .addColumn('evidence_chased_at', 'timestamptz')
    .addColumn('evidence_completed_at', 'timestamptz')
    .addColumn('lapsed_at', 'timestamptz')
    .addColumn('outcome', 'text', (col) => col.check(sql`outcome in ('replacement', 'credit', 'refusal')`))
    .addColumn('carrier', 'text')
    .addColumn('tracking_number', 'text')
    .addColumn('credit_amount_cents', 'integer', (col) => col.check(sql`credit_amount_cents > 0`))
    .addColumn('refusal_reason', 'text')
    .addColumn('resolution_note', 'text')
    .addColumn('resolved_by', 'text')
    .addColumn('resolved_by_role', 'text')
    .addColumn('resolved_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('goods_claims_customer_status_idx').on('goods_claims').columns(['customer_id', 'status']).execute();
  await db.schema.createIndex('goods_claims_status_idx').on('goods_claims').columns(['status', 'claim_number']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('goods_claims').execute();
}
