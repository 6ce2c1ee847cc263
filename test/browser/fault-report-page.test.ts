import type { Browser, ConsoleMessage } from 'playwright-core';
import request from 'supertest';
import { artifactPath, describeInBrowser, startBrowserHarness } from '../support/browser';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import type { ProcessHarness } from '../support/process-harness';
import { bearer, eventually, linkPathIn, mailsTo } from '../support/probes';

describeInBrowser(`the customer reports a fault in a real Chromium`, () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let closeHarness: (() => Promise<void>) | undefined;
  let baseUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    ({ h, browser, baseUrl, close: closeHarness } = await startBrowserHarness());
    company = await seedServiceCompany(h.database.db, { roles: [], contact: { email: 'zhaomin@cmcc.test', name: 'Zhao Min', locale: 'en' } });
    await company.addDevice('SN-PAGE-1');
  }, 120_000);

  afterAll(() => closeHarness?.());

  test('the report link from the email: a wrong serial is refused naming the field, the corrected form registers the case', async () => {
    await request(h.app).post('/fault-repairs/report-links').set(bearer(h.tokens.service_desk)).send({ contactId: company.contactId }).expect(201);
    const [mail] = await eventually(() => mailsTo(h.smtp, 'zhaomin@cmcc.test', 'Your link to report a fault'), (mails) => mails.length === 1);
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, javaScriptEnabled: false, locale: 'en-US' });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error') problems.push(message.text());
    });

    expect((await page.goto(`${baseUrl}${linkPathIn(mail!)!}`))?.status()).toBe(200);
    await expect(page.locator('h1').textContent()).resolves.toBe('Report a fault');
    const fill = async (serial: string) => {
      await page.getByLabel('Serial number of the device').fill(serial);
      await page.getByLabel('What happens (symptoms, alarms, users affected)').fill('All ports on slot 3 down');
      await page.getByLabel('Major: the service is badly degraded').check();
      const [answer] = await Promise.all([page.waitForResponse((response) => response.request().method() === 'POST'), page.getByRole('button', { name: 'Report the fault' }).click()]);
      await page.waitForLoadState();
      return answer.status();
    };
    // A device that is not in the customer's installed base: the form comes back naming the field.
    expect(await fill('NOT-OURS')).toBe(400);
    await expect(page.locator('body').textContent()).resolves.toContain('Serial number of the device');
    await page.screenshot({ path: artifactPath('fault-report-refused.png'), fullPage: true });
    expect(await fill('SN-PAGE-1')).toBe(200);
    const done = (await page.locator('body').textContent()) ?? '';
    expect(done).toContain('the fault is registered');
    const caseNumber = /FR-\d{4}-\d{6}/.exec(done)?.[0];
    expect(caseNumber).toBeDefined();
    await page.screenshot({ path: artifactPath('fault-report-done.png'), fullPage: true });
    const registered = (await request(h.app).get(`/fault-repairs/${caseNumber!}`).set(bearer(h.tokens.manager))).body;
    expect(registered).toMatchObject({ severity: 'major', deviceSerial: 'SN-PAGE-1', contactId: company.contactId });
    expect(problems.filter((text) => !/status of 4\d\d/.test(text))).toEqual([]);
    await context.close();
  });
});
