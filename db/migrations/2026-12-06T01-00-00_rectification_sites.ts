import { sql, type Kysely } from 'kysely';

// Batch rectification, per site (P3 steps 3-6): one row per site of a campaign that needs a visit,
// with its work order, materials picked, implementation plan and rectification report (documents
// through the sign-off), its slot and the R&D review's deadline (slot - 3 days); every slot it had,
// with the reason it moved; every implementation attempt (a failure with its rollback); the parts
// replaced on site and their return to receipt (kept by the customer: due in 15 China working
// days, as spare part first computes it); or the customer's refusal of the site work, with its proof. Statuses are declared in
// workflows/rectification/site-definitions.ts (test/db/status-constraints.test.ts holds the CHECKs to them).

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('rectification_sites')
    .addColumn('campaign_case_id', 'uuid', (col) => col.notNull().references('rectification_campaigns.case_id'))
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id'))
    .addColumn('campaign_number', 'text', (col) => col.notNull())
    .addColumn('customer_id', 'uuid', (col) => col.notNull().references('customers.id'))
    // Who approves the plan, confirms the slot and signs the report for the customer.
    .addColumn('contact_id', 'uuid', (col) => col.notNull().references('contacts.id'))
    .addColumn('workflow_id', 'text', (col) => col.notNull().unique())
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('picking', 'planning', 'scheduled', 'in_progress', 'reporting', 'returning_parts', 'archived', 'declined')`))
    .addColumn('high_risk', 'boolean', (col) => col.notNull())
    .addColumn('device_ids', sql`uuid[]`, (col) => col.notNull().check(sql`cardinality(device_ids) > 0`))
    .addColumn('work_order_opened_at', 'timestamptz', (col) => col.notNull())
    .addColumn('materials', 'jsonb')
    .addColumn('materials_picked_at', 'timestamptz')
    .addColumn('materials_picked_by', 'text')
    .addColumn('plan_document_id', 'uuid', (col) => col.references('documents.id'))
    .addColumn('plan_signed_version', 'integer')
    .addColumn('plan_signed_at', 'timestamptz')
    .addColumn('rd_review_finished_at', 'timestamptz')
    .addColumn('slot_starts_at', 'timestamptz')
    .addColumn('slot_duration_minutes', 'integer', (col) => col.check(sql`slot_duration_minutes between 1 and 1440`))
    .addColumn('slot_confirmed_at', 'timestamptz')
    // High-risk plans: the R&D review must be finished by slot - 3 days (null: no slot, or no R&D review).
    .addColumn('rd_review_due_at', 'timestamptz')
    .addColumn('rd_review_overdue_at', 'timestamptz')
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('report_document_id', 'uuid', (col) => col.references('documents.id'))
    .addColumn('report_signed_at', 'timestamptz')
    .addColumn('archived_at', 'timestamptz')
    // The customer refused the site work, with proof (evidence files on the campaign's case).
    .addColumn('declined_at', 'timestamptz')
    .addColumn('declined_by', 'text')
    .addColumn('decline_reason', 'text')
    .addColumn('decline_evidence_ids', sql`uuid[]`)
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('rectification_sites_pkey', ['campaign_case_id', 'site_id'])
    .addCheckConstraint('rectification_sites_slot_whole', sql`(slot_starts_at is null) = (slot_duration_minutes is null)`)
    .addCheckConstraint('rectification_sites_declined_with_proof', sql`status <> 'declined' or cardinality(decline_evidence_ids) > 0`)
    .execute();
  await db.schema.createIndex('rectification_sites_number_idx').on('rectification_sites').columns(['campaign_number', 'site_id']).unique().execute();
  await db.schema.createIndex('rectification_sites_status_idx').on('rectification_sites').columns(['status']).execute();

  await db.schema
    .createTable('rectification_slot_moves')
    .addColumn('campaign_case_id', 'uuid', (col) => col.notNull())
    .addColumn('site_id', 'uuid', (col) => col.notNull())
    // 1 for the first slot proposed, then one more per move.
    .addColumn('seq', 'integer', (col) => col.notNull().check(sql`seq > 0`))
    .addColumn('reason', 'text', (col) => col.notNull().check(sql`reason in ('proposed', 'rescheduled', 'rd_review_late')`))
    .addColumn('detail', 'text', (col) => col.notNull())
    .addColumn('starts_at', 'timestamptz', (col) => col.notNull())
    .addColumn('duration_minutes', 'integer', (col) => col.notNull().check(sql`duration_minutes between 1 and 1440`))
    .addColumn('previous_starts_at', 'timestamptz')
    .addColumn('moved_by', 'text', (col) => col.notNull())
    .addColumn('moved_by_role', 'text', (col) => col.notNull())
    .addColumn('moved_at', 'timestamptz', (col) => col.notNull())
    .addColumn('confirmed_at', 'timestamptz')
    .addColumn('confirmed_by', 'text')
    .addPrimaryKeyConstraint('rectification_slot_moves_pkey', ['campaign_case_id', 'site_id', 'seq'])
    .addForeignKeyConstraint('rectification_slot_moves_site_fkey', ['campaign_case_id', 'site_id'], 'rectification_sites', ['campaign_case_id', 'site_id'])
    .execute();

  await db.schema
    .createTable('rectification_site_attempts')
    .addColumn('campaign_case_id', 'uuid', (col) => col.notNull())
    .addColumn('site_id', 'uuid', (col) => col.notNull())
    .addColumn('attempt', 'integer', (col) => col.notNull().check(sql`attempt > 0`))
    .addColumn('slot_starts_at', 'timestamptz', (col) => col.notNull())
    .addColumn('started_at', 'timestamptz', (col) => col.notNull())
    .addColumn('started_by', 'text', (col) => col.notNull())
    .addColumn('outcome', 'text', (col) => col.check(sql`outcome in ('succeeded', 'failed')`))
    .addColumn('result', 'text')
    .addColumn('rollback', 'text')
    .addColumn('finished_at', 'timestamptz')
    .addColumn('finished_by', 'text')
    .addPrimaryKeyConstraint('rectification_site_attempts_pkey', ['campaign_case_id', 'site_id', 'attempt'])
    .addForeignKeyConstraint('rectification_site_attempts_site_fkey', ['campaign_case_id', 'site_id'], 'rectification_sites', ['campaign_case_id', 'site_id'])
    .addCheckConstraint('rectification_site_attempts_rollback', sql`outcome is distinct from 'failed' or rollback is not null`)
    .execute();

  await db.schema
    .createTable('rectification_returned_parts')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('campaign_case_id', 'uuid', (col) => col.notNull())
    .addColumn('site_id', 'uuid', (col) => col.notNull())
    .addColumn('device_id', 'uuid', (col) => col.notNull().references('devices.id'))
    .addColumn('product_code', 'text', (col) => col.notNull())
    .addColumn('serial', 'text', (col) => col.notNull())
    .addColumn('disposition', 'text', (col) => col.notNull().check(sql`disposition in ('taken_back', 'kept_by_customer')`))
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('in_transit', 'with_customer', 'received')`))
    // Kept by the customer: 15 China working days after the work, computed once and recorded.
    .addColumn('return_due_date', 'date')
    .addColumn('return_due_at', 'timestamptz')
    .addColumn('return_reminders', 'jsonb')
    .addColumn('reminded_at', 'timestamptz')
    .addColumn('overdue_at', 'timestamptz')
    .addColumn('received_at', 'timestamptz')
    .addColumn('received_by', 'text')
    .addColumn('receipt_note', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addForeignKeyConstraint('rectification_returned_parts_site_fkey', ['campaign_case_id', 'site_id'], 'rectification_sites', ['campaign_case_id', 'site_id'])
    .addUniqueConstraint('rectification_returned_parts_serial', ['campaign_case_id', 'site_id', 'serial'])
    .addCheckConstraint('rectification_returned_parts_due', sql`disposition <> 'kept_by_customer' or return_due_at is not null`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rectification_returned_parts').execute();
  await db.schema.dropTable('rectification_site_attempts').execute();
  await db.schema.dropTable('rectification_slot_moves').execute();
  await db.schema.dropTable('rectification_sites').execute();
}
