import request from 'supertest';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { eventually, mailsTo, sleepUntil } from '../support/probes';
import { faultRepairProbes, registerFault } from './support';

// A 5x8 contract counts its restoration promise in service hours (09:00-17:00 on working days): a
// fault reported on Friday 2026-11-20 at 16:00 China time has 1 hour on Friday and 7 on Monday, so
// it is due Monday 16:00; the engineer is warned at 75 % of those hours (Monday 14:00), not on
// Sunday night, and the managers get the breach notice at Monday 16:00.

const REPORTED_AT = '2026-11-20T08:00:00Z'; // Friday 16:00 China time
const WARN_AT = '2026-11-23T06:00:00.000Z'; // Monday 14:00
const DUE_AT = '2026-11-23T08:00:00.000Z'; // Monday 16:00

describe('fault repair on a 5x8 contract over a weekend', () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: '2026-11-20T07:55:00Z' });
    await h.startWorker();
    company = await seedServiceCompany(h.database.db, { roles: [], customer: { sla_class: '5x8' } });
  }, 120_000);
  afterAll(() => h.close());

  test('restoration due Monday 16:00: the warning waits for Monday 14:00, the breach comes at 16:00; another case restored in time meets it', async () => {
    const p = faultRepairProbes(h);
    const late = (await registerFault(h, company, 'SN-5X8-LATE', { severity: 'minor', reportedAt: REPORTED_AT })).response;
    const onTime = (await registerFault(h, company, 'SN-5X8-OK', { severity: 'minor', reportedAt: REPORTED_AT })).response;
    expect([late.status, onTime.status]).toEqual([201, 201]);
    const [lateNumber, onTimeNumber] = [late.body.caseNumber as string, onTime.body.caseNumber as string];
    const restorationOf = async (number: string) =>
      ((await eventually(() => p.get(number), (body) => body.targets?.length === 4)).targets as { name: string; dueAt: string; warnAt: string; state: string; marginMinutes: number | null }[]).find(
        (target) => target.name === 'restoration',
      )!;
    expect(await restorationOf(lateNumber)).toMatchObject({ dueAt: DUE_AT, warnAt: WARN_AT, state: 'pending' });

    const restorationMails = (kind: 'warning' | 'breached') =>
      h.smtp.received.filter((mail) => mail.subject.startsWith(`[${lateNumber}] SLA ${kind === 'warning' ? '预警' : '超时'}`) && mail.subject.includes('恢复'));
    // Sunday evening (75 % of the wall time would be Sunday 22:00): no warning yet.
    await sleepUntil(h.env, '2026-11-22T14:30:00Z');
    expect(restorationMails('warning')).toHaveLength(0);

    // The other case is restored on Monday at 11:00, in time.
    const solved = await request(h.app).post(`/fault-repairs/${onTimeNumber}/diagnosis`).set(p.as('engineer')).send({ outcome: 'solved_remotely', findings: 'Cleared remotely', restoredAt: '2026-11-23T03:00:00Z' });
    expect(solved.status).toBe(200);
    expect(await restorationOf(onTimeNumber)).toMatchObject({ state: 'met', marginMinutes: 300 });

    await sleepUntil(h.env, '2026-11-23T06:00:30Z');
    await eventually(() => restorationMails('warning'), (mails) => mails.length === 1);
    expect(restorationMails('breached')).toHaveLength(0);
    await sleepUntil(h.env, '2026-11-23T08:00:30Z');
    await eventually(() => restorationMails('breached'), (mails) => mails.length === 1);
    expect(mailsTo(h.smtp, 'manager@fieldops.test', `[${lateNumber}] SLA 超时`).length).toBeGreaterThanOrEqual(1);
    expect(await restorationOf(lateNumber)).toMatchObject({ state: 'missed' });
  }, 120_000);
});
