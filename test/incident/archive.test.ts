import request from 'supertest';
import { incidentWorkflowId } from '../../workflows/incident/definitions';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { eventually, linkPathIn, mailsTo, sleepUntil } from '../support/probes';
import { CONTACT_EMAIL, HOUR, MINUTE, after, incidentProbes, saveHistory, seedIncidentPeople, type IncidentPeople } from './support';

// Restoration to the archive with the real close-out child: the incident closes when its close-out
// returns archivedAt; its workflow still watches the 24 hours after the restoration (the same symptom
// then reopens even an archived incident) and ends once they are over. The virtual clock starts on
// Wednesday 2026-11-18 09:00 Asia/Shanghai (01:00Z).
const START_TIME = '2026-11-18T01:00:00.000Z';

describe('incident archive and the 24-hour watch', () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let people: IncidentPeople;
  let p: ReturnType<typeof incidentProbes>;

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: START_TIME });
    await h.startWorker();
    company = await seedServiceCompany(h.database.db, { roles: [] });
    people = await seedIncidentPeople(h);
    p = incidentProbes(h);
  }, 60_000);
  afterAll(() => h?.close());

  /** Notice, expert group (the engineer coordinates), grading, restoration: the close-out's first round runs. */
  async function restoredIncident(serial: string, symptom: string) {
    await company.addDevice(serial);
    const notice = await p.notice(company, serial, symptom);
    const number: string = notice.body.caseNumber;
    expect((await request(h.app).put(`/incidents/${number}/expert-group`).set(p.as('manager')).send({ members: [{ userId: people.engineerId, specialty: 'network', coordinator: true }] })).status).toBe(200);
    expect((await p.grade(number, { serviceLostPercent: 100 })).status).toBe(200);
    const restoredAt = await p.virtualNow();
    const restored = await request(h.app).post(`/incidents/${number}/restoration`).set(p.as('engineer')).send({ interruptedAt: notice.body.startedAt, restoredAt });
    expect(restored.status).toBe(200);
    await p.until(number, (b) => b.closeOut?.status === 'reporting');
    return { number, restoredAt, startedAt: notice.body.startedAt as string };
  }

  /** Every close-out step through the API, up to the review meeting's minutes. */
  async function closeOut(number: string, interruptedAt: string, restoredAt: string) {
    const incident = await p.get(number);
    const reportId: string = incident.closeOut.incidentReport.documentId;
    const content = { interruptedAt, restoredAt, symptoms: 'Ring down', actions: 'Card swapped', result: 'Service restored', cause: 'Line card', engineers: ['engineer user'] };
    expect((await request(h.app).post(`/documents/${reportId}/versions`).set(p.as('engineer')).send({ content })).status).toBe(201);
    const [signMail] = await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `Please sign: Incident report ${number} (version 1)`), (mails) => mails.length === 1);
    expect((await request(h.app).post(linkPathIn(signMail!)!).send({ decision: 'signed' })).status).toBe(200);
    const summary = { impact: 'All users', process: 'Swapped the card', result: 'Restored', rootCause: 'Line card', recommendations: 'Keep spares' };
    expect((await request(h.app).post(`/incidents/${number}/summary-report`).set(p.as('engineer')).send(summary)).status).toBe(200);
    expect((await request(h.app).post(`/incidents/${number}/summary-report/review`).set(p.as('manager')).send({ decision: 'approved' })).status).toBe(200);
    expect((await request(h.app).post(`/incidents/${number}/summary-report/customisation`).set(p.as('manager')).send({ text: 'Dear customer, the ring is restored.' })).status).toBe(200);
    expect((await request(h.app).post(`/incidents/${number}/follow-up`).set(p.as('service_desk')).send({ reached: true, notes: 'Stable' })).status).toBe(200);
    expect((await request(h.app).post(`/incidents/${number}/group-summary`).set(p.as('engineer')).send({ summary: 'Card swapped', lessons: 'Spares' })).status).toBe(200);
    await eventually(() => request(h.app).get(`/incidents/${number}/close-out`).set(p.as('service_desk')), (response) => response.body.status === 'review_meeting');
    const meetingAt = after(await p.virtualNow(), HOUR);
    expect((await request(h.app).post(`/incidents/${number}/review-meeting`).set(p.as('service_desk')).send({ startsAt: meetingAt, location: 'Room 1', attendees: [{ name: 'Li Lei', email: CONTACT_EMAIL }] })).status).toBe(200);
    await sleepUntil(h.env, after(meetingAt, 10 * MINUTE));
    expect((await request(h.app).post(`/incidents/${number}/review-meeting/minutes`).set(p.as('service_desk')).send({ minutes: 'Reviewed' })).status).toBe(200);
  }

  test('archived when the close-out returns archivedAt; the workflow ends once the 24-hour watch is over', async () => {
    const { number, restoredAt, startedAt } = await restoredIncident('AR-1', 'Ring A down');
    await closeOut(number, startedAt, restoredAt);
    const closed = await p.until(number, (b) => b.status === 'closed');
    expect(closed.closeOut.status).toBe('archived');
    expect(closed.closedAt).toBe(closed.closeOut.archivedAt);
    expect(closed.timeline.map((event: { action: string }) => event.action)).toContain('incident.archived');
    const handle = h.env.client.workflow.getHandle(incidentWorkflowId(number));
    // Archived within the watch: the workflow still runs until 24 h after the restoration.
    expect((await handle.describe()).status.name).toBe('RUNNING');
    await sleepUntil(h.env, after(restoredAt, 24 * HOUR + MINUTE));
    const state = await handle.result();
    expect(state).toMatchObject({ status: 'closed', closeOutRound: 1, reopenedAt: [] });
    await saveHistory(h, incidentWorkflowId(number), 'incident-archived-after-watch.binpb');
  }, 120_000);

  test('the same symptom within 24 h reopens an incident already archived: back to recovery, closedAt cleared', async () => {
    const { number, restoredAt, startedAt } = await restoredIncident('AR-2', 'Ring B down');
    await closeOut(number, startedAt, restoredAt);
    await p.until(number, (b) => b.status === 'closed');
    await sleepUntil(h.env, after(restoredAt, 6 * HOUR));
    const again = await p.notice(company, 'AR-2', 'Ring B down');
    expect(again.body).toMatchObject({ status: 'continued', linkedCases: [{ caseNumber: number, relation: 'continues' }] });
    const reopened = await p.until(number, (b) => b.status === 'in_recovery');
    expect(reopened).toMatchObject({ closedAt: null, restoredAt: null, reopenedCount: 1 });
    // Restored again: a second close-out round.
    const restoredAgain = await request(h.app).post(`/incidents/${number}/restoration`).set(p.as('engineer')).send({ interruptedAt: again.body.startedAt, restoredAt: await p.virtualNow() });
    expect(restoredAgain.status).toBe(200);
    const second = await p.until(number, (b) => b.closeOut?.round === 2 && b.closeOut.status === 'reporting');
    expect(second.closeOut.previousRounds).toMatchObject([{ round: 1, status: 'archived' }]);
    await saveHistory(h, incidentWorkflowId(number), 'incident-reopened-after-archive.binpb');
  }, 120_000);
});
