// What the campaign tests share: the installed base of a few customers, raising a campaign through the
// API, its approval, and the customer's agreement signed on the customer page.
import request from 'supertest';
import type { Db } from '../../db';
import { createContact, createCustomer, createDevice, createProduct, uniqueTag } from '../support/fixtures';
import type { ProcessHarness } from '../support/process-harness';
import { bearer, eventually, linkPathIn, mailsTo } from '../support/probes';

export interface SeededCustomer {
  id: string;
  name: string;
  email: string;
  sites: string[];
  serials: string[];
}

/** A customer with an English contact, `sites` sites and `devicesPerSite[i]` devices at site i (the last entry: devices at no site when `siteless`). */
export async function seedCustomer(db: Db, options: { productId: string; prefix: string; start: number; devicesPerSite: number[]; siteless?: number }): Promise<SeededCustomer> {
  const tag = uniqueTag();
  const customer = await createCustomer(db, { name: `Customer ${options.prefix}${tag}` });
  const email = `ops-${tag}@customer.test`;
  await createContact(db, customer.id, { name: `Ops ${tag}`, email, locale: 'en' });
  const sites: string[] = [];
  const serials: string[] = [];
  let next = options.start;
  for (const [index, count] of options.devicesPerSite.entries()) {
    const site = await db.insertInto('sites').values({ customer_id: customer.id, name: `Site ${index + 1} of ${tag}`, city: 'Nanjing', address: null, distance_km: 10 }).returning('id').executeTakeFirstOrThrow();
    sites.push(site.id);
    for (let n = 0; n < count; n++) {
      const serial = `${options.prefix}${String(next++).padStart(4, '0')}`;
      await createDevice(db, { customerId: customer.id, productId: options.productId, serial, site_id: site.id });
      serials.push(serial);
    }
  }
  for (let n = 0; n < (options.siteless ?? 0); n++) {
    const serial = `${options.prefix}${String(next++).padStart(4, '0')}`;
    await createDevice(db, { customerId: customer.id, productId: options.productId, serial });
    serials.push(serial);
  }
  return { id: customer.id, name: customer.name, email, sites, serials };
}

export async function seedProduct(db: Db) {
  return createProduct(db, { code: `AR-${uniqueTag()}` });
}

export const SOFTWARE_SOLUTION = { kind: 'software', version: 'V300R019C10SPC300', patch: 'SPH120', guide: 'https://support.example/AR-upgrade-guide', instructions: 'Load the patch, activate it, reboot in a maintenance window' };

export function campaignProbes(h: ProcessHarness) {
  const as = (role: 'manager' | 'service_desk' | 'engineer' | 'senior_engineer' | 'rd_reviewer') => bearer(h.tokens[role]);
  const get = async (number: string) => (await request(h.app).get(`/rectification-campaigns/${number}`).set(as('service_desk'))).body;
  return {
    as,
    get,
    /** Submits the plan and has a manager approve it: the rollout starts. */
    async approvePlan(number: string): Promise<void> {
      const submitted = await eventually(
        () => request(h.app).post(`/rectification-campaigns/${number}/plan`).set(as('rd_reviewer')).send({ summary: 'Patch every affected router within the quarter', startsOn: '2026-11-20', endsOn: '2027-01-31' }),
        (response) => response.status === 200,
      );
      expect(submitted.body.plan).toMatchObject({ status: 'in_review', currentVersion: 1, waitingFor: 'manager_approval' });
      expect((await request(h.app).post(`/documents/${submitted.body.plan.id}/decisions`).set(as('manager')).send({ version: 1, decision: 'approved' })).status).toBe(200);
      await eventually(() => get(number), (body) => body.status === 'rolling_out');
    },
    /** The manager writes the customer's plan and timing; the customer signs it on the page from their email. */
    async agree(number: string, customer: SeededCustomer): Promise<void> {
      const started = await eventually(() => get(number), (body) => body.perCustomer.some((c: { customerId: string; agreementDocumentId: string | null }) => c.customerId === customer.id && c.agreementDocumentId !== null));
      const documentId: string = started.perCustomer.find((c: { customerId: string }) => c.customerId === customer.id).agreementDocumentId;
      const version = await eventually(
        () => request(h.app).post(`/documents/${documentId}/versions`).set(as('manager')).send({ content: { summary: 'Your routers are patched remotely by your team', startsOn: '2026-11-23', endsOn: '2026-12-18' } }),
        (response) => response.status === 201,
      );
      expect(version.body.waitingFor).toBe('customer_signature');
      const [mail] = await eventually(() => mailsTo(h.smtp, customer.email, 'Please sign'), (mails) => mails.length === 1);
      const link = linkPathIn(mail!)!;
      const page = await request(h.app).get(link).set('Accept', 'text/html');
      expect(page.status).toBe(200);
      expect(page.text).toContain('2026-11-23 – 2026-12-18');
      expect((await request(h.app).post(link).send({ decision: 'signed' })).status).toBe(200);
    },
  };
}
