import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import request from 'supertest';
import type { Clock } from '../../activities/shared/clock';
import { createMailer, type Mailer } from '../../activities/shared/mailer';
import { createTestApp, testConfig, testSignedLinks } from '../support/app';
import { artifactPath, describeInBrowser, startBrowserHarness } from '../support/browser';
import { signedInConsole } from '../support/console';
import { parseCsv } from '../support/csv';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import type { ProcessHarness } from '../support/process-harness';
import { bearer, eventually, mailsTo, sleepUntil } from '../support/probes';

const LIST_PRICE_CENTS = 1_250_000;

describeInBrowser(`spare part through the console, the overdue board and billing's CSV in a real Chromium`, () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let closeHarness: (() => Promise<void>) | undefined;
  let browser: Browser;
  let mailer: Mailer;
  let baseUrl: string;
  // The console's and the API's "now" follow the test server's clock (which skips ahead), so that
  // the boards judge overdue and time left as the workflows do.
  let offsetMs = 0;
  const clock: Clock = { now: () => new Date(Date.now() + offsetMs) };
  const followTestServer = async () => {
    offsetMs = (await h.env.currentTimeMs()) - Date.now();
  };

  beforeAll(async () => {
    ({ h, browser, baseUrl, close: closeHarness } = await startBrowserHarness({
      app: (harness) => {
        mailer = createMailer({ smtpUrl: harness.smtp.url, mailFrom: 'fieldops <noreply@fieldops.test>', dataDir: 'var' });
        return createTestApp(harness.database.db, {
          temporal: harness.env.client,
          mailer,
          links: testSignedLinks(),
          config: { ...testConfig, temporal: { ...testConfig.temporal, taskQueue: harness.taskQueue } },
          clock,
        });
      },
    }));
    company = await seedServiceCompany(h.database.db, { roles: [], contact: { locale: 'en' }, product: { list_price_cents: LIST_PRICE_CENTS } });
    await company.addDevice('SN-CONSOLE-SP');
  }, 120_000);

  afterAll(async () => {
    await closeHarness?.();
    mailer?.close();
  });

  test('the desk registers a loan in the console (the API refuses a missing field beside it first); once the return deadline passes it is on the overdue board; billing downloads the cycle as CSV with its invoice line', async () => {
    // The desk registers the application through the console's form.
    const desk = await signedInConsole(browser, { baseUrl, smtp: h.smtp, email: 'service_desk@fieldops.test' });
    await desk.page.goto(`${baseUrl}/console/new/spare-parts`);
    const form = desk.page.locator('form.api-form');
    await form.getByLabel(/^Customer/).fill(company.customerId);
    await form.getByLabel(/^Contact/).fill(company.contactId);
    await form.getByLabel(/^Failed serial/i).fill('SN-CONSOLE-SP');
    await form.getByLabel(/^Delivery address/i).fill('88 Century Ave, Shanghai');
    // No fault description: the API's own message for it shows beside the field.
    const apiSays = await request(h.app)
      .post('/spare-parts')
      .set(bearer(h.tokens.service_desk))
      .send({ customerId: company.customerId, contactId: company.contactId, failedSerial: 'SN-CONSOLE-SP', deliveryAddress: '88 Century Ave, Shanghai' })
      .expect(400);
    const expected = (apiSays.body.error.details as { field: string; message: string }[]).find((detail) => detail.field === 'faultDescription')!.message;
    const faultError = form.locator('[data-field="faultDescription"] .field-error');
    await form.getByRole('button', { name: 'Submit' }).click();
    await faultError.waitFor({ state: 'visible' });
    expect(await faultError.textContent()).toBe(expected);
    expect(await form.locator('[data-field="failedSerial"] .field-error').isVisible()).toBe(false);
    await form.getByLabel(/^Fault description/i).fill('Line card dead, service degraded');
    await Promise.all([desk.page.waitForURL(/\/console\/spare-parts\/SP-\d{4}-\d{6}$/), form.getByRole('button', { name: 'Submit' }).click()]);
    const number = /SP-\d{4}-\d{6}$/.exec(desk.page.url())![0];
    await desk.page.locator('.headline').getByText('pending approval').waitFor();

    // Approved, shipped and received through the API; the deadline is recorded on the loan.
    await request(h.app).post(`/spare-parts/${number}/approve`).set(bearer(h.tokens.manager)).send({}).expect(200);
    await request(h.app).post(`/spare-parts/${number}/shipment`).set(bearer(h.tokens.service_desk)).send({ replacementSerial: 'R-SN-CONSOLE-SP', carrier: 'SF Express', trackingNumber: 'SF123' }).expect(200);
    await followTestServer();
    await request(h.app).post(`/spare-parts/${number}/receipt`).set(bearer(h.tokens.service_desk)).send({ receivedAt: clock.now().toISOString() }).expect(200);
    const loan = (await request(h.app).get(`/spare-parts/${number}`).set(bearer(h.tokens.manager)).expect(200)).body;
    const dueAt: string = loan.returnDeadline.dueAt;
    const onBoard = async (query: string) =>
      ((await request(h.app).get(`/boards/deadlines${query}`).set(bearer(h.tokens.engineer)).expect(200)).body.items as { caseNumber: string; state: string; dueAt: string }[]).filter((item) => item.caseNumber === number);
    expect(await onBoard('')).toEqual([expect.objectContaining({ state: 'later', dueAt })]);
    expect(await onBoard('?state=overdue')).toEqual([]);

    // The test server's time skips to each reminder, then past the deadline: the loan goes overdue and is billed.
    for (const [index, date] of (loan.returnDeadline.reminderDates as string[]).entries()) {
      await sleepUntil(h.env, `${date}T09:00:01+08:00`);
      await eventually(() => mailsTo(h.smtp, 'lilei@cmcc.test', `[${number}]`).filter((mail) => /Reminder|last day/.test(mail.subject)), (mails) => mails.length === index + 1);
    }
    await sleepUntil(h.env, new Date(Date.parse(dueAt) + 60_000).toISOString());
    const overdue = await eventually(async () => (await request(h.app).get(`/spare-parts/${number}`).set(bearer(h.tokens.manager))).body, (body) => body.status === 'overdue');
    const line = overdue.invoiceLines[0] as { billingCycle: string; amountCents: number };
    expect(line.amountCents).toBe(LIST_PRICE_CENTS);
    await followTestServer();

    // The boards: the overdue count links to the overdue list, which shows the loan overdue.
    await desk.page.getByRole('link', { name: 'Boards' }).click();
    await desk.page.waitForURL('**/console/boards');
    const overdueLink = desk.page.getByRole('link', { name: 'Overdue', exact: true });
    const overdueCount = desk.page.locator('li', { has: overdueLink }).locator('.badge');
    expect(Number(await overdueCount.textContent())).toBeGreaterThanOrEqual(1);
    await desk.page.screenshot({ path: artifactPath('console-boards.png'), fullPage: true });
    await overdueLink.click();
    await desk.page.waitForURL('**/console/boards/deadlines?state=overdue');
    const row = desk.page.locator('table.list tbody tr', { hasText: number });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/spare part return.*overdue by \d/s);
    await desk.page.screenshot({ path: artifactPath('console-board-overdue.png'), fullPage: true });
    await row.getByRole('link', { name: number }).click();
    await desk.page.waitForURL(`**/console/spare-parts/${number}`);
    // The desk has no Billing section.
    expect(await desk.page.getByRole('link', { name: 'Billing' }).count()).toBe(0);

    // Billing opens the billing view for the line's cycle and downloads it as CSV.
    const billing = await signedInConsole(browser, { baseUrl, smtp: h.smtp, email: 'billing@fieldops.test' });
    await billing.page.getByRole('link', { name: 'Billing' }).click();
    await billing.page.waitForURL('**/console/billing');
    await billing.page.getByLabel(/^Billing cycle/).fill(line.billingCycle);
    await Promise.all([billing.page.waitForURL(`**/console/billing?cycle=${line.billingCycle}`), billing.page.getByRole('button', { name: 'Apply' }).click()]);
    const lineRow = billing.page.locator('table.invoice-lines tbody tr', { hasText: number });
    await lineRow.waitFor();
    expect(await lineRow.textContent()).toContain('12500.00');
    await billing.page.screenshot({ path: artifactPath('console-billing.png'), fullPage: true });
    const [download] = await Promise.all([billing.page.waitForEvent('download'), billing.page.getByRole('link', { name: `Download ${line.billingCycle} as CSV` }).click()]);
    expect(download.suggestedFilename()).toBe(`invoice-lines-${line.billingCycle}.csv`);
    const rows = parseCsv(fs.readFileSync((await download.path()), 'utf8'));
    const header = rows[0]!;
    const found = rows.slice(1).map((fields) => Object.fromEntries(header.map((name, index) => [name, fields[index]]))).filter((fields) => fields.case_number === number);
    expect(found).toEqual([
      expect.objectContaining({ billing_cycle: line.billingCycle, customer: 'Shanghai Mobile', amount_yuan: '12500.00', amount_cents: String(LIST_PRICE_CENTS), currency: 'CNY', source_ref: `spare-part/${number}/overdue` }),
    ]);
    await desk.context.close();
    await billing.context.close();
  }, 180_000);
});
