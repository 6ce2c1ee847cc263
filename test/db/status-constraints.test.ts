import { sql } from 'kysely';
import { DOA_CLAIM_STATUSES } from '../../workflows/doa-claim/definitions';
import { INCIDENT_CLOSE_OUT_STATUSES, SUMMARY_REPORT_STATES } from '../../workflows/incident-close-out/definitions';
import { DOCUMENT_KINDS } from '../../workflows/sign-off/definitions';
import { CONTACT_ROLES } from '../../db/schema';
import { GOODS_CLAIM_KINDS, GOODS_CLAIM_STATUSES } from '../../workflows/goods-claim/definitions';
import { INCIDENT_STATUSES } from '../../workflows/incident/definitions';
import { RECTIFICATION_CAMPAIGN_STATUSES, RECTIFICATION_CUSTOMER_STATUSES, RECTIFICATION_DEFECT_TYPES, RECTIFICATION_DEVICE_STATUSES } from '../../workflows/rectification/definitions';
import { PART_DISPOSITIONS, RECTIFICATION_SITE_STATUSES, RETURNED_PART_STATUSES, SLOT_MOVE_REASONS } from '../../workflows/rectification/site-definitions';
import { SPARE_PART_OPEN_STATUSES, SPARE_PART_STATUSES } from '../../workflows/spare-part/definitions';
import { RMA_PART_STATUSES, RMA_REPAIR_STATUSES } from '../../workflows/rma-repair/definitions';
import { createTestDatabase, type TestDatabase } from '../support/db';

// Each process declares its statuses once (an `as const` list beside its workflow). The types and the
// API enum derive from it in code; the database's CHECK constraint and partial index are written in
// migrations, so this test holds them to the same list: adding a status without a migration fails here.

/** The quoted values of an `x in ('a', 'b')` / `x = ANY (ARRAY['a'::text, ...])` definition, sorted. */
function quotedValues(definition: string): string[] {
  return [...definition.matchAll(/'([^']*)'/g)].map((match) => match[1]!).sort();
}

