// What the incident close-out tests share: an incident case (the core's insertIncidentCase), the
// close-out started as the incident would start it at restoration, and probes of its read model.
import request from 'supertest';
import { nextCaseNumber } from '../../db/repositories/cases';
import { insertIncidentCase } from '../../db/repositories/incidents';
import type { UserRole } from '../../db/schema';
import { incidentCloseOutWorkflowId, type IncidentCloseOutInput } from '../../workflows/incident-close-out/definitions';
import { incidentCloseOutWorkflow } from '../../workflows/incident-close-out/workflow';
import type { ServiceCompany } from '../support/fixtures';
import type { ProcessHarness } from '../support/process-harness';
import { bearer, eventually, linkPathIn, mailsTo } from '../support/probes';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const after = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();

export type StaffRole = Extract<UserRole, 'manager' | 'service_desk' | 'engineer' | 'admin'>;

export function closeOutProbes(h: ProcessHarness) {
  const as = (role: StaffRole) => bearer(h.tokens[role]);
  return {
    as,
    virtualNow: async () => new Date(await h.env.currentTimeMs()).toISOString(),
    get: async (number: string) => (await request(h.app).get(`/incidents/${number}/close-out`).set(as('service_desk'))).body,
    /** The id of the harness's user of `role` (their email is `<role>@fieldops.test`). */
    userId: async (role: UserRole) => (await h.database.db.selectFrom('users').select('id').where('email', '=', `${role}@fieldops.test`).executeTakeFirstOrThrow()).id,
    /** The customer's signature link for a version, from the email to `contactEmail`. */
    async signatureLink(contactEmail: string, title: string, version: number): Promise<string> {
      const [mail] = await eventually(() => mailsTo(h.smtp, contactEmail, `Please sign: ${title} (version ${version})`), (mails) => mails.length === 1);
      return linkPathIn(mail!)!;
    },
    /** The caller's tasks of the incident from the close-out and its documents (the incident core's own tasks left out). */
    async tasksOf(role: StaffRole, number: string): Promise<{ kind: string; caseNumber: string; dueAt: string | null }[]> {
      const body = (await request(h.app).get('/me/tasks').set(as(role)).expect(200)).body as { items: { kind: string; process: string; caseNumber: string; dueAt: string | null }[] };
      return body.items.filter((task) => task.caseNumber === number && task.process !== 'incident');
    },
  };
}

/** An incident of the company's customer, as the desk registers it (restored later by the core). */
export async function insertIncident(h: ProcessHarness, company: ServiceCompany<never>, startedAt: string, symptom: string): Promise<{ caseId: string; caseNumber: string }> {
  const db = h.database.db;
  const caseNumber = await nextCaseNumber(db, 'INC', Number(startedAt.slice(0, 4)));
  return db.transaction().execute((trx) =>
    insertIncidentCase(trx, caseNumber, {
      origin: 'desk',
      originCaseId: null,
      customerId: company.customerId,
      contactId: company.contactId,
      siteId: null,
      deviceId: null,
      symptom,
      startedAt: new Date(startedAt),
      reportedBy: 'service_desk user',
      reportedByRole: 'service_desk',
      reportedAt: new Date(startedAt),
    }),
  );
}

/** Makes the harness's engineer the coordinator of the incident's expert group. */
export async function makeCoordinator(h: ProcessHarness, caseId: string, userId: string, at: string): Promise<void> {
  await h.database.db
    .insertInto('incident_expert_group_members')
    .values({ case_id: caseId, user_id: userId, specialty: 'network', coordinator: true, added_at: at, added_by: 'manager user' })
    .execute();
}

/** Starts a round of the close-out the way the incident core does at restoration (ALLOW_DUPLICATE: a later round reuses the id). */
export async function startCloseOut(h: ProcessHarness, input: IncidentCloseOutInput) {
  return h.env.client.workflow.start(incidentCloseOutWorkflow, {
    workflowId: incidentCloseOutWorkflowId(input.caseNumber),
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    taskQueue: h.taskQueue,
    args: [input],
  });
}

export const INCIDENT_REPORT = (interruptedAt: string, restoredAt: string) => ({
  interruptedAt,
  restoredAt,
  symptoms: 'Core router CR-01 rebooted in a loop; all users of the city without service',
  actions: 'Console access, faulty line card isolated, routing restored over the standby card',
  result: 'Service restored for all users at the restoration time',
  cause: 'Line card firmware fault',
  engineers: ['Zhang Wei'],
});

export const SUMMARY_REPORT = {
  impact: 'All 12,000 users of the city without service for 2 hours',
  process: 'Notice 10:00, expert group 10:20, plan signed 11:10, card isolated 11:40, restored 12:00',
  result: 'Traffic over the standby card, no loss of configuration',
  rootCause: 'Line card firmware fault (DTS2026110042)',
  recommendations: 'Upgrade the line card firmware in the next maintenance window',
};
