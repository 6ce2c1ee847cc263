import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('customers')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('code', 'text', (col) => col.notNull().unique())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('customer_class', 'text', (col) => col.notNull().check(sql`customer_class in ('A', 'B', 'C')`))
    .addColumn('sla_class', 'text', (col) =>
      col.notNull().check(sql`sla_class in ('5x8', '7x24', 'NBD', 'ND', '30CD', '4H', '2H')`),
    )
    .addColumn('billing_day', 'integer', (col) => col.notNull().check(sql`billing_day between 1 and 28`))
    .addColumn('spare_part_first', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('service_downgrade', 'text', (col) =>
      col.notNull().defaultTo('none').check(sql`service_downgrade in ('none', 'return_for_repair')`),
    )
    .addColumn('downgraded_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('contacts')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('customer_id', 'uuid', (col) => col.notNull().references('customers.id'))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('email', 'text', (col) => col.notNull())
    .addColumn('phone', 'text')
    .addColumn('locale', 'text', (col) => col.notNull().defaultTo('zh-CN').check(sql`locale in ('zh-CN', 'en')`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('contacts_customer_email_unique', ['customer_id', 'email'])
    .execute();

  await db.schema
    .createTable('sites')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('customer_id', 'uuid', (col) => col.notNull().references('customers.id'))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('city', 'text', (col) => col.notNull())
    .addColumn('address', 'text')
    .addColumn('distance_km', 'integer', (col) => col.notNull().check(sql`distance_km >= 0`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('products')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('code', 'text', (col) => col.notNull().unique())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('product_line', 'text', (col) =>
      col.notNull().check(sql`product_line in ('network', 'storage', 'server', 'nms')`),
    )
    .addColumn('list_price_cents', 'integer', (col) => col.notNull().check(sql`list_price_cents >= 0`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('devices')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('serial', 'text', (col) => col.notNull().unique())
    .addColumn('product_id', 'uuid', (col) => col.notNull().references('products.id'))
    .addColumn('customer_id', 'uuid', (col) => col.notNull().references('customers.id'))
    .addColumn('site_id', 'uuid', (col) => col.references('sites.id'))
    .addColumn('warranty_end', 'date')
    .addColumn('first_power_on_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('devices_customer_idx').on('devices').column('customer_id').execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('email', 'text', (col) => col.notNull().unique())
    .addColumn('role', 'text', (col) =>
      col
        .notNull()
        .check(
          sql`role in ('manager', 'engineer', 'senior_engineer', 'service_desk', 'rd_reviewer', 'billing', 'admin')`,
        ),
    )
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('disabled_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('cases')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('kind', 'text', (col) =>
      col
        .notNull()
        .check(sql`kind in ('fault_repair', 'incident', 'batch_rectification', 'spare_part', 'doa_rma')`),
    )
    .addColumn('number', 'text', (col) => col.notNull().unique())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('customer_id', 'uuid', (col) => col.notNull().references('customers.id'))
    .addColumn('device_id', 'uuid', (col) => col.references('devices.id'))
    .addColumn('workflow_id', 'text', (col) => col.notNull().unique())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('closed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('cases_customer_kind_idx').on('cases').columns(['customer_id', 'kind', 'status']).execute();

  await db.schema
    .createTable('case_number_counters')
    .addColumn('prefix', 'text', (col) => col.notNull())
    .addColumn('year', 'integer', (col) => col.notNull())
    .addColumn('last_value', 'integer', (col) => col.notNull())
    .addPrimaryKeyConstraint('case_number_counters_pk', ['prefix', 'year'])
    .execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('case_id', 'uuid', (col) => col.references('cases.id'))
    .addColumn('occurred_at', 'timestamptz', (col) => col.notNull())
    .addColumn('actor', 'text', (col) => col.notNull())
    .addColumn('actor_role', 'text', (col) => col.notNull())
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('comment', 'text')
    .addColumn('data', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('idempotency_key', 'text', (col) => col.unique())
    .execute();
  await db.schema.createIndex('audit_events_case_idx').on('audit_events').columns(['case_id', 'id']).execute();
  // Append-only: a correction is a new entry, so the table refuses updates and deletes.
  await sql`
    create function audit_events_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_events is append-only';
    end;
    $$`.execute(db);
  await sql`
    create trigger audit_events_no_update_or_delete before update or delete on audit_events
    for each row execute function audit_events_append_only()`.execute(db);

  await db.schema
    .createTable('email_outbox')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('idempotency_key', 'text', (col) => col.notNull().unique())
    .addColumn('case_id', 'uuid', (col) => col.references('cases.id'))
    .addColumn('recipient', 'text', (col) => col.notNull())
    .addColumn('locale', 'text', (col) => col.notNull())
    .addColumn('template', 'text', (col) => col.notNull())
    .addColumn('subject', 'text', (col) => col.notNull())
    .addColumn('body_text', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col.notNull().defaultTo('pending').check(sql`status in ('pending', 'sending', 'sent', 'failed')`),
    )
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('lease_until', 'timestamptz')
    .addColumn('provider_message_id', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('email_outbox_case_idx').on('email_outbox').column('case_id').execute();

  await db.schema
    .createTable('invoice_lines')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('customer_id', 'uuid', (col) => col.notNull().references('customers.id'))
    .addColumn('case_id', 'uuid', (col) => col.references('cases.id'))
    .addColumn('billing_cycle', 'text', (col) => col.notNull().check(sql`billing_cycle ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'`))
    .addColumn('description', 'text', (col) => col.notNull())
    .addColumn('amount_cents', 'integer', (col) => col.notNull())
    .addColumn('currency', 'text', (col) => col.notNull().defaultTo('CNY'))
    .addColumn('source_ref', 'text', (col) => col.notNull().unique())
    .addColumn('issued_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('invoice_lines_customer_cycle_idx')
    .on('invoice_lines')
    .columns(['customer_id', 'billing_cycle'])
    .execute();

  await db.schema
    .createTable('signed_link_uses')
    .addColumn('token_id', 'text', (col) => col.primaryKey())
    .addColumn('case_id', 'text', (col) => col.notNull())
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('used_at', 'timestamptz', (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'signed_link_uses',
    'invoice_lines',
    'email_outbox',
    'audit_events',
    'case_number_counters',
    'cases',
    'users',
    'devices',
    'products',
    'sites',
    'contacts',
    'customers',
  ]) {
    await db.schema.dropTable(table).execute();
  }
  await sql`drop function audit_events_append_only()`.execute(db);
}
