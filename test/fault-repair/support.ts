// What the fault-repair end-to-end tests share: registering a fault, the customer's signature link,
// and taking a case solved remotely to follow_up (service report signed).
import request from 'supertest';
import type { ServiceCompany } from '../support/fixtures';
import type { ProcessHarness } from '../support/process-harness';
import { bearer, eventually, linkPathIn, mailsTo } from '../support/probes';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** The contact seedServiceCompany creates: every customer email goes there. */
export const CONTACT_EMAIL = 'lilei@cmcc.test';

export const after = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();

export function faultRepairProbes(h: ProcessHarness) {
  const as = (role: 'manager' | 'service_desk' | 'engineer') => bearer(h.tokens[role]);
  return {
    as,
    virtualNow: async () => new Date(await h.env.currentTimeMs()).toISOString(),
    get: async (number: string) => (await request(h.app).get(`/fault-repairs/${number}`).set(as('service_desk'))).body,
    /** The customer's signature link for a version, from the email. */
    async signatureLink(title: string, version: number): Promise<string> {
      const [mail] = await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `Please sign: ${title} (version ${version})`), (mails) => mails.length === 1);
      return linkPathIn(mail!)!;
    },
  };
}

/** Registers a fault on a new device of the company's customer. */
export async function registerFault(h: ProcessHarness, company: ServiceCompany<never>, serial: string, extra: Record<string, unknown>) {
  const device = await company.addDevice(serial);
  const response = await request(h.app)
    .post('/fault-repairs')
    .set(bearer(h.tokens.service_desk))
    .send({
      customerId: company.customerId,
      contactId: company.contactId,
      deviceSerial: serial,
      symptoms: 'All ports on slot 3 down, 40 % of users without service',
      actionsTaken: 'Customer reseated the card',
      suspectedCause: 'Line card failure',
      ...extra,
    });
  return { response, deviceId: device.id };
}

/**
 * Solved remotely by the engineer (restored at `restoredAt`), the service report written with
 * `reportContent` and signed by the customer: the case is in follow_up.
 */
export async function solveRemotelyToFollowUp(h: ProcessHarness, number: string, restoredAt: string, reportContent: Record<string, unknown>) {
  const p = faultRepairProbes(h);
  await eventually(() => p.get(number), (b) => b.targets.length === 4);
  const solved = await request(h.app).post(`/fault-repairs/${number}/diagnosis`).set(p.as('engineer')).send({ outcome: 'solved_remotely', findings: 'Cleared a stuck alarm remotely', restoredAt });
  expect(solved.status).toBe(200);
  const reportId: string = solved.body.serviceReport.id;
  expect((await request(h.app).post(`/documents/${reportId}/versions`).set(p.as('engineer')).send({ content: reportContent })).status).toBe(201);
  expect((await request(h.app).post(await p.signatureLink(`Service report ${number}`, 1)).send({ decision: 'signed' })).status).toBe(200);
  const signedAt = await p.virtualNow();
  const body = await eventually(() => p.get(number), (b) => b.status === 'follow_up');
  return { body, signedAt };
}
