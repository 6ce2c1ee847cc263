import { sql, type Kysely } from 'kysely';

// RMA repair (P5): the `rma_repairs` record a returned spare part used to leave becomes an RMA case
// with a workflow. An RMA is opened by the desk, by a converted DOA claim, or by a spare-part return;
// it has a case and one line per part (device, fault description, receipt and discrepancy, repair
// outcome, replacement serial and warranty), the ship-back deadline as computed once at receipt, the
// shipment and the customer's confirmation. Statuses are declared in workflows/rma-repair/definitions.ts.
// Rows written before this migration (spare-part returns with no case) stay valid: they become
// internal RMAs without a case, each with its one part line.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('rma_repairs')
    .addColumn('case_id', 'uuid', (col) => col.unique().references('cases.id'))
    .addColumn('case_number', 'text', (col) => col.unique())
    .addColumn('origin', 'text', (col) => col.notNull().defaultTo('spare_part_return').check(sql`origin in ('desk', 'doa_conversion', 'spare_part_return')`))
    .addColumn('contact_id', 'uuid', (col) => col.references('contacts.id'))
    .addColumn('opened_by', 'text')
    .addColumn('opened_by_role', 'text')
    .addColumn('opened_at', 'timestamptz')
    .addColumn('ship_back_deadline', 'jsonb')
    .addColumn('ship_due_at', 'timestamptz')
    .addColumn('due_warned_at', 'timestamptz')
    .addColumn('due_missed_at', 'timestamptz')
    .addColumn('carrier', 'text')
    .addColumn('tracking_number', 'text')
    .addColumn('shipped_at', 'timestamptz')
    .addColumn('shipped_by', 'text')
    .addColumn('shipped_late', 'boolean')
    .addColumn('delivery_chase_at', 'timestamptz')
    .addColumn('delivery_chased_at', 'timestamptz')
    .addColumn('delivery_confirmed_at', 'timestamptz')
    .addColumn('delivery_confirmed_by', 'text')
    .addColumn('delivery_note', 'text')
    .addColumn('closed_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  // A customer's RMA is opened before its parts arrive; the parts (one line each) carry device and fault.
  await sql`alter table rma_repairs alter column received_at drop not null, alter column device_id drop not null, alter column fault_description drop not null, alter column status drop default`.execute(db);
  await sql`alter table rma_repairs drop constraint rma_repairs_status_check`.execute(db);
  await sql`update rma_repairs set status = case status when 'open' then 'in_stock_repair' when 'repaired' then 'restocked' else status end`.execute(db);
  await sql`alter table rma_repairs add constraint rma_repairs_status_check
    check (status in ('awaiting_return', 'discrepancy', 'in_repair', 'awaiting_shipment', 'shipped', 'closed', 'in_stock_repair', 'restocked', 'scrapped'))`.execute(db);
  await db.schema.createIndex('rma_repairs_status_idx').on('rma_repairs').columns(['status', 'case_number']).execute();
  await db.schema.createIndex('rma_repairs_customer_idx').on('rma_repairs').columns(['customer_id', 'status']).execute();
  await db.schema.createIndex('rma_repairs_origin_case_idx').on('rma_repairs').column('origin_case_id').execute();

  await db.schema
    .createTable('rma_repair_parts')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('rma_id', 'uuid', (col) => col.notNull().references('rma_repairs.id'))
    .addColumn('case_id', 'uuid', (col) => col.references('cases.id'))
    .addColumn('line', 'integer', (col) => col.notNull().check(sql`line >= 1`))
    .addColumn('device_id', 'uuid', (col) => col.notNull().references('devices.id'))
    .addColumn('fault_description', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('awaiting_receipt', 'discrepancy', 'received', 'repaired', 'replaced', 'scrapped')`),
    )
    .addColumn('received_serial', 'text')
    .addColumn('received_at', 'timestamptz')
    .addColumn('received_by', 'text')
    .addColumn('receipt_note', 'text')
    .addColumn('discrepancy_resolution', 'text', (col) => col.check(sql`discrepancy_resolution in ('accept_as_received', 'request_right_part')`))
    .addColumn('discrepancy_comment', 'text')
    .addColumn('discrepancy_resolved_by', 'text')
    .addColumn('discrepancy_resolved_at', 'timestamptz')
    .addColumn('outcome', 'text', (col) => col.check(sql`outcome in ('repaired', 'replaced', 'scrapped')`))
    .addColumn('outcome_note', 'text')
    .addColumn('outcome_by', 'text')
    .addColumn('outcome_at', 'timestamptz')
    .addColumn('replacement_serial', 'text')
    .addColumn('replacement_device_id', 'uuid', (col) => col.references('devices.id'))
    .addColumn('warranty_end', 'date')
    .addColumn('warranty_basis', 'text', (col) => col.check(sql`warranty_basis in ('ninety_days_from_shipping', 'rest_of_original_warranty')`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('rma_repair_parts_rma_line_key', ['rma_id', 'line'])
    .execute();
  await db.schema.createIndex('rma_repair_parts_device_idx').on('rma_repair_parts').column('device_id').execute();

  await sql`insert into rma_repair_parts (rma_id, line, device_id, fault_description, status, received_serial, received_at, outcome, outcome_at, created_at, updated_at)
    select r.id, 1, r.device_id, r.fault_description,
      case r.status when 'restocked' then 'repaired' when 'scrapped' then 'scrapped' else 'received' end,
      d.serial, r.received_at,
      case r.status when 'restocked' then 'repaired' when 'scrapped' then 'scrapped' end,
      case when r.status in ('restocked', 'scrapped') then r.created_at end,
      r.created_at, r.created_at
    from rma_repairs r join devices d on d.id = r.device_id`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rma_repair_parts').execute();
  await db.deleteFrom('rma_repairs').where('case_id', 'is not', null).execute();
  await sql`alter table rma_repairs drop constraint rma_repairs_status_check`.execute(db);
  await sql`update rma_repairs set status = case status when 'restocked' then 'repaired' when 'scrapped' then 'scrapped' else 'open' end`.execute(db);
  await sql`alter table rma_repairs add constraint rma_repairs_status_check check (status in ('open', 'repaired', 'scrapped'))`.execute(db);
  await sql`alter table rma_repairs alter column status set default 'open', alter column received_at set not null, alter column device_id set not null, alter column fault_description set not null`.execute(db);
  for (const index of ['rma_repairs_status_idx', 'rma_repairs_customer_idx', 'rma_repairs_origin_case_idx']) await db.schema.dropIndex(index).execute();
  for (const column of [
    'case_id', 'case_number', 'origin', 'contact_id', 'opened_by', 'opened_by_role', 'opened_at', 'ship_back_deadline', 'ship_due_at', 'due_warned_at',
    'due_missed_at', 'carrier', 'tracking_number', 'shipped_at', 'shipped_by', 'shipped_late', 'delivery_chase_at', 'delivery_chased_at',
    'delivery_confirmed_at', 'delivery_confirmed_by', 'delivery_note', 'closed_at', 'updated_at',
  ]) {
    await db.schema.alterTable('rma_repairs').dropColumn(column).execute();
  }
}
