import request from 'supertest';
import { incidentWorkflowId } from '../../workflows/incident/definitions';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { eventually, mailsAbout, mailsTo, pause, sleepUntil } from '../support/probes';
import { CHIEF_EMAIL, CONTACT_EMAIL, DIRECTOR_EMAIL, HOUR, MANAGER_EMAIL, MINUTE, SENIOR_EMAIL, VENDOR_EMAIL, after, incidentProbes, saveHistory, seedIncidentPeople } from './support';

// The escalation ladder by time alone, end to end: real worker, the test server with time skipping,
// PostgreSQL, SMTP, the chinese-workday calendar. The virtual clock starts on Friday 2026-11-27
// 09:00 Asia/Shanghai (01:00Z): level 2 at 11:00, level 3 four hours after the arrival on site,
// level 4 one working day later, which is Monday (the weekend does not count).
const START_TIME = '2026-11-27T01:00:00.000Z';

describe('incident escalation ladder', () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let p: ReturnType<typeof incidentProbes>;

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: START_TIME });
    await h.startWorker();
    company = await seedServiceCompany(h.database.db, { roles: [] });
    await seedIncidentPeople(h);
    p = incidentProbes(h);
  }, 60_000);
  afterAll(() => h?.close());

  test('a level 1 incident climbs the whole ladder by time alone; the vendor is emailed and a standby unit lent at level 4, chased each working morning after restoration until switched back', async () => {
    await company.addDevice('LAD-001');
    const notice = await p.notice(company, 'LAD-001', 'Core router down, all users of the metro ring without service');
    expect(notice.status).toBe(201);
    const reportedAt: string = notice.body.reportedAt;
    const number: string = notice.body.caseNumber;
    expect(number).toMatch(/^INC-2026-\d{6}$/);
    expect(notice.body).toMatchObject({ status: 'registered', origin: 'desk', level: null, ladder: { level: 1 } });

    // Level 1: 2 h of phone and remote support, computed from the calendar and recorded.
    let incident = await p.until(number, (b) => b.ladder.nextEscalationAt !== null);
    expect(incident.ladder.nextEscalationAt).toBe(after(reportedAt, 2 * HOUR));
    await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] Incident status: registered`), (mails) => mails.length === 1);
    await eventually(() => mailsTo(h.smtp, MANAGER_EMAIL, `[${number}]`), (mails) => mails.length === 1);

    const graded = await p.grade(number, { affectedUsers: 9000 });
    expect(graded.status).toBe(200);
    expect(graded.body).toMatchObject({ status: 'in_recovery', level: 1 });
    expect(graded.body.grading.rules.map((rule: { code: string }) => rule.code)).toEqual(['network_affected_users']);

    // 2 h later, nobody having restored it: level 2, the senior engineers and the managers told, the customer the status.
    await sleepUntil(h.env, after(reportedAt, 2 * HOUR + MINUTE));
    incident = await p.until(number, (b) => b.ladder.level === 2);
    expect(incident.ladder.history.map((entry: { level: number }) => entry.level)).toEqual([1, 2]);
    expect(incident.ladder.nextEscalationAt).toBeNull(); // the 4 h clock waits for the arrival on site
    await eventually(() => mailsTo(h.smtp, SENIOR_EMAIL, '第2级处理'), (mails) => mails.length === 1);
    await eventually(() => mailsTo(h.smtp, MANAGER_EMAIL, '第2级处理'), (mails) => mails.length === 1);
    await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] Incident status: escalated`), (mails) => mails.length === 1);

    // The senior engineer arrives: level 3 four hours later.
    const arrivedAt = await p.virtualNow();
    const arrival = await request(h.app).post(`/incidents/${number}/arrival`).set(p.as('engineer')).send({ arrivedAt });
    expect(arrival.status).toBe(200);
    await p.until(number, (b) => b.ladder.nextEscalationAt === after(arrivedAt, 4 * HOUR));
    await sleepUntil(h.env, after(arrivedAt, 4 * HOUR + MINUTE));
    incident = await p.until(number, (b) => b.ladder.level === 3 && b.ladder.nextEscalationAt !== null);
    // Chief engineer informed at level 3.
    await eventually(() => mailsTo(h.smtp, CHIEF_EMAIL, '第3级处理'), (mails) => mails.length === 1);
    // One working day from Friday afternoon is Monday afternoon: Saturday and Sunday do not count.
    const levelThreeAt: string = incident.ladder.enteredAt;
    expect(new Date(levelThreeAt).getUTCDay()).toBe(5);
    expect(incident.ladder.nextEscalationAt).toBe(after(levelThreeAt, 72 * HOUR));
    // The arrival after level 2 is refused: the on-site clock is over.
    expect((await request(h.app).post(`/incidents/${number}/arrival`).set(p.as('engineer')).send({ arrivedAt: await p.virtualNow() })).status).toBe(409);

    // Saturday passes without a step up.
    await sleepUntil(h.env, after(levelThreeAt, 30 * HOUR));
    await pause(500);
    expect((await p.get(number)).ladder.level).toBe(3);

    await sleepUntil(h.env, after(levelThreeAt, 72 * HOUR + MINUTE));
    incident = await p.until(number, (b) => b.ladder.level === 4);
    expect(incident.ladder.nextEscalationAt).toBeNull();
    expect(incident.ladder.history.map((entry: { level: number }) => entry.level)).toEqual([1, 2, 3, 4]);
    const [vendorMail] = await eventually(() => mailsTo(h.smtp, VENDOR_EMAIL, `[${number}] Urgent support request`), (mails) => mails.length === 1);
    expect(vendorMail!.text).toContain('LAD-001');
    expect(vendorMail!.text).toContain('Core router down');
    expect(vendorMail!.text).toContain('ladder level 3');
    await eventually(() => mailsTo(h.smtp, DIRECTOR_EMAIL, '第4级处理'), (mails) => mails.length >= 1);
    await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] Incident status: escalated`), (mails) => mails.length === 3);

    // A standby unit of the same class replaces the failed one.
    const installedAt = await p.virtualNow();
    const standby = await request(h.app).post(`/incidents/${number}/standby-unit`).set(p.as('engineer')).send({ serial: 'STBY-9', installedAt });
    expect(standby.status).toBe(200);
    expect(standby.body.standbyUnit).toMatchObject({ serial: 'STBY-9', installedAt, switchedBackAt: null, chases: 0 });
    // Switching back before restoration is refused.
    expect((await request(h.app).post(`/incidents/${number}/standby-unit/switch-back`).set(p.as('engineer')).send({ switchedBackAt: installedAt })).status).toBe(409);

    const restoredAt = await p.virtualNow();
    const restored = await request(h.app).post(`/incidents/${number}/restoration`).set(p.as('engineer')).send({ interruptedAt: notice.body.startedAt, restoredAt });
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ status: 'restored', restoredAt, closeOutRound: 1, ladder: { level: 4 } });
    await p.until(number, (b) => b.closeOut !== null);

    // Chased at 09:00 China time each working day after restoration (Monday afternoon): Tuesday, Wednesday.
    const chases = () => mailsTo(h.smtp, DIRECTOR_EMAIL, '备机尚未切换回');
    await sleepUntil(h.env, '2026-12-01T01:00:30.000Z');
    await eventually(chases, (mails) => mails.length === 1);
    await sleepUntil(h.env, '2026-12-02T01:00:30.000Z');
    await eventually(chases, (mails) => mails.length === 2);
    incident = await p.until(number, (b) => b.standbyUnit.chases === 2);
    // Wednesday 09:00 China time, when the timer fired.
    expect(Date.parse(incident.standbyUnit.lastChasedAt) - Date.parse('2026-12-02T01:00:00.000Z')).toBeGreaterThanOrEqual(0);
    expect(Date.parse(incident.standbyUnit.lastChasedAt) - Date.parse('2026-12-02T01:00:00.000Z')).toBeLessThan(MINUTE);

    const switchedBackAt = await p.virtualNow();
    const switched = await request(h.app).post(`/incidents/${number}/standby-unit/switch-back`).set(p.as('engineer')).send({ switchedBackAt });
    expect(switched.status).toBe(200);
    expect(switched.body.standbyUnit.switchedBackAt).toBe(switchedBackAt);
    await sleepUntil(h.env, '2026-12-03T02:00:00.000Z');
    await pause(500);
    expect(chases()).toHaveLength(2);
    expect(mailsAbout(h.smtp, `[${number}]`).filter((mail) => mail.to.includes(VENDOR_EMAIL))).toHaveLength(1);

    const listed = await request(h.app).get('/incidents?minLevel=1&status=restored').set(p.as('service_desk'));
    expect(listed.body.items.map((item: { caseNumber: string }) => item.caseNumber)).toEqual([number]);
    await saveHistory(h, incidentWorkflowId(number), 'incident-ladder-to-standby-switch-back.binpb');
  }, 120_000);
});
