import { sql, type Kysely } from 'kysely';

// DOA claims (P5, seed 004 11): the application, the desk's condition checks (jsonb: each with what
// was found, by whom, when), the decision with every failed condition, the replacement unit's
// approval, shipment and receipt, the DOA unit's return, and the offer to convert a rejected claim
// into an RMA repair. Statuses are declared in workflows/doa-claim/definitions.ts.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('doa_claims')
    .addColumn('case_id', 'uuid', (col) => col.primaryKey().references('cases.id'))
    .addColumn('case_number', 'text', (col) => col.notNull().unique())
    .addColumn('customer_id', 'uuid', (col) => col.notNull().references('customers.id'))
    .addColumn('contact_id', 'uuid', (col) => col.notNull().references('contacts.id'))
    .addColumn('device_id', 'uuid', (col) => col.notNull().references('devices.id'))
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('assessment', 'replacement_approval', 'replacement_shipping', 'replacement_delivery', 'unit_return', 'conversion_offered', 'converted', 'closed')`),
    )
    .addColumn('arrived_on', 'date', (col) => col.notNull())
    .addColumn('first_power_on_at', 'timestamptz', (col) => col.notNull())
    .addColumn('failed_at', 'timestamptz', (col) => col.notNull())
    .addColumn('symptoms', 'text', (col) => col.notNull())
    .addColumn('applied_by_end_user', 'boolean', (col) => col.notNull())
    .addColumn('applied_at', 'timestamptz', (col) => col.notNull())
    .addColumn('registered_by', 'text', (col) => col.notNull())
    .addColumn('registered_by_role', 'text', (col) => col.notNull())
    .addColumn('condition_checks', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('decision', 'text', (col) => col.check(sql`decision in ('accepted', 'rejected')`))
    .addColumn('failed_conditions', 'jsonb')
    .addColumn('carrier_claim_advised', 'boolean')
    .addColumn('decided_at', 'timestamptz')
    .addColumn('decided_by', 'text')
    .addColumn('replacement_approved_at', 'timestamptz')
    .addColumn('replacement_approved_by', 'text')
    .addColumn('replacement_serial', 'text')
    .addColumn('replacement_carrier', 'text')
    .addColumn('replacement_tracking_number', 'text')
    .addColumn('replacement_shipped_at', 'timestamptz')
    .addColumn('replacement_device_id', 'uuid', (col) => col.references('devices.id'))
    .addColumn('replacement_warranty_end', 'date')
    .addColumn('receipt_confirmed_at', 'timestamptz')
    .addColumn('unit_returned_at', 'timestamptz')
    .addColumn('unit_return_note', 'text')
    .addColumn('conversion', 'text', (col) => col.check(sql`conversion in ('accepted', 'declined', 'lapsed')`))
    .addColumn('conversion_offer_ends_at', 'timestamptz')
    .addColumn('conversion_answered_at', 'timestamptz')
    .addColumn('rma_case_id', 'uuid', (col) => col.references('cases.id'))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('doa_claims_customer_status_idx').on('doa_claims').columns(['customer_id', 'status']).execute();
  await db.schema.createIndex('doa_claims_status_idx').on('doa_claims').columns(['status', 'case_number']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('doa_claims').execute();
}