describe('status lists in the database match the ones declared in code', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  test("spare_part_loans.status: the CHECK allows exactly SPARE_PART_STATUSES", async () => {
    const { rows } = await sql<{ definition: string }>`
      select pg_get_constraintdef(c.oid) as definition
      from pg_constraint c join pg_class t on t.oid = c.conrelid
      where t.relname = 'spare_part_loans' and c.contype = 'c' and pg_get_constraintdef(c.oid) like '%status%'
        and pg_get_constraintdef(c.oid) not like '%write_off_reason%'`.execute(database.db);
    expect(rows).toHaveLength(1);
    expect(quotedValues(rows[0]!.definition)).toEqual([...SPARE_PART_STATUSES].sort());
  });

  test('one open loan per device: the partial unique index covers exactly SPARE_PART_OPEN_STATUSES', async () => {
    const { rows } = await sql<{ definition: string }>`
      select indexdef as definition from pg_indexes where indexname = 'spare_part_loans_one_open_per_device'`.execute(database.db);
    expect(rows).toHaveLength(1);
    expect(quotedValues(rows[0]!.definition.slice(rows[0]!.definition.indexOf('WHERE')))).toEqual([...SPARE_PART_OPEN_STATUSES].sort());
  });

  test('rma_repairs.status and rma_repair_parts.status: the CHECKs allow exactly RMA_REPAIR_STATUSES and RMA_PART_STATUSES', async () => {
    const statusCheck = async (table: string) => {
      const { rows } = await sql<{ definition: string }>`
        select pg_get_constraintdef(c.oid) as definition
        from pg_constraint c join pg_class t on t.oid = c.conrelid
        where t.relname = ${table} and c.contype = 'c' and c.conname = ${`${table}_status_check`}`.execute(database.db);
      expect(rows).toHaveLength(1);
      return quotedValues(rows[0]!.definition);
    };
    expect(await statusCheck('rma_repairs')).toEqual([...RMA_REPAIR_STATUSES].sort());
    expect(await statusCheck('rma_repair_parts')).toEqual([...RMA_PART_STATUSES].sort());
  });

  test('doa_claims.status: the CHECK allows exactly DOA_CLAIM_STATUSES', async () => {
    const { rows } = await sql<{ definition: string }>`
      select pg_get_constraintdef(c.oid) as definition
      from pg_constraint c join pg_class t on t.oid = c.conrelid
      where t.relname = 'doa_claims' and c.contype = 'c' and pg_get_constraintdef(c.oid) like '%status%'`.execute(database.db);
    expect(rows).toHaveLength(1);
    expect(quotedValues(rows[0]!.definition)).toEqual([...DOA_CLAIM_STATUSES].sort());
  });

  test('goods_claims.status and .kind: the CHECKs allow exactly GOODS_CLAIM_STATUSES and GOODS_CLAIM_KINDS', async () => {
    const check = async (name: string) => {
      const { rows } = await sql<{ definition: string }>`
        select pg_get_constraintdef(c.oid) as definition
        from pg_constraint c join pg_class t on t.oid = c.conrelid
        where t.relname = 'goods_claims' and c.contype = 'c' and c.conname = ${name}`.execute(database.db);
      expect(rows).toHaveLength(1);
      return quotedValues(rows[0]!.definition);
    };
    expect(await check('goods_claims_status_check')).toEqual([...GOODS_CLAIM_STATUSES].sort());
    expect(await check('goods_claims_kind_check')).toEqual([...GOODS_CLAIM_KINDS].sort());
  });

  test('incidents.status: the CHECK allows exactly INCIDENT_STATUSES', async () => {
    const { rows } = await sql<{ definition: string }>`
      select pg_get_constraintdef(c.oid) as definition
      from pg_constraint c join pg_class t on t.oid = c.conrelid
      where t.relname = 'incidents' and c.contype = 'c' and c.conname = 'incidents_status_check'`.execute(database.db);
    expect(rows).toHaveLength(1);
    expect(quotedValues(rows[0]!.definition)).toEqual([...INCIDENT_STATUSES].sort());
  });

  test('incident_close_outs.status and .summary_state, contacts.role and documents.kind: the CHECKs allow exactly INCIDENT_CLOSE_OUT_STATUSES, SUMMARY_REPORT_STATES, CONTACT_ROLES and DOCUMENT_KINDS', async () => {
    const check = async (table: string, name: string) => {
      const { rows } = await sql<{ definition: string }>`
        select pg_get_constraintdef(c.oid) as definition
        from pg_constraint c join pg_class t on t.oid = c.conrelid
        where t.relname = ${table} and c.contype = 'c' and c.conname = ${name}`.execute(database.db);
      expect(rows).toHaveLength(1);
      return quotedValues(rows[0]!.definition);
    };
    expect(await check('incident_close_outs', 'incident_close_outs_status_check')).toEqual([...INCIDENT_CLOSE_OUT_STATUSES].sort());
    expect(await check('incident_close_outs', 'incident_close_outs_summary_state_check')).toEqual([...SUMMARY_REPORT_STATES].sort());
    expect(await check('contacts', 'contacts_role_check')).toEqual([...CONTACT_ROLES].sort());
    expect(await check('documents', 'documents_kind_check')).toEqual([...DOCUMENT_KINDS].sort());
  });

  test('rectification campaigns, customers and devices: the CHECKs allow exactly the statuses and defect types declared in workflows/rectification/definitions.ts', async () => {
    const check = async (table: string, name: string) => {
      const { rows } = await sql<{ definition: string }>`
        select pg_get_constraintdef(c.oid) as definition
        from pg_constraint c join pg_class t on t.oid = c.conrelid
        where t.relname = ${table} and c.contype = 'c' and c.conname = ${name}`.execute(database.db);
      expect(rows).toHaveLength(1);
      return quotedValues(rows[0]!.definition);
    };
    expect(await check('rectification_campaigns', 'rectification_campaigns_status_check')).toEqual([...RECTIFICATION_CAMPAIGN_STATUSES].sort());
    expect(await check('rectification_campaigns', 'rectification_campaigns_defect_type_check')).toEqual([...RECTIFICATION_DEFECT_TYPES].sort());
    expect(await check('rectification_customers', 'rectification_customers_status_check')).toEqual([...RECTIFICATION_CUSTOMER_STATUSES].sort());
    expect(await check('rectification_devices', 'rectification_devices_status_check')).toEqual([...RECTIFICATION_DEVICE_STATUSES].sort());
  });

  test('rectification sites, slot moves and returned parts: the CHECKs allow exactly what workflows/rectification/site-definitions.ts declares', async () => {
    const check = async (table: string, name: string) => {
      const { rows } = await sql<{ definition: string }>`
        select pg_get_constraintdef(c.oid) as definition
        from pg_constraint c join pg_class t on t.oid = c.conrelid
        where t.relname = ${table} and c.contype = 'c' and c.conname = ${name}`.execute(database.db);
      expect(rows).toHaveLength(1);
      return quotedValues(rows[0]!.definition);
    };
    expect(await check('rectification_sites', 'rectification_sites_status_check')).toEqual([...RECTIFICATION_SITE_STATUSES].sort());
    expect(await check('rectification_slot_moves', 'rectification_slot_moves_reason_check')).toEqual([...SLOT_MOVE_REASONS].sort());
    expect(await check('rectification_returned_parts', 'rectification_returned_parts_disposition_check')).toEqual([...PART_DISPOSITIONS].sort());
    expect(await check('rectification_returned_parts', 'rectification_returned_parts_status_check')).toEqual([...RETURNED_PART_STATUSES].sort());
  });
});
