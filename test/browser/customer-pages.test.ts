import request from 'supertest';
import type { Browser, ConsoleMessage } from 'playwright-core';
import { artifactPath, describeInBrowser, startBrowserHarness } from '../support/browser';
import type { ProcessHarness } from '../support/process-harness';

/** The path (`/links/<token>`) of the first signed link in a mail's text. */
const linkPathIn = (text: string) => /https?:\/\/[^/\s]+(\/links\/[\w.-]+)/.exec(text)?.[1];

async function eventually<T>(probe: () => Promise<T> | T, accept: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describeInBrowser(`customer pages in a real Chromium`, () => {
  let h: ProcessHarness;
  let closeHarness: (() => Promise<void>) | undefined;
  let baseUrl: string;
  let browser: Browser;
  let customerId: string;
  let contactId: string;
  const as = (role: 'manager' | 'service_desk') => ({ Authorization: `Bearer ${h.tokens[role]}` });

  beforeAll(async () => {
    ({ h, browser, baseUrl, close: closeHarness } = await startBrowserHarness());
    const db = h.database.db;
    customerId = (
      await db
        .insertInto('customers')
        .values({ code: 'CMCC-SH', name: 'Shanghai Mobile', customer_class: 'A', sla_class: '7x24', billing_day: 25, spare_part_first: true, downgraded_at: null })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    contactId = (
      await db.insertInto('contacts').values({ customer_id: customerId, name: 'Li Lei', email: 'lilei@cmcc.test', locale: 'en', phone: null }).returning('id').executeTakeFirstOrThrow()
    ).id;
    const product = await db.insertInto('products').values({ code: 'NE40E-LPU', name: 'Line processing unit', product_line: 'network', list_price_cents: 1_250_000 }).returning('id').executeTakeFirstOrThrow();
    await db.insertInto('devices').values({ serial: 'SN-BROWSER', product_id: product.id, customer_id: customerId, site_id: null, warranty_end: '2027-03-31', first_power_on_at: null }).execute();
  }, 120_000);

  afterAll(() => closeHarness?.());

  test('the receipt link from the shipment email: the page opens on a phone without JavaScript, the discrepancy is filled and sent, the done page shows the deadline; the link then shows it was used', async () => {
    const applied = await request(h.app)
      .post('/spare-parts')
      .set(as('service_desk'))
      .send({ customerId, contactId, failedSerial: 'SN-BROWSER', faultDescription: 'line card dead', deliveryAddress: '88 Century Ave, Shanghai' });
    expect(applied.status).toBe(201);
    const loanNumber: string = applied.body.loanNumber;
    expect((await request(h.app).post(`/spare-parts/${loanNumber}/approve`).set(as('manager')).send({})).status).toBe(200);
    const shipped = await request(h.app).post(`/spare-parts/${loanNumber}/shipment`).set(as('service_desk')).send({ replacementSerial: 'R-SN-BROWSER', carrier: 'SF Express', trackingNumber: 'SF1234567890' });
    expect(shipped.status).toBe(200);
    const mail = await eventually(() => h.smtp.received.find((received) => received.subject.includes(`[${loanNumber}]`) && received.subject.includes('shipped')), (found) => found !== undefined);
    const linkPath = linkPathIn(mail!.text);
    expect(linkPath).toBeDefined();

    // A phone-sized window with JavaScript off: the page must work as plain HTML.
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, javaScriptEnabled: false, locale: 'en-US' });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));

    const opened = await page.goto(`${baseUrl}${linkPath!}`);
    expect(opened?.status()).toBe(200);
    await expect(page.locator('h1').textContent()).resolves.toBe('Confirm receipt of your replacement part');
    for (const value of [loanNumber, 'R-SN-BROWSER', 'SF Express', 'SF1234567890']) await expect(page.getByText(value, { exact: true }).count()).resolves.toBe(1);
    // Readable on a phone: nothing wider than the screen.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.screenshot({ path: artifactPath('receipt-page-en.png'), fullPage: true });

    await page.getByRole('link', { name: '中文' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('确认签收备件');
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await page.screenshot({ path: artifactPath('receipt-page-zh-CN.png'), fullPage: true });

    await page.getByLabel('差异说明').fill('Outer box dented; the part itself looks fine.');
    await page.screenshot({ path: artifactPath('receipt-page-filled.png'), fullPage: true });
    const [answer] = await Promise.all([page.waitForResponse((response) => response.request().method() === 'POST'), page.getByRole('button', { name: '确认签收' }).click()]);
    expect(answer.status()).toBe(200);
    await page.waitForLoadState();
    await expect(page.locator('h1').textContent()).resolves.toBe('已完成');
    await expect(page.locator('body').textContent()).resolves.toContain(`借用 ${loanNumber} 的备件已确认签收`);
    const loan = await h.database.db.selectFrom('spare_part_loans').selectAll().where('loan_number', '=', loanNumber).executeTakeFirstOrThrow();
    expect(loan).toMatchObject({ status: 'awaiting_return', receipt_discrepancy: 'Outer box dented; the part itself looks fine.' });
    expect(loan.receipt_confirmed_by).toContain('customer');
    const [year, month, day] = String(loan.return_due_date).split('-');
    await expect(page.locator('dd').last().textContent()).resolves.toBe(`${year}年${Number(month)}月${Number(day)}日 23:59（北京时间）`);
    await page.screenshot({ path: artifactPath('receipt-done-zh-CN.png'), fullPage: true });

    const again = await page.goto(`${baseUrl}${linkPath!}`);
    expect(again?.status()).toBe(410);
    await expect(page.locator('h1').textContent()).resolves.toBe('This link has already been used');
    await page.screenshot({ path: artifactPath('receipt-used-en.png'), fullPage: true });

    // No CSP violation, no error, on any of these pages.
    expect(problems.filter((text) => !/status of 410/.test(text))).toEqual([]);
    await context.close();
  });
});
