import request from 'supertest';
import { incidentWorkflowId } from '../../workflows/incident/definitions';
import { incidentCloseOutWorkflowId } from '../../workflows/incident-close-out/definitions';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { eventually, linkPathIn, mailsTo, sleepUntil } from '../support/probes';
import { HOUR, INCIDENT_REPORT, MINUTE, SUMMARY_REPORT, after, closeOutProbes } from './support';

// The close-out as the incident runs it: the restoration recorded through the incident's API starts
// the close-out as its child; the close-out's archive closes the incident (its 24-hour watch still
// running). The virtual clock starts on Monday 2026-11-16 09:00 Asia/Shanghai (01:00Z).
const START_TIME = '2026-11-16T01:00:00.000Z';
const CONTACT_EMAIL = 'lilei@cmcc.test';

describe('incident close-out started by the incident at restoration', () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let p: ReturnType<typeof closeOutProbes>;

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: START_TIME });
    await h.startWorker();
    company = await seedServiceCompany(h.database.db, { roles: [], contact: { locale: 'en' } });
    await company.addDevice('CO-1');
    p = closeOutProbes(h);
  }, 60_000);
  afterAll(() => h?.close());

  test('restoration -> the close-out round shows in GET /incidents/:n as closeOut; its archive closes the incident', async () => {
    const now = await p.virtualNow();
    const notice = await request(h.app)
      .post('/incidents')
      .set(p.as('service_desk'))
      .send({ customerId: company.customerId, contactId: company.contactId, deviceSerial: 'CO-1', symptom: 'Core switch down', startedAt: after(now, -10 * MINUTE), reportedAt: now });
    expect(notice.status).toBe(201);
    const number: string = notice.body.caseNumber;
    expect((await request(h.app).post(`/incidents/${number}/grading`).set(p.as('manager')).send({ decision: 'incident', impact: { serviceLostPercent: 100 } })).status).toBe(200);
    const engineerId = await p.userId('engineer');
    expect((await request(h.app).put(`/incidents/${number}/expert-group`).set(p.as('manager')).send({ members: [{ userId: engineerId, specialty: 'network', coordinator: true }] })).status).toBe(200);

    const restoredAt = after(now, 30 * MINUTE);
    await sleepUntil(h.env, after(restoredAt, MINUTE));
    const restored = await request(h.app).post(`/incidents/${number}/restoration`).set(p.as('engineer')).send({ interruptedAt: notice.body.startedAt, restoredAt });
    expect(restored.status).toBe(200);
    const incident = await eventually(async () => (await request(h.app).get(`/incidents/${number}`).set(p.as('manager'))).body, (body) => body.closeOut?.round === 1);
    expect(incident.closeOut).toMatchObject({ status: 'reporting', restoredAt, interruptedAt: notice.body.startedAt, interruptionMinutes: 40, summaryReport: { dueAt: '2026-11-17T15:59:59.000Z' } });
    const child = await h.env.client.workflow.getHandle(incidentCloseOutWorkflowId(number)).describe();
    expect(child.parentExecution?.workflowId).toBe(incidentWorkflowId(number));

    // The close-out, every step in time.
    const reportId: string = incident.closeOut.incidentReport.documentId;
    expect((await request(h.app).post(`/documents/${reportId}/versions`).set(p.as('engineer')).send({ content: INCIDENT_REPORT(notice.body.startedAt, restoredAt) })).status).toBe(201);
    const [signMail] = await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `Please sign: Incident report ${number} (version 1)`), (mails) => mails.length === 1);
    expect((await request(h.app).post(linkPathIn(signMail!)!).send({ decision: 'signed' })).status).toBe(200);
    expect((await request(h.app).post(`/incidents/${number}/summary-report`).set(p.as('engineer')).send(SUMMARY_REPORT)).status).toBe(200);
    expect((await request(h.app).post(`/incidents/${number}/summary-report/review`).set(p.as('manager')).send({ decision: 'approved' })).status).toBe(200);
    expect((await request(h.app).post(`/incidents/${number}/summary-report/customisation`).set(p.as('manager')).send({ text: 'Dear customer, the core switch is back.' })).status).toBe(200);
    expect((await request(h.app).post(`/incidents/${number}/follow-up`).set(p.as('service_desk')).send({ reached: true })).status).toBe(200);
    expect((await request(h.app).post(`/incidents/${number}/group-summary`).set(p.as('engineer')).send({ summary: 'Switch restored', lessons: 'Spare supervisor card on site' })).status).toBe(200);
    const meetingAt = after(await p.virtualNow(), HOUR);
    await eventually(() => p.get(number), (b) => b.status === 'review_meeting');
    expect((await request(h.app).post(`/incidents/${number}/review-meeting`).set(p.as('service_desk')).send({ startsAt: meetingAt, location: 'Room 1', attendees: [{ name: 'Manager', email: 'manager@fieldops.test' }] })).status).toBe(200);
    await sleepUntil(h.env, after(meetingAt, MINUTE));
    expect((await request(h.app).post(`/incidents/${number}/review-meeting/minutes`).set(p.as('service_desk')).send({ minutes: 'Reviewed' })).status).toBe(200);

    const closed = await eventually(async () => (await request(h.app).get(`/incidents/${number}`).set(p.as('manager'))).body, (body) => body.status === 'closed');
    expect(closed.closeOut).toMatchObject({ round: 1, status: 'archived', archivedAt: expect.any(String) });
    const caseRow = await h.database.db.selectFrom('cases').select(['status', 'closed_at']).where('number', '=', number).executeTakeFirstOrThrow();
    expect(caseRow).toMatchObject({ status: 'closed', closed_at: expect.any(Date) });
  }, 180_000);
});
