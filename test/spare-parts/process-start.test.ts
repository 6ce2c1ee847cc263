import type { Client } from '@temporalio/client';
import { Migrator, sql } from 'kysely';
import pino from 'pino';
import request from 'supertest';
import { createMailer, type Mailer } from '../../activities/shared/mailer';
import { startCaseWorkflow } from '../../api/shared/case-processes';
import { checkProcessConsistency } from '../../api/shared/process-consistency';
import { startMissingProcesses } from '../../api/shared/process-starts';
import { sparePartProcess } from '../../api/spare-part/registration';
import { migrateToLatest } from '../../db';
import { migrations } from '../../db/migrations';
import { nextCaseNumber } from '../../db/repositories/cases';
import { sparePartWorkflowId } from '../../workflows/spare-part/definitions';
import { createTestApp, testConfig } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';

const silent = pino({ level: 'silent' });
const sequenceOf = (number: string) => Number(number.slice(-6));

/** The Temporal client with `workflow.start` failing the next `failures` times, as if the API died or Temporal refused. */
function clientWhoseStartFails(client: Client, failures: number): Client {
  let left = failures;
  const workflow = new Proxy(client.workflow, {
    get(target, property, receiver) {
      if (property === 'start' && left > 0) {
        return () => {
          left--;
          return Promise.reject(new Error('test: Temporal unreachable'));
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return new Proxy(client, {
    get(target, property) {
      if (property === 'workflow') return workflow;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('starting a process: the case commits first, then its workflow starts; nothing is orphaned or blocked', () => {
  let h: ProcessHarness;
  let mailer: Mailer;
  let customerId: string;
  let contactId: string;
  const as = (role: 'manager' | 'service_desk' | 'admin') => ({ Authorization: `Bearer ${h.tokens[role]}` });

  async function addDevice(serial: string): Promise<void> {
    const product = await h.database.db.selectFrom('products').select('id').executeTakeFirstOrThrow();
    await h.database.db
      .insertInto('devices')
      .values({ serial, product_id: product.id, customer_id: customerId, site_id: null, warranty_end: '2027-03-31', first_power_on_at: null })
      .execute();
  }

  const application = (serial: string, faultDescription = 'board dead') => ({ customerId, contactId, failedSerial: serial, faultDescription, deliveryAddress: '1 Bund, Shanghai' });
  const apply = (app: ReturnType<typeof createTestApp>, serial: string, faultDescription?: string) =>
    request(app).post('/spare-parts').set(as('service_desk')).send(application(serial, faultDescription));

  /** An app like the harness's whose Temporal client fails the next `failures` starts. */
  function appWithFailingStarts(failures: number) {
    return createTestApp(h.database.db, {
      temporal: clientWhoseStartFails(h.env.client, failures),
      config: { ...testConfig, temporal: { ...testConfig.temporal, taskQueue: h.taskQueue } },
      mailer,
      logger: silent,
    });
  }

  const runsOf = async (workflowId: string) => {
    const runs: string[] = [];
    for await (const execution of h.env.client.workflow.list({ query: `TaskQueue = '${h.taskQueue}'` })) if (execution.workflowId === workflowId) runs.push(execution.runId);
    return runs;
  };

  beforeAll(async () => {
    h = await startProcessHarness();
    await h.startWorker();
    mailer = createMailer({ smtpUrl: h.smtp.url, mailFrom: 'fieldops <noreply@fieldops.test>', dataDir: 'var' });
    const db = h.database.db;
    customerId = (
      await db
        .insertInto('customers')
        .values({ code: 'CT-SH', name: 'China Telecom Shanghai', customer_class: 'A', sla_class: '7x24', billing_day: 25, spare_part_first: true, downgraded_at: null })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    contactId = (await db.insertInto('contacts').values({ customer_id: customerId, name: 'Zhang Wei', email: 'zhangwei@ct.test', locale: 'en', phone: null }).returning('id').executeTakeFirstOrThrow()).id;
    await db.insertInto('products').values({ code: 'OSN-1800', name: 'OTN board', product_line: 'network', list_price_cents: 500_000 }).execute();
  }, 120_000);

  afterAll(async () => {
    mailer?.close();
    await h?.close();
  });

  test('a start interrupted after the commit: the answer is still 201, the next application gets a new number, and startMissingProcesses starts the interrupted one', async () => {
    await addDevice('SN-INTERRUPTED');
    const interrupted = await apply(appWithFailingStarts(1), 'SN-INTERRUPTED');
    expect(interrupted.status).toBe(201);
    expect(interrupted.body).toMatchObject({ status: 'pending_approval', failedSerial: 'SN-INTERRUPTED' });
    const interruptedNumber: string = interrupted.body.loanNumber;
    expect(await runsOf(sparePartWorkflowId(interruptedNumber))).toEqual([]);

    // Nothing is blocked: the next application (another device) gets the next number and its workflow.
    await addDevice('SN-NEXT');
    const next = await apply(h.app, 'SN-NEXT');
    expect(next.status).toBe(201);
    expect(next.body.loanNumber).not.toBe(interruptedNumber);
    expect(sequenceOf(next.body.loanNumber)).toBe(sequenceOf(interruptedNumber) + 1);
    expect((await request(h.app).post(`/spare-parts/${next.body.loanNumber}/approve`).set(as('manager')).send({})).status).toBe(200);

    // Until it is started, the interrupted case is an orphan and its steps are refused.
    const report = await checkProcessConsistency(h.database.db, h.env.client, { taskQueue: h.taskQueue, graceMs: 0 });
    expect(report.orphanedCases).toEqual([expect.objectContaining({ caseNumber: interruptedNumber, problem: 'workflow_missing' })]);
    const early = await request(h.app).post(`/spare-parts/${interruptedNumber}/approve`).set(as('manager')).send({});
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('process_not_running');

    // Young cases are left to the request that registers them.
    expect((await startMissingProcesses(h.database.db, h.env.client, { taskQueue: h.taskQueue, logger: silent })).started).toEqual([]);

    const recovered = await startMissingProcesses(h.database.db, h.env.client, { taskQueue: h.taskQueue, logger: silent, graceMs: 0 });
    expect(recovered).toEqual({ checked: 1, started: [interruptedNumber], alreadyStarted: [], failed: [] });
    const approved = await request(h.app).post(`/spare-parts/${interruptedNumber}/approve`).set(as('manager')).send({});
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('approved');
    expect((await checkProcessConsistency(h.database.db, h.env.client, { taskQueue: h.taskQueue, graceMs: 0 })).orphanedCases).toEqual([]);
    // A second round finds nothing to do (the approved case is no longer in its start status).
    expect(await startMissingProcesses(h.database.db, h.env.client, { taskQueue: h.taskQueue, logger: silent, graceMs: 0 })).toEqual({ checked: 0, started: [], alreadyStarted: [], failed: [] });
  });

  test('a case whose start keeps failing is reported as failed and picked up by a later round', async () => {
    await addDevice('SN-DOWN');
    const applied = await apply(appWithFailingStarts(1), 'SN-DOWN');
    expect(applied.status).toBe(201);
    const number: string = applied.body.loanNumber;
    const down = await startMissingProcesses(h.database.db, clientWhoseStartFails(h.env.client, 1), { taskQueue: h.taskQueue, logger: silent, graceMs: 0 });
    expect(down.started).toEqual([]);
    expect(down.failed).toEqual([{ caseNumber: number, error: 'test: Temporal unreachable' }]);
    const up = await startMissingProcesses(h.database.db, h.env.client, { taskQueue: h.taskQueue, logger: silent, graceMs: 0 });
    expect(up.started).toEqual([number]);
    expect((await h.env.client.workflow.getHandle(sparePartWorkflowId(number)).describe()).status.name).toBe('RUNNING');
  });

  test('two concurrent applications get two different numbers', async () => {
    await addDevice('SN-PAR-1');
    await addDevice('SN-PAR-2');
    const [first, second] = await Promise.all([apply(h.app, 'SN-PAR-1'), apply(h.app, 'SN-PAR-2')]);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(first.body.loanNumber).not.toBe(second.body.loanNumber);
    for (const number of [first.body.loanNumber as string, second.body.loanNumber as string]) {
      expect((await h.env.client.workflow.getHandle(sparePartWorkflowId(number)).describe()).status.name).toBe('RUNNING');
    }
  });

  test('many first numbers of a new prefix and year at once: the sequence is created once and every number is different', async () => {
    const numbers = await Promise.all(Array.from({ length: 20 }, () => nextCaseNumber(h.database.db, 'ZZ', 2031)));
    expect(new Set(numbers).size).toBe(20);
    expect(numbers.map(sequenceOf).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
    await expect(h.database.db.transaction().execute((trx) => nextCaseNumber(trx, 'ZZ', 2031))).rejects.toThrow(/outside a transaction/);
  });

  test('a number is never handed out again after its registration failed (eligibility passed, the insert failed)', async () => {
    const db = h.database.db;
    // The loan insert fails for this one application, after the number was taken and the case row inserted.
    await sql`create function test_fail_loan_insert() returns trigger language plpgsql as $$
      begin
        if new.fault_description = 'FAIL THE INSERT' then raise exception 'test: the loan insert failed'; end if;
        return new;
      end $$`.execute(db);
    await sql`create trigger test_fail_loan_insert before insert on spare_part_loans for each row execute function test_fail_loan_insert()`.execute(db);
    try {
      await addDevice('SN-BEFORE');
      const before: string = (await apply(h.app, 'SN-BEFORE')).body.loanNumber;
      await addDevice('SN-FAILS');
      const failed = await apply(h.app, 'SN-FAILS', 'FAIL THE INSERT');
      expect(failed.status).toBe(500);
      expect(await db.selectFrom('cases').select('number').where('number', '>', before).where('kind', '=', 'spare_part').execute()).toEqual([]);

      const retried = await apply(h.app, 'SN-FAILS');
      expect(retried.status).toBe(201);
      // before + 1 went to the failed registration: a gap, not a duplicate.
      expect(sequenceOf(retried.body.loanNumber)).toBe(sequenceOf(before) + 2);
      expect((await h.env.client.workflow.getHandle(sparePartWorkflowId(retried.body.loanNumber)).describe()).status.name).toBe('RUNNING');
    } finally {
      await sql`drop trigger test_fail_loan_insert on spare_part_loans`.execute(db);
      await sql`drop function test_fail_loan_insert()`.execute(db);
    }
  });

  test('starting the same case twice, or at the same time, is harmless: one workflow', async () => {
    await addDevice('SN-TWICE');
    const number: string = (await apply(h.app, 'SN-TWICE')).body.loanNumber;
    const workflowId = sparePartWorkflowId(number);
    const caseRow = await h.database.db.selectFrom('cases').select(['id', 'kind', 'number', 'status', 'workflow_id']).where('number', '=', number).executeTakeFirstOrThrow();
    const input = await sparePartProcess.loadInput(h.database.db, caseRow);
    expect(input).toEqual({ caseId: caseRow.id, loanNumber: number, failedSerial: 'SN-TWICE' });
    const start = () => startCaseWorkflow(h.env.client, { taskQueue: h.taskQueue, workflowType: sparePartProcess.workflowType, workflowId, input });
    expect(await start()).toBe('already_started');
    expect(await Promise.all([start(), start()])).toEqual(['already_started', 'already_started']);
    expect(await runsOf(workflowId)).toHaveLength(1);

    // An interrupted case recovered by two workers at once starts once.
    await addDevice('SN-RACE');
    const raced: string = (await apply(appWithFailingStarts(1), 'SN-RACE')).body.loanNumber;
    const reports = await Promise.all([0, 1].map(() => startMissingProcesses(h.database.db, h.env.client, { taskQueue: h.taskQueue, logger: silent, graceMs: 0 })));
    expect(reports.flatMap((report) => report.failed)).toEqual([]);
    expect(reports.flatMap((report) => report.started)).toEqual([raced]);
    expect(await runsOf(sparePartWorkflowId(raced))).toHaveLength(1);

    // A case whose workflow closed keeps it closed: the id is not reused.
    const rejected = await request(h.app).post(`/spare-parts/${number}/reject`).set(as('manager')).send({ reason: 'no spare' });
    expect(rejected.status).toBe(200);
    await h.env.client.workflow.getHandle(workflowId).result();
    expect(await start()).toBe('already_started');
    expect(await runsOf(workflowId)).toHaveLength(1);
  });
});

describe('migration to case number sequences', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
  });
  afterAll(() => database?.drop());

  test('each counter seeds its sequence (skipping the number an orphaned workflow may hold); down brings the counters back', async () => {
    const migrator = new Migrator({ db: database.db, provider: { getMigrations: () => Promise.resolve(migrations) } });
    const previous = Object.keys(migrations).sort().filter((name) => name < '2026-12-02T00-00-00_case_number_sequences').pop()!;
    expect((await migrator.migrateTo(previous)).error).toBeUndefined();
    await sql`insert into case_number_counters (prefix, year, last_value) values ('SP', 2026, 41), ('SP', 2025, 7)`.execute(database.db);

    await migrateToLatest(database.db);
    expect(await nextCaseNumber(database.db, 'SP', 2026)).toBe('SP-2026-000043');
    expect(await nextCaseNumber(database.db, 'SP', 2025)).toBe('SP-2025-000009');
    expect(await nextCaseNumber(database.db, 'SP', 2027)).toBe('SP-2027-000001');

    expect((await migrator.migrateTo(previous)).error).toBeUndefined();
    const { rows } = await sql<{ prefix: string; year: number; last_value: number }>`select prefix, year, last_value from case_number_counters order by year`.execute(database.db);
    expect(rows).toEqual([
      { prefix: 'SP', year: 2025, last_value: 9 },
      { prefix: 'SP', year: 2026, last_value: 43 },
      { prefix: 'SP', year: 2027, last_value: 1 },
    ]);
    const { rows: sequences } = await sql<{ n: number }>`select count(*)::int as n from pg_sequences where sequencename like 'case_number_%'`.execute(database.db);
    expect(sequences).toEqual([{ n: 0 }]);
  });
});
