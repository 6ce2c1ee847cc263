import type { Browser, ConsoleMessage, Page } from 'playwright-core';
import request from 'supertest';
import { artifactPath, describeInBrowser, startBrowserHarness } from '../support/browser';
import { pdfDocument, pngImage } from '../support/evidence';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import type { ProcessHarness } from '../support/process-harness';
import { bearer, eventually, linkPathIn, mailsTo } from '../support/probes';

const HOUR = 3_600_000;
/** `YYYY-MM-DDTHH:mm` in China time, `hours` ago: what a datetime-local picker holds. */
const chinaLocalAgo = (hours: number) => new Date(Date.now() + 8 * HOUR - hours * HOUR).toISOString().slice(0, 16);

describeInBrowser(`the end user applies for DOA and uploads the evidence in a real Chromium`, () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let closeHarness: (() => Promise<void>) | undefined;
  let baseUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    ({ h, browser, baseUrl, close: closeHarness } = await startBrowserHarness());
    company = await seedServiceCompany(h.database.db, { roles: [], contact: { email: 'wangfang@cmcc.test', name: 'Wang Fang', locale: 'en' } });
    await company.addDevice('SN-DOA-PAGE-1');
  }, 120_000);

  afterAll(() => closeHarness?.());

  const consoleErrors = (page: Page) => {
    const problems: string[] = [];
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    return problems;
  };

  test('the application link: the form with date pickers registers the claim; the evidence link: two files uploaded with progress, listed with a thumbnail, then "complete" tells the desk', async () => {
    await request(h.app).post('/doa-claims/application-links').set(bearer(h.tokens.service_desk)).send({ contactId: company.contactId }).expect(201);
    const [linkMail] = await eventually(() => mailsTo(h.smtp, 'wangfang@cmcc.test', 'Your DOA (dead on arrival) application link'), (mails) => mails.length === 1);
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'en-US' });
    const page = await context.newPage();
    const problems = consoleErrors(page);

    expect((await page.goto(`${baseUrl}${linkPathIn(linkMail!)!}`))?.status()).toBe(200);
    await expect(page.locator('h1').textContent()).resolves.toBe('Apply for DOA (dead on arrival)');
    await page.getByLabel('Serial number of the unit').fill('SN-DOA-PAGE-1');
    await page.getByLabel('Date the unit arrived').fill(chinaLocalAgo(72).slice(0, 10));
    await page.getByLabel('First powered on (China time)').fill(chinaLocalAgo(30));
    await page.getByLabel('When it failed (China time)').fill(chinaLocalAgo(6));
    await page.getByLabel('What happens (symptoms, alarms, indicators)').fill('Boots, then every port stays dark');
    const [answer] = await Promise.all([page.waitForResponse((response) => response.request().method() === 'POST'), page.getByRole('button', { name: 'Send the application' }).click()]);
    expect(answer.status()).toBe(200);
    await page.waitForLoadState();
    const doneText = (await page.locator('body').textContent()) ?? '';
    const number = /DOA-\d{4}-\d{6}/.exec(doneText)?.[0];
    expect(number).toBeDefined();
    await page.screenshot({ path: artifactPath('doa-applied.png'), fullPage: true });

    // The pickers' China times became instants: 24 h from power-on to failure.
    const claim = (await request(h.app).get(`/doa-claims/${number}`).set(bearer(h.tokens.service_desk))).body;
    expect(claim).toMatchObject({ status: 'assessment', appliedByEndUser: true, applied: { by: 'Wang Fang', role: 'customer' }, hoursFromPowerOnToFailure: 24 });
    expect(claim.firstPowerOnAt).toBe(new Date(`${chinaLocalAgo(30)}:00+08:00`).toISOString());

    const [ack] = await eventually(() => mailsTo(h.smtp, 'wangfang@cmcc.test', `[${number}] DOA claim received`), (mails) => mails.length === 1);
    expect((await page.goto(`${baseUrl}${linkPathIn(ack!)!}`))?.status()).toBe(200);
    await expect(page.locator('h1').textContent()).resolves.toBe('Evidence for your DOA claim');
    await page.locator('#evidence-item').selectOption('photos of all six sides of the original packaging');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.locator('#evidence-files').click()]);
    await chooser.setFiles([
      { name: 'box-top.png', mimeType: 'image/png', buffer: await pngImage(120, 1200) },
      { name: 'application-form.pdf', mimeType: 'application/pdf', buffer: pdfDocument(3) },
    ]);
    await page.locator('#evidence-upload').click();
    await page.locator('#evidence-uploads li.done').nth(1).waitFor();
    await expect(page.locator('#evidence-list li').count()).resolves.toBe(2);
    await page.waitForFunction("Array.from(document.querySelectorAll('#evidence-list img')).every((image) => image.complete && image.naturalWidth > 0)");
    await expect(page.locator('#evidence-list img').count()).resolves.toBe(1);
    await page.screenshot({ path: artifactPath('doa-evidence.png'), fullPage: true });

    await page.getByLabel('Anything we should know about the evidence').fill('The box was opened only to power the unit on');
    const [completed] = await Promise.all([page.waitForResponse((response) => response.request().method() === 'POST'), page.getByRole('button', { name: 'Tell us the evidence is complete' }).click()]);
    expect(completed.status()).toBe(200);

    const after = (await request(h.app).get(`/doa-claims/${number}`).set(bearer(h.tokens.service_desk))).body;
    expect(after.evidence.map((file: { fileName: string; sniffedType: string; uploadedByRole: string }) => [file.fileName, file.sniffedType, file.uploadedByRole]).sort()).toEqual([
      ['application-form.pdf', 'application/pdf', 'customer'],
      ['box-top.png', 'image/png', 'customer'],
    ]);
    expect(after.evidence.find((file: { fileName: string }) => file.fileName === 'box-top.png').thumbnailUrl).toMatch(/^\/evidence\/[0-9a-f-]+\/thumbnail$/);
    expect(after.timeline).toContainEqual(expect.objectContaining({ action: 'doa_claim.evidence_submitted', actor: 'Wang Fang', comment: 'The box was opened only to power the unit on' }));
    expect(problems).toEqual([]);
    await context.close();
  });

  test('the rejection email\'s page: the failed conditions listed, "repair it under RMA" chosen with the radio button, the RMA opened; the page then says the offer is answered', async () => {
    await company.addDevice('SN-DOA-PAGE-2');
    const desk = bearer(h.tokens.service_desk);
    const registered = await request(h.app)
      .post('/doa-claims')
      .set(desk)
      .send({ customerId: company.customerId, contactId: company.contactId, deviceSerial: 'SN-DOA-PAGE-2', arrivedOn: chinaLocalAgo(72).slice(0, 10), firstPowerOnAt: new Date(Date.now() - 30 * HOUR).toISOString(), failedAt: new Date(Date.now() - 6 * HOUR).toISOString(), symptoms: 'Dead' });
    const number: string = registered.body.caseNumber;
    const findings = {
      applicationFormProvided: true, photosProvided: true, isTestProductOrSample: false, originalPackagingProvided: true, packagingDefects: ['torn'],
      packingMaterialsComplete: true, accessoriesCompleteAgainstPackingList: true, physicalDamage: false, sealsUnbroken: false, labelsComplete: true, originalHardwareAndPreinstalledSoftware: true,
    };
    expect((await request(h.app).post(`/doa-claims/${number}/conditions`).set(desk).send({ findings })).status).toBe(200);
    expect((await request(h.app).post(`/doa-claims/${number}/decision`).set(desk).send({})).body.status).toBe('conversion_offered');
    const [rejection] = await eventually(() => mailsTo(h.smtp, 'wangfang@cmcc.test', `[${number}] DOA claim not accepted`), (mails) => mails.length === 1);

    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, locale: 'en-US' });
    const page = await context.newPage();
    const problems = consoleErrors(page);
    const url = `${baseUrl}${linkPathIn(rejection!)!}`;
    expect((await page.goto(url))?.status()).toBe(200);
    await expect(page.locator('h1').textContent()).resolves.toBe('Repair the unit under RMA?');
    const body = (await page.locator('body').textContent()) ?? '';
    expect(body).toContain('the original box is not intact (torn)');
    expect(body).toContain('seals on the unit have been opened');
    await page.getByLabel('Yes: repair it under RMA').check();
    const [answer] = await Promise.all([page.waitForResponse((response) => response.request().method() === 'POST'), page.getByRole('button', { name: 'Send my answer' }).click()]);
    expect(answer.status()).toBe(200);
    await page.waitForLoadState();
    const rmaNumber = /RMA-\d{4}-\d{6}/.exec((await page.locator('body').textContent()) ?? '')?.[0];
    expect(rmaNumber).toBeDefined();
    await page.screenshot({ path: artifactPath('doa-converted.png'), fullPage: true });
    expect((await request(h.app).get(`/doa-claims/${number}`).set(desk)).body).toMatchObject({ status: 'converted', conversion: { answer: 'accepted', rmaCaseNumber: rmaNumber } });

    // Opened again, the single-use link says the offer is answered.
    expect((await page.goto(url))?.status()).toBe(410);
    await expect(page.locator('body').textContent()).resolves.toMatch(/answered|used/);
    expect(problems.filter((text) => !/status of 410/.test(text))).toEqual([]);
    await context.close();
  });
});
