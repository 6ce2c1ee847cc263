import { sql, type Kysely } from 'kysely';

// Fault repair (P1), stage 1: the registration, the SLA targets as computed once (jsonb, each with its
// due instant, warning, breach and the milestone's margin), the plan and service-report documents,
// dispatch, the work on site and its result. Statuses and severities are declared in
// workflows/fault-repair/definitions.ts.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('fault_repairs')
    .addColumn('case_id', 'uuid', (col) => col.primaryKey().references('cases.id'))
    .addColumn('case_number', 'text', (col) => col.notNull().unique())
    .addColumn('customer_id', 'uuid', (col) => col.notNull().references('customers.id'))
    .addColumn('contact_id', 'uuid', (col) => col.notNull().references('contacts.id'))
    .addColumn('device_id', 'uuid', (col) => col.notNull().references('devices.id'))
    .addColumn('site_id', 'uuid', (col) => col.references('sites.id'))
    .addColumn('symptoms', 'text', (col) => col.notNull())
    .addColumn('actions_taken', 'text', (col) => col.notNull())
    .addColumn('suspected_cause', 'text', (col) => col.notNull())
    .addColumn('severity', 'text', (col) => col.notNull().check(sql`severity in ('critical', 'major', 'serious', 'minor')`))
    .addColumn('status', 'text', (col) =>
      col
        .notNull()
        .check(sql`status in ('diagnosis', 'planning', 'awaiting_dispatch', 'dispatched', 'on_site', 'in_progress', 'escalated', 'reporting', 'follow_up', 'closed')`),
    )
    .addColumn('reported_at', 'timestamptz', (col) => col.notNull())
    .addColumn('registered_by', 'text', (col) => col.notNull())
    .addColumn('registered_by_role', 'text', (col) => col.notNull())
    .addColumn('sla_targets', 'jsonb')
    .addColumn('diagnosis_outcome', 'text', (col) => col.check(sql`diagnosis_outcome in ('solved_remotely', 'needs_plan')`))
    .addColumn('diagnosis_findings', 'text')
    .addColumn('plan_document_id', 'uuid', (col) => col.references('documents.id'))
    .addColumn('plan_signed_version', 'integer')
    .addColumn('high_risk_operations', sql`text[]`)
    .addColumn('report_document_id', 'uuid', (col) => col.references('documents.id'))
    .addColumn('engineer_user_id', 'uuid', (col) => col.references('users.id'))
    .addColumn('appointment_at', 'timestamptz')
    .addColumn('arrived_at', 'timestamptz')
    .addColumn('work_started_at', 'timestamptz')
    .addColumn('window_ends_at', 'timestamptz')
    .addColumn('window_overrun_at', 'timestamptz')
    .addColumn('work_finished_at', 'timestamptz')
    .addColumn('result', 'text', (col) => col.check(sql`result in ('fixed', 'not_fixed', 'solved_remotely')`))
    .addColumn('result_note', 'text')
    .addColumn('restored_at', 'timestamptz')
    .addColumn('escalated_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('fault_repairs_customer_status_idx').on('fault_repairs').columns(['customer_id', 'status']).execute();
  await db.schema.createIndex('fault_repairs_status_idx').on('fault_repairs').columns(['status', 'case_number']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('fault_repairs').execute();
}
