import { sql, type Kysely } from 'kysely';

// Batch rectification campaigns (P3): the campaign (one case, kind batch_rectification, numbered RC-),
// its customers and its devices, each with a status; progress is read from these rows by SQL, never from
// workflow histories. A campaign spans many customers, so its case has no single customer.
// Customer master data read by the site's slot rule: recurring busy hours and dated protected periods.
// Statuses are declared in workflows/rectification/definitions.ts (test/db/status-constraints.test.ts
// holds the CHECKs to them). Document kinds for the plan (management approval), the customer's agreement
// and the site's rectification report.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table cases alter column customer_id drop not null`.execute(db);
  await sql`alter table cases add constraint cases_customer_required check (customer_id is not null or kind = 'batch_rectification')`.execute(db);

  await sql`alter table documents drop constraint documents_kind_check`.execute(db);
  await sql`alter table documents add constraint documents_kind_check
    check (kind in ('repair_plan', 'service_report', 'fault_report', 'recovery_plan', 'implementation_plan', 'write_up', 'incident_report',
      'rectification_plan', 'rectification_agreement', 'rectification_report'))`.execute(db);

  await db.schema
    .createTable('rectification_campaigns')
    .addColumn('case_id', 'uuid', (col) => col.primaryKey().references('cases.id'))
    .addColumn('case_number', 'text', (col) => col.notNull().unique())
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('planning', 'rolling_out', 'completed')`))
    .addColumn('title', 'text', (col) => col.notNull())
    .addColumn('defect_type', 'text', (col) => col.notNull().check(sql`defect_type in ('design', 'production', 'component_batch', 'software_bug')`))
    .addColumn('description', 'text', (col) => col.notNull())
    // The warning as raised: product codes, serials and serial ranges.
    .addColumn('affected', 'jsonb', (col) => col.notNull())
    .addColumn('solution', 'jsonb', (col) => col.notNull())
    .addColumn('solution_kind', 'text', (col) => col.notNull().check(sql`solution_kind in ('software', 'hardware')`))
    .addColumn('effort_hours_per_device', sql`numeric(8, 2)`, (col) => col.notNull().check(sql`effort_hours_per_device >= 0`))
    .addColumn('effort_parts_per_device', 'jsonb', (col) => col.notNull())
    .addColumn('high_risk', 'boolean', (col) => col.notNull())
    // Totals of the plan, computed once from the installed base when the campaign is raised.
    .addColumn('device_count', 'integer', (col) => col.notNull().check(sql`device_count > 0`))
    .addColumn('site_count', 'integer', (col) => col.notNull())
    .addColumn('customer_count', 'integer', (col) => col.notNull())
    .addColumn('total_hours', sql`numeric(12, 2)`, (col) => col.notNull())
    .addColumn('total_parts', 'jsonb', (col) => col.notNull())
    .addColumn('plan_document_id', 'uuid', (col) => col.notNull().references('documents.id'))
    // How the rollout runs: customers at once, and the history length at which the campaign continues as new.
    .addColumn('customers_at_once', 'integer', (col) => col.notNull().defaultTo(20).check(sql`customers_at_once between 1 and 1000`))
    .addColumn('history_limit', 'integer', (col) => col.notNull().defaultTo(5000).check(sql`history_limit between 20 and 50000`))
    .addColumn('raised_by', 'text', (col) => col.notNull())
    .addColumn('raised_by_role', 'text', (col) => col.notNull())
    .addColumn('raised_by_user_id', 'uuid', (col) => col.references('users.id'))
    .addColumn('approved_at', 'timestamptz')
    .addColumn('completed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('rectification_campaigns_status_idx').on('rectification_campaigns').columns(['status', 'created_at']).execute();

  await db.schema
    .createTable('rectification_customers')
    .addColumn('campaign_case_id', 'uuid', (col) => col.notNull().references('rectification_campaigns.case_id'))
    .addColumn('customer_id', 'uuid', (col) => col.notNull().references('customers.id'))
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('pending', 'awaiting_agreement', 'in_progress', 'completed', 'declined')`))
    // The campaign starts customers in numbered batches; a retried claim finds its batch by number.
    .addColumn('batch', 'integer')
    .addColumn('agreement_document_id', 'uuid', (col) => col.references('documents.id'))
    .addColumn('agreed_at', 'timestamptz')
    .addColumn('declined_at', 'timestamptz')
    .addColumn('declined_by', 'text')
    .addColumn('decline_reason', 'text')
    .addColumn('decline_evidence_ids', sql`uuid[]`)
    .addColumn('completed_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('rectification_customers_pkey', ['campaign_case_id', 'customer_id'])
    .addCheckConstraint('rectification_customers_declined_with_proof', sql`status <> 'declined' or cardinality(decline_evidence_ids) > 0`)
    .execute();
  await db.schema.createIndex('rectification_customers_batch_idx').on('rectification_customers').columns(['campaign_case_id', 'batch']).execute();
  await db.schema.createIndex('rectification_customers_customer_idx').on('rectification_customers').columns(['customer_id']).execute();

  await db.schema
    .createTable('rectification_devices')
    .addColumn('campaign_case_id', 'uuid', (col) => col.notNull().references('rectification_campaigns.case_id'))
    .addColumn('device_id', 'uuid', (col) => col.notNull().references('devices.id'))
    .addColumn('customer_id', 'uuid', (col) => col.notNull().references('customers.id'))
    // null: the device has no site on record (a software fix the customer applies).
    .addColumn('site_id', 'uuid', (col) => col.references('sites.id'))
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('awaiting_agreement', 'declined', 'awaiting_customer_apply', 'site_work', 'rectified', 'failed')`),
    )
    .addColumn('applied_by', 'text')
    .addColumn('engineer_requested_at', 'timestamptz')
    .addColumn('decline_evidence_ids', sql`uuid[]`)
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('rectification_devices_pkey', ['campaign_case_id', 'device_id'])
    .execute();
  await db.schema.createIndex('rectification_devices_customer_idx').on('rectification_devices').columns(['campaign_case_id', 'customer_id', 'status']).execute();
  await db.schema.createIndex('rectification_devices_site_idx').on('rectification_devices').columns(['campaign_case_id', 'site_id', 'status']).execute();

  await db.schema
    .createTable('customer_busy_hours')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('customer_id', 'uuid', (col) => col.notNull().references('customers.id'))
    // ISO weekday: 1 Monday .. 7 Sunday; minutes after midnight, China time.
    .addColumn('weekday', 'integer', (col) => col.notNull().check(sql`weekday between 1 and 7`))
    .addColumn('start_minute', 'integer', (col) => col.notNull().check(sql`start_minute between 0 and 1439`))
    .addColumn('end_minute', 'integer', (col) => col.notNull().check(sql`end_minute between 1 and 1440`))
    .addColumn('note', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('customer_busy_hours_order', sql`end_minute > start_minute`)
    .execute();
  await db.schema.createIndex('customer_busy_hours_customer_idx').on('customer_busy_hours').columns(['customer_id', 'weekday']).execute();

  await db.schema
    .createTable('customer_protected_periods')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('customer_id', 'uuid', (col) => col.notNull().references('customers.id'))
    .addColumn('starts_on', 'date', (col) => col.notNull())
    .addColumn('ends_on', 'date', (col) => col.notNull())
    .addColumn('reason', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('customer_protected_periods_order', sql`ends_on >= starts_on`)
    .execute();
  await db.schema.createIndex('customer_protected_periods_customer_idx').on('customer_protected_periods').columns(['customer_id', 'starts_on']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('customer_protected_periods').execute();
  await db.schema.dropTable('customer_busy_hours').execute();
  await db.schema.dropTable('rectification_devices').execute();
  await db.schema.dropTable('rectification_customers').execute();
  await db.schema.dropTable('rectification_campaigns').execute();
  await sql`alter table documents drop constraint documents_kind_check`.execute(db);
  await sql`alter table documents add constraint documents_kind_check
    check (kind in ('repair_plan', 'service_report', 'fault_report', 'recovery_plan', 'implementation_plan', 'write_up', 'incident_report'))`.execute(db);
  await sql`alter table cases drop constraint cases_customer_required`.execute(db);
  await sql`alter table cases alter column customer_id set not null`.execute(db);
}
