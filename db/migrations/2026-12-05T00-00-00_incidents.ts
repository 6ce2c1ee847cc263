import { sql, type Kysely } from 'kysely';

// Emergency incidents (P2) up to restoration: the notice with its origin and the case it came from,
// the grading (level and the rules that matched, never lowered), the ladder position with its times,
// the expert group (every change a row), the recovery plans (documents through the sign-off, with a
// test step when the manager requires one) and their implementations, the standby unit, the
// restoration and the continuations. Master data: contingency plans, vendor contacts per product
// line, the incident duties (chief engineer, technical director). Statuses are declared in
// workflows/incident/definitions.ts. The sign-off gains a generic `acceptance_test` step (passed /
// failed; a failure sends the version back to its author).

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('incidents')
    .addColumn('case_id', 'uuid', (col) => col.primaryKey().references('cases.id'))
    .addColumn('case_number', 'text', (col) => col.notNull().unique())
    .addColumn('customer_id', 'uuid', (col) => col.notNull().references('customers.id'))
    .addColumn('contact_id', 'uuid', (col) => col.notNull().references('contacts.id'))
    .addColumn('site_id', 'uuid', (col) => col.references('sites.id'))
    .addColumn('device_id', 'uuid', (col) => col.references('devices.id'))
    .addColumn('product_id', 'uuid', (col) => col.references('products.id'))
    .addColumn('origin', 'text', (col) => col.notNull().check(sql`origin in ('desk', 'engineer', 'fault_repair_escalation', 'window_overrun')`))
    .addColumn('origin_case_id', 'uuid', (col) => col.references('cases.id'))
    .addColumn('symptom', 'text', (col) => col.notNull())
    .addColumn('symptom_code', 'text', (col) => col.notNull())
    .addColumn('started_at', 'timestamptz', (col) => col.notNull())
    .addColumn('reported_at', 'timestamptz', (col) => col.notNull())
    .addColumn('reported_by', 'text', (col) => col.notNull())
    .addColumn('reported_by_role', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('registered', 'in_recovery', 'restored', 'closed', 'not_an_incident', 'continued')`))
    .addColumn('level', 'integer', (col) => col.check(sql`level between 1 and 3`))
    .addColumn('rules_level', 'integer', (col) => col.check(sql`rules_level between 1 and 3`))
    .addColumn('grading_rules', 'jsonb')
    .addColumn('impact', 'jsonb')
    .addColumn('graded_at', 'timestamptz')
    .addColumn('graded_by', 'text')
    .addColumn('customer_stated_cause', 'text', (col) => col.check(sql`customer_stated_cause in ('power', 'air_conditioning', 'cable')`))
    .addColumn('customer_cause_statement', 'text')
    .addColumn('continues_case_id', 'uuid', (col) => col.references('cases.id'))
    .addColumn('fault_repair_case_id', 'uuid', (col) => col.references('cases.id'))
    .addColumn('not_an_incident_reason', 'text')
    .addColumn('ladder_level', 'integer', (col) => col.notNull().defaultTo(1).check(sql`ladder_level between 1 and 4`))
    .addColumn('ladder_entered_at', 'timestamptz', (col) => col.notNull())
    .addColumn('next_escalation_at', 'timestamptz')
    .addColumn('arrived_on_site_at', 'timestamptz')
    .addColumn('ladder_history', 'jsonb', (col) => col.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('standby_serial', 'text')
    .addColumn('standby_installed_at', 'timestamptz')
    .addColumn('standby_switched_back_at', 'timestamptz')
    .addColumn('standby_chase_count', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('standby_last_chased_at', 'timestamptz')
    .addColumn('interrupted_at', 'timestamptz')
    .addColumn('restored_at', 'timestamptz')
    .addColumn('close_out_round', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('reopened_count', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('closed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('incidents_standby_switch_back_needs_unit', sql`standby_switched_back_at is null or standby_serial is not null`)
    .execute();
  await db.schema.createIndex('incidents_customer_status_idx').on('incidents').columns(['customer_id', 'status']).execute();
  await db.schema.createIndex('incidents_status_level_idx').on('incidents').columns(['status', 'level']).execute();
  await db.schema.createIndex('incidents_origin_case_idx').on('incidents').column('origin_case_id').execute();
  // The repeat rules read a customer's incidents of the last months.
  await db.schema.createIndex('incidents_customer_started_idx').on('incidents').columns(['customer_id', 'started_at']).execute();

  await db.schema
    .createTable('incident_expert_group_members')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('case_id', 'uuid', (col) => col.notNull().references('incidents.case_id'))
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('users.id'))
    .addColumn('specialty', 'text', (col) => col.notNull().check(sql`specialty in ('host', 'network', 'database', 'application')`))
    .addColumn('coordinator', 'boolean', (col) => col.notNull())
    .addColumn('added_at', 'timestamptz', (col) => col.notNull())
    .addColumn('added_by', 'text', (col) => col.notNull())
    .addColumn('removed_at', 'timestamptz')
    .addColumn('removed_by', 'text')
    .execute();
  await sql`create unique index incident_expert_group_one_active_membership on incident_expert_group_members (case_id, user_id) where removed_at is null`.execute(db);
  await sql`create unique index incident_expert_group_one_coordinator on incident_expert_group_members (case_id) where removed_at is null and coordinator`.execute(db);

  await db.schema
    .createTable('incident_recovery_plans')
    .addColumn('document_id', 'uuid', (col) => col.primaryKey().references('documents.id'))
    .addColumn('case_id', 'uuid', (col) => col.notNull().references('incidents.case_id'))
    .addColumn('test_required', 'boolean', (col) => col.notNull())
    .addColumn('started_by', 'text', (col) => col.notNull())
    .addColumn('started_at', 'timestamptz', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('incident_recovery_plans_case_idx').on('incident_recovery_plans').columns(['case_id', 'started_at']).execute();

  await db.schema
    .createTable('incident_plan_implementations')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('case_id', 'uuid', (col) => col.notNull().references('incidents.case_id'))
    .addColumn('document_id', 'uuid', (col) => col.notNull().references('documents.id'))
    .addColumn('version', 'integer', (col) => col.notNull())
    .addColumn('implemented_by', 'text', (col) => col.notNull().check(sql`implemented_by in ('our_team', 'customer')`))
    .addColumn('implemented_at', 'timestamptz', (col) => col.notNull())
    .addColumn('restored', 'boolean', (col) => col.notNull())
    .addColumn('note', 'text')
    .addColumn('recorded_by', 'text', (col) => col.notNull())
    .addColumn('recorded_at', 'timestamptz', (col) => col.notNull())
    .addUniqueConstraint('incident_plan_implementations_one_per_version', ['document_id', 'version'])
    .execute();

  await db.schema
    .createTable('contingency_plans')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('customer_id', 'uuid', (col) => col.notNull().references('customers.id'))
    .addColumn('site_id', 'uuid', (col) => col.references('sites.id'))
    .addColumn('product_id', 'uuid', (col) => col.references('products.id'))
    .addColumn('title', 'text', (col) => col.notNull())
    .addColumn('steps', 'jsonb', (col) => col.notNull())
    .addColumn('owner_user_id', 'uuid', (col) => col.notNull().references('users.id'))
    .addColumn('created_by', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('contingency_plans_customer_idx').on('contingency_plans').columns(['customer_id', 'created_at']).execute();

  await db.schema
    .createTable('incident_contingency_plans')
    .addColumn('case_id', 'uuid', (col) => col.notNull().references('incidents.case_id'))
    .addColumn('contingency_plan_id', 'uuid', (col) => col.notNull().references('contingency_plans.id'))
    .addColumn('started_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('incident_contingency_plans_pk', ['case_id', 'contingency_plan_id'])
    .execute();

  await db.schema
    .createTable('vendor_contacts')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('product_line', 'text', (col) => col.notNull().check(sql`product_line in ('network', 'storage', 'server', 'nms')`))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('email', 'text', (col) => col.notNull())
    .addColumn('created_by', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('vendor_contacts_one_per_line_and_email', ['product_line', 'email'])
    .execute();

  await db.schema
    .createTable('incident_duties')
    .addColumn('duty', 'text', (col) => col.primaryKey().check(sql`duty in ('chief_engineer', 'technical_director')`))
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('users.id'))
    .addColumn('assigned_by', 'text', (col) => col.notNull())
    .addColumn('assigned_at', 'timestamptz', (col) => col.notNull())
    .execute();

  // The sign-off's generic test step: passed lets the version go on, failed sends it back to its author.
  await sql`alter table documents drop constraint documents_steps_check`.execute(db);
  await sql`alter table documents add constraint documents_steps_check
    check (cardinality(steps) > 0 and steps <@ array['technical_review', 'manager_approval', 'rd_review', 'acceptance_test', 'customer_signature']::text[])`.execute(db);
  await sql`alter table document_decisions drop constraint document_decisions_step_check`.execute(db);
  await sql`alter table document_decisions drop constraint document_decisions_decision_check`.execute(db);
  await sql`alter table document_decisions add constraint document_decisions_step_check
    check (step in ('technical_review', 'manager_approval', 'rd_review', 'acceptance_test', 'customer_signature', 'withdrawal', 'reopening'))`.execute(db);
  await sql`alter table document_decisions add constraint document_decisions_decision_check
    check (decision in ('approved', 'rejected', 'signed', 'objected', 'passed', 'failed', 'withdrawn', 'reopened'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table document_decisions drop constraint document_decisions_step_check`.execute(db);
  await sql`alter table document_decisions drop constraint document_decisions_decision_check`.execute(db);
  await sql`alter table document_decisions add constraint document_decisions_step_check
    check (step in ('technical_review', 'manager_approval', 'rd_review', 'customer_signature', 'withdrawal', 'reopening'))`.execute(db);
  await sql`alter table document_decisions add constraint document_decisions_decision_check
    check (decision in ('approved', 'rejected', 'signed', 'objected', 'withdrawn', 'reopened'))`.execute(db);
  await sql`alter table documents drop constraint documents_steps_check`.execute(db);
  await sql`alter table documents add constraint documents_steps_check
    check (cardinality(steps) > 0 and steps <@ array['technical_review', 'manager_approval', 'rd_review', 'customer_signature']::text[])`.execute(db);
  for (const table of ['incident_duties', 'vendor_contacts', 'incident_contingency_plans', 'contingency_plans', 'incident_plan_implementations', 'incident_recovery_plans', 'incident_expert_group_members', 'incidents']) {
    await db.schema.dropTable(table).execute();
  }
}
