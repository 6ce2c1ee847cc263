// What the incident end-to-end tests share: the people the ladder notifies, a notice, grading, and
// saving a workflow's history for the replay test.
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import request from 'supertest';
import { createUserWithToken } from '../../api/auth';
import { loadChineseWorkdayDataset } from '../../db/calendar-dataset';
import { addMissingCalendarYears } from '../../db/repositories/calendar';
import type { UserRole } from '../../db/schema';
import type { ServiceCompany } from '../support/fixtures';
import type { ProcessHarness } from '../support/process-harness';
import { bearer, eventually } from '../support/probes';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** The contact seedServiceCompany creates: every customer email goes there. */
export const CONTACT_EMAIL = 'lilei@cmcc.test';
export const SENIOR_EMAIL = 'senior@fieldops.test';
export const CHIEF_EMAIL = 'chief@fieldops.test';
export const DIRECTOR_EMAIL = 'director@fieldops.test';
export const MANAGER_EMAIL = 'manager@fieldops.test';
export const VENDOR_EMAIL = 'tac@vendor.test';

export const after = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();

export interface IncidentPeople {
  senior: { id: string; token: string };
  chief: { id: string; token: string };
  director: { id: string; token: string };
  engineerId: string;
}

/**
 * The business calendar from the chinese-workday dataset, a senior engineer, the chief engineer and
 * the technical director (their duties assigned through the API), and a vendor contact for network
 * products.
 */
export async function seedIncidentPeople(h: ProcessHarness): Promise<IncidentPeople> {
  await addMissingCalendarYears(h.database.db, loadChineseWorkdayDataset(), new Date('2026-12-01T00:00:00Z'));
  const user = async (name: string, email: string, role: UserRole) => {
    const { token, user: created } = await createUserWithToken(h.database.db, { name, email, role });
    return { id: created.id, token };
  };
  const senior = await user('Senior Wang', SENIOR_EMAIL, 'senior_engineer');
  const chief = await user('Chief Zhao', CHIEF_EMAIL, 'senior_engineer');
  const director = await user('Director Qian', DIRECTOR_EMAIL, 'manager');
  const admin = bearer(h.tokens.admin);
  expect((await request(h.app).put('/incident-duties/chief_engineer').set(admin).send({ userId: chief.id })).status).toBe(200);
  expect((await request(h.app).put('/incident-duties/technical_director').set(admin).send({ userId: director.id })).status).toBe(200);
  expect((await request(h.app).post('/vendor-contacts').set(admin).send({ productLine: 'network', name: 'Vendor TAC', email: VENDOR_EMAIL })).status).toBe(201);
  const engineer = await h.database.db.selectFrom('users').select('id').where('email', '=', 'engineer@fieldops.test').executeTakeFirstOrThrow();
  return { senior, chief, director, engineerId: engineer.id };
}

export function incidentProbes(h: ProcessHarness) {
  const as = (role: 'manager' | 'service_desk' | 'engineer' | 'admin') => bearer(h.tokens[role]);
  const get = async (number: string) => (await request(h.app).get(`/incidents/${number}`).set(as('service_desk'))).body;
  return {
    as,
    get,
    virtualNow: async () => new Date(await h.env.currentTimeMs()).toISOString(),
    /** Waits until the incident's workflow has recorded what `accept` looks for. */
    until: (number: string, accept: (body: Awaited<ReturnType<typeof get>>) => boolean) => eventually(() => get(number), accept),
    /** An emergency notice from the desk on `serial` (a device of the company), reported now on the virtual clock. */
    async notice(company: ServiceCompany<never>, serial: string, symptom: string, extra: Record<string, unknown> = {}) {
      const now = new Date(await h.env.currentTimeMs()).toISOString();
      return request(h.app)
        .post('/incidents')
        .set(as('service_desk'))
        .send({ customerId: company.customerId, contactId: company.contactId, deviceSerial: serial, symptom, startedAt: after(now, -10 * MINUTE), reportedAt: now, ...extra });
    },
    grade: (number: string, impact: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      request(h.app).post(`/incidents/${number}/grading`).set(as('manager')).send({ decision: 'incident', impact, ...extra }),
  };
}

/** Saved with SAVE_WORKFLOW_HISTORIES=1, replayed by replay.test.ts. */
export async function saveHistory(h: ProcessHarness, workflowId: string, file: string): Promise<void> {
  if (process.env.SAVE_WORKFLOW_HISTORIES !== '1') return;
  const dir = path.join(__dirname, 'histories');
  fs.mkdirSync(dir, { recursive: true });
  const history = await h.env.client.workflow.getHandle(workflowId).fetchHistory();
  fs.writeFileSync(path.join(dir, file), temporal.api.history.v1.History.encode(history).finish());
}
