import pino from 'pino';
import request from 'supertest';
import { seedServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { bearer, eventually, mailsAbout } from '../support/probes';

interface LogEntry {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** The log of the API and the worker, as the lines a log shipper would read. */
function capturedLog() {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  return {
    logger,
    text: () => lines.join(''),
    entries: () => lines.map((line) => JSON.parse(line) as LogEntry),
  };
}

const INFO = 30;

describe('logs of a loan applied for and confirmed through customer links', () => {
  const log = capturedLog();
  let h: ProcessHarness;
  let worker: { stop(): Promise<void> };
  let contactId: string;
  const as = (role: 'manager' | 'service_desk') => bearer(h.tokens[role]);

  /** The token of the one link in the newest mail whose subject contains `subjectPart`. */
  async function linkTokenFromMail(subjectPart: string): Promise<string> {
    const mails = await eventually(() => mailsAbout(h.smtp, subjectPart), (found) => found.length > 0);
    const token = /\/links\/([\w.-]+)/.exec(mails[mails.length - 1]!.text)?.[1];
    if (!token) throw new Error(`no link in the mail "${subjectPart}"`);
    return token;
  }

  beforeAll(async () => {
    h = await startProcessHarness({ logger: log.logger });
    worker = await h.startWorker();
    const company = await seedServiceCompany(h.database.db, {
      customer: { code: 'LOG', name: 'Log Telecom', customer_class: 'B', sla_class: 'NBD', billing_day: 10 },
      contact: { name: 'Han Mei', email: 'hanmei@log.test' },
      product: { code: 'LPU', name: 'Line card', list_price_cents: 100_000 },
      roles: [], // the harness has made the users already
    });
    contactId = company.contactId;
    await company.addDevice('SN-LOG', { warranty_end: null });
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await h?.close();
  });

  test('no link token is ever logged; request lines carry the route pattern; steps and emails get one line each, without bodies', async () => {
    expect((await request(h.app).post('/spare-parts/application-links').set(as('service_desk')).set('Idempotency-Key', 'apply-link-1').send({ contactId })).status).toBe(201);
    const applyToken = await linkTokenFromMail('application link');

    expect((await request(h.app).get(`/links/${applyToken}`)).status).toBe(200);
    // A token in the query string is refused (unknown parameter) and not logged either.
    expect((await request(h.app).get(`/links/${applyToken}?token=${applyToken}`)).status).toBe(400);
    const applied = await request(h.app)
      .post(`/links/${applyToken}`)
      .set('Idempotency-Key', 'apply-1')
      .send({ failedSerial: 'SN-LOG', faultDescription: 'secret fault description', deliveryAddress: '1 Hidden Road' });
    expect(applied.status).toBe(200);
    const loanNumber: string = applied.body.loanNumber;

    expect((await request(h.app).post(`/spare-parts/${loanNumber}/approve`).set(as('manager')).send({})).status).toBe(200);
    const shipment = { replacementSerial: 'R-SN-LOG', carrier: 'SF Express', trackingNumber: 'SF123' };
    expect((await request(h.app).post(`/spare-parts/${loanNumber}/shipment`).set(as('service_desk')).set('Idempotency-Key', 'ship-1').send(shipment)).status).toBe(200);
    const receiptToken = await linkTokenFromMail('has shipped');
    expect((await request(h.app).post(`/links/${receiptToken}`).send({ discrepancy: null })).status).toBe(200);
    // A path no route matches still has its token redacted.
    expect((await request(h.app).get(`/links/${receiptToken}/extra`)).status).toBe(404);

    await eventually(
      () => h.database.db.selectFrom('email_outbox').select('status').where('idempotency_key', 'like', `spare-part/${loanNumber}/%`).execute(),
      (rows) => rows.length >= 3 && rows.every((row) => row.status === 'sent'),
    );
    await eventually(() => log.entries().filter((entry) => entry.msg === 'email sent').length, (count) => count >= 4);

    const text = log.text();
    for (const token of [applyToken, receiptToken]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(token.split('.')[1]); // not even the signature
    }
    expect(text).not.toContain('secret fault description');
    expect(text).not.toContain('1 Hidden Road');
    expect(text).not.toContain('hanmei@log.test');

    const requestLines = log.entries().filter((entry) => typeof entry.route === 'string');
    const routes = requestLines.map((entry) => `${String(entry.method)} ${String(entry.route)} ${String(entry.status)}`);
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /spare-parts/application-links 201',
        'GET /links/:token 200',
        'GET /links/:token 400',
        'POST /links/:token 200',
        'POST /spare-parts/:loanNumber/approve 200',
        'POST /spare-parts/:loanNumber/shipment 200',
        'GET /links/[redacted]/extra 404',
      ]),
    );
    for (const line of requestLines) {
      expect(line).toMatchObject({ level: INFO, reqId: expect.any(String), ms: expect.any(Number) });
      expect(Object.keys(line).sort()).toEqual(expect.arrayContaining(['method', 'route', 'status']));
      expect(line).not.toHaveProperty('req');
      expect(line).not.toHaveProperty('res');
    }
    const approve = requestLines.find((line) => line.route === '/spare-parts/:loanNumber/approve');
    expect(approve?.userId).toEqual(expect.any(String));
    expect(approve?.msg).toMatch(/^POST \/spare-parts\/:loanNumber\/approve 200 \d+ms$/);

    const steps = log.entries().filter((entry) => entry.caseNumber === loanNumber);
    expect(steps.map((entry) => entry.step)).toEqual(['application-acknowledged', 'approved', 'shipped', 'received']);
    expect(steps.find((entry) => entry.step === 'received')).toMatchObject({ level: INFO, actorRole: 'customer', idempotencyKey: `${loanNumber}/received` });
    expect(steps.find((entry) => entry.step === 'shipped')).toMatchObject({ actorRole: 'service_desk', emailsQueued: 1 });

    const emails = log.entries().filter((entry) => entry.msg === 'email sent');
    expect(emails.map((entry) => entry.idempotencyKey)).toEqual(
      expect.arrayContaining([`spare-part/${loanNumber}/application-received`, `spare-part/${loanNumber}/shipped`, `spare-part/${loanNumber}/return-deadline`]),
    );
    expect(emails.find((entry) => entry.idempotencyKey === `spare-part/${loanNumber}/shipped`)).toMatchObject({ level: INFO, template: 'spare_part_shipped' });
  });
});
