import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('spare_part_loans')
    .addColumn('case_id', 'uuid', (col) => col.primaryKey().references('cases.id'))
    .addColumn('loan_number', 'text', (col) => col.notNull().unique())
    .addColumn('customer_id', 'uuid', (col) => col.notNull().references('customers.id'))
    .addColumn('contact_id', 'uuid', (col) => col.notNull().references('contacts.id'))
    .addColumn('failed_device_id', 'uuid', (col) => col.notNull().references('devices.id'))
    .addColumn('related_case_id', 'uuid', (col) => col.references('cases.id'))
    .addColumn('fault_description', 'text', (col) => col.notNull())
    .addColumn('delivery_address', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col
        .notNull()
        .check(
          sql`status in ('pending_approval', 'rejected', 'approved', 'shipped', 'awaiting_return', 'overdue', 'returned', 'written_off')`,
        ),
    )
    .addColumn('applied_by', 'text', (col) => col.notNull())
    .addColumn('applied_by_role', 'text', (col) => col.notNull())
    .addColumn('applied_at', 'timestamptz', (col) => col.notNull())
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'timestamptz')
    .addColumn('decision_comment', 'text')
    .addColumn('replacement_serial', 'text')
    .addColumn('carrier', 'text')
    .addColumn('tracking_number', 'text')
    .addColumn('shipped_at', 'timestamptz')
    .addColumn('replacement_warranty_end', 'date')
    .addColumn('received_at', 'timestamptz')
    .addColumn('receipt_confirmed_by', 'text')
    .addColumn('receipt_discrepancy', 'text')
    .addColumn('return_due_date', 'date')
    .addColumn('return_due_at', 'timestamptz')
    .addColumn('return_deadline_provisional', 'boolean')
    .addColumn('return_deadline_missing_years', sql`integer[]`)
    .addColumn('first_reminder_date', 'date')
    .addColumn('reminder_dates', sql`text[]`)
    .addColumn('returned_at', 'timestamptz')
    .addColumn('return_discrepancy', 'text')
    .addColumn('fault_tag_present', 'boolean')
    .addColumn('overdue_at', 'timestamptz')
    .addColumn('written_off_at', 'timestamptz')
    .addColumn('write_off_reason', 'text', (col) => col.check(sql`write_off_reason in ('late_return', 'payment')`))
    .addColumn('payment_reference', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('spare_part_loans_customer_status_idx').on('spare_part_loans').columns(['customer_id', 'status']).execute();
  await db.schema.createIndex('spare_part_loans_status_due_idx').on('spare_part_loans').columns(['status', 'return_due_at']).execute();
  // At most one loan in progress per failed device.
  await sql`
    create unique index spare_part_loans_one_open_per_device on spare_part_loans (failed_device_id)
    where status in ('pending_approval', 'approved', 'shipped', 'awaiting_return', 'overdue')`.execute(db);

  await db.schema
    .createTable('rma_repairs')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('source_ref', 'text', (col) => col.notNull().unique())
    .addColumn('customer_id', 'uuid', (col) => col.notNull().references('customers.id'))
    .addColumn('device_id', 'uuid', (col) => col.notNull().references('devices.id'))
    .addColumn('origin_case_id', 'uuid', (col) => col.references('cases.id'))
    .addColumn('fault_description', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull().defaultTo('open').check(sql`status in ('open', 'repaired', 'scrapped')`))
    .addColumn('received_at', 'timestamptz', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rma_repairs').execute();
  await db.schema.dropTable('spare_part_loans').execute();
}
