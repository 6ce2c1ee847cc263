import { sql, type Kysely } from 'kysely';

/**
 * Each customer's daily maintenance window for high-risk work, in minutes after midnight China time
 * (UTC+8): 00:00-05:00 unless agreed otherwise. A window never spans midnight (start < end <= 1440).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table customers
    add column maintenance_window_start_minute integer not null default 0
      constraint customers_maintenance_window_start_check check (maintenance_window_start_minute between 0 and 1440),
    add column maintenance_window_end_minute integer not null default 300
      constraint customers_maintenance_window_end_check check (maintenance_window_end_minute between 0 and 1440),
    add constraint customers_maintenance_window_check check (maintenance_window_start_minute < maintenance_window_end_minute)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table customers
    drop constraint customers_maintenance_window_check,
    drop column maintenance_window_end_minute,
    drop column maintenance_window_start_minute`.execute(db);
}
