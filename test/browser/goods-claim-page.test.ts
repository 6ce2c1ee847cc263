import type { Browser, ConsoleMessage } from 'playwright-core';
import sharp from 'sharp';
import request from 'supertest';
import { addCalendarDays, shanghaiDate } from '../../workflows/rules/time';
import { fileItemsOf } from '../../workflows/goods-claim/evidence';
import { artifactPath, describeInBrowser, startBrowserHarness } from '../support/browser';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import type { ProcessHarness } from '../support/process-harness';
import { bearer, eventually, linkPathIn, mailsTo } from '../support/probes';

describeInBrowser(`the customer completes a goods claim on its page in a real Chromium`, () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let closeHarness: (() => Promise<void>) | undefined;
  let baseUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    ({ h, browser, baseUrl, close: closeHarness } = await startBrowserHarness());
    company = await seedServiceCompany(h.database.db, { roles: [], contact: { email: 'wangfang@cmcc.test', name: 'Wang Fang', locale: 'en' } });
    await company.addDevice('GC-PAGE-1');
  }, 120_000);

  afterAll(() => closeHarness?.());

  test('the emailed link: the files uploaded one requirement at a time with the widget, the material code sent with the form, the claim goes to resolution', async () => {
    const registered = await request(h.app)
      .post('/goods-claims')
      .set(bearer(h.tokens.service_desk))
      .send({
        customerId: company.customerId,
        contactId: company.contactId,
        kind: 'transport_damage',
        arrivedOn: addCalendarDays(shanghaiDate(Date.now()), -2),
        carriedByUs: true,
        deviceSerials: ['GC-PAGE-1'],
        identifiers: { packingListNumber: 'PL-1', boxNumber: 'BOX-2', quantity: 1 },
        description: 'The outer box was crushed, one card bent',
      });
    expect(registered.status).toBe(201);
    const number: string = registered.body.claimNumber;
    const [mail] = await eventually(() => mailsTo(h.smtp, 'wangfang@cmcc.test', `[${number}] Goods claim: evidence needed`), (mails) => mails.length === 1);

    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'en-US' });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));

    expect((await page.goto(`${baseUrl}${linkPathIn(mail!)!}`))?.status()).toBe(200);
    await expect(page.locator('h1').textContent()).resolves.toBe('Your goods claim');
    await expect(page.locator('body').textContent()).resolves.toContain('• tilt/shock labels');
    await expect(page.getByLabel('Packing list number').inputValue()).resolves.toBe('PL-1');

    const items = fileItemsOf('transport_damage');
    for (const [index, item] of items.entries()) {
      await page.locator('#evidence-item').selectOption(item);
      const photo = await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 30 * index, g: 90, b: 160 } } }).png().toBuffer();
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.locator('#evidence-files').click()]);
      await chooser.setFiles([{ name: `evidence-${index + 1}.png`, mimeType: 'image/png', buffer: photo }]);
      await page.locator('#evidence-upload').click();
      await page.locator('#evidence-list li').nth(index).waitFor();
    }
    const waiting = await eventually(async () => (await request(h.app).get(`/goods-claims/${number}`).set(bearer(h.tokens.service_desk))).body, (b) => b.evidence.missing.length === 1);
    expect(waiting.evidence.missing).toEqual(['material code']);
    expect(waiting.evidence.files.map((file: { uploadedByRole: string }) => file.uploadedByRole)).toEqual(items.map(() => 'customer'));

    await page.getByLabel('Material code').fill('02310QFX');
    await page.screenshot({ path: artifactPath('goods-claim-page.png'), fullPage: true });
    await Promise.all([page.waitForResponse((response) => response.request().method() === 'POST' && !response.url().includes('/evidence')), page.getByRole('button', { name: 'Save the numbers' }).click()]);
    await page.waitForLoadState();
    await expect(page.locator('body').textContent()).resolves.toContain(`claim ${number} is complete and goes to review`);
    const claim = await eventually(async () => (await request(h.app).get(`/goods-claims/${number}`).set(bearer(h.tokens.service_desk))).body, (b) => b.status === 'resolution');
    expect(claim.identifiers).toMatchObject({ packingListNumber: 'PL-1', boxNumber: 'BOX-2', quantity: 1, materialCode: '02310QFX' });
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);
});
