import request from 'supertest';
import type { Response } from 'supertest';
import { z } from 'zod';
import { createSignedLinks } from '../../activities/shared/signed-links';
import { CONFIRM_RECEIPT_ACTION } from '../../activities/spare-part/activities';
import { text } from '../../api/pages/link-page';
import { defineLinkAction } from '../../api/routes/links';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { createTestApp, testConfig, testSignedLinks } from '../support/app';

const SCRIPT = '<script>alert(1)</script>';
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

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

/** A browser's GET of a page: the HTML, its form nonce and the cookie that goes with it. */
async function openPage(app: ProcessHarness['app'], path: string) {
  const response = await request(app).get(path).set('Accept', BROWSER_ACCEPT);
  const nonce = /name="_nonce" value="([^"]+)"/.exec(response.text)?.[1];
  const cookie = (response.headers['set-cookie'] as unknown as string[] | undefined)?.map((line) => line.split(';')[0]).join('; ');
  return { response, nonce, cookie };
}

function expectPageHeaders(response: Response) {
  expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(response.headers['content-security-policy']).toContain("default-src 'none'");
  expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(response.headers['content-security-policy']).toContain("form-action 'self'");
  expect(response.headers['x-frame-options']).toBe('DENY');
  expect(response.headers['referrer-policy']).toBe('no-referrer');
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.text).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  // No script, no external asset: everything the page needs is in it.
  expect(response.text).not.toMatch(/<script|<link rel="stylesheet"|src="http/i);
}

describe('customer pages: the emailed links open HTML pages in a browser (real worker, PostgreSQL, SMTP)', () => {
  let h: ProcessHarness;
  let customerId: string;
  let zhContactId: string;
  let enContactId: string;
  const as = (role: 'manager' | 'service_desk' | 'engineer') => ({ Authorization: `Bearer ${h.tokens[role]}` });

  async function addDevice(serial: string): Promise<void> {
    const product = await h.database.db.selectFrom('products').select('id').executeTakeFirstOrThrow();
    await h.database.db
      .insertInto('devices')
      .values({ serial, product_id: product.id, customer_id: customerId, site_id: null, warranty_end: '2027-03-31', first_power_on_at: null })
      .execute();
  }

  /** A loan shipped to the zh-CN contact, waiting for the receipt; returns its number and the receipt link's path from the email. */
  async function loanAwaitingReceipt(serial: string): Promise<{ loanNumber: string; linkPath: string }> {
    await addDevice(serial);
    const applied = await request(h.app)
      .post('/spare-parts')
      .set(as('service_desk'))
      .send({ customerId, contactId: zhContactId, failedSerial: serial, faultDescription: `${SCRIPT} line card dead`, deliveryAddress: '88 Century Ave, Shanghai' });
    expect(applied.status).toBe(201);
    const loanNumber: string = applied.body.loanNumber;
    expect((await request(h.app).post(`/spare-parts/${loanNumber}/approve`).set(as('manager')).send({})).status).toBe(200);
    const shipped = await request(h.app)
      .post(`/spare-parts/${loanNumber}/shipment`)
      .set(as('service_desk'))
      .send({ replacementSerial: `R-${serial}`, carrier: 'SF Express', trackingNumber: `SF${serial}` });
    expect(shipped.status).toBe(200);
    const mail = await eventually(
      () => h.smtp.received.find((received) => received.subject.includes(`[${loanNumber}]`) && received.subject.includes('备件已发货')),
      (found) => found !== undefined,
    );
    const linkPath = linkPathIn(mail!.text);
    expect(linkPath).toBeDefined();
    return { loanNumber, linkPath: linkPath! };
  }

  const loanRow = (loanNumber: string) => h.database.db.selectFrom('spare_part_loans').selectAll().where('loan_number', '=', loanNumber).executeTakeFirstOrThrow();

  beforeAll(async () => {
    h = await startProcessHarness();
    await h.startWorker();
    const db = h.database.db;
    customerId = (
      await db
        .insertInto('customers')
        .values({ code: 'CMCC-SH', name: `Shanghai Mobile ${SCRIPT}`, customer_class: 'A', sla_class: '7x24', billing_day: 25, spare_part_first: true, downgraded_at: null })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    zhContactId = (
      await db.insertInto('contacts').values({ customer_id: customerId, name: '王芳', email: 'wangfang@cmcc.test', locale: 'zh-CN', phone: null }).returning('id').executeTakeFirstOrThrow()
    ).id;
    enContactId = (
      await db.insertInto('contacts').values({ customer_id: customerId, name: `Li Lei ${SCRIPT}`, email: 'lilei@cmcc.test', locale: 'en', phone: null }).returning('id').executeTakeFirstOrThrow()
    ).id;
    await db.insertInto('products').values({ code: 'NE40E-LPU', name: 'Line processing unit', product_line: 'network', list_price_cents: 1_250_000 }).execute();
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  test('the receipt page, in the contact\'s language (zh-CN) and in English by ?lang=; the JSON API of the same URL is unchanged', async () => {
    const { loanNumber, linkPath } = await loanAwaitingReceipt('SN-PAGE-1');

    const zh = await openPage(h.app, linkPath);
    expect(zh.response.status).toBe(200);
    expectPageHeaders(zh.response);
    expect(zh.response.headers.vary).toContain('Accept');
    expect(zh.response.text).toContain('<html lang="zh-CN">');
    expect(zh.response.text).toContain('确认签收备件');
    expect(zh.response.text).toContain('王芳，您好：');
    for (const value of [loanNumber, 'R-SN-PAGE-1', 'SF Express', 'SFSN-PAGE-1']) expect(zh.response.text).toContain(value);
    expect(zh.response.text).toContain('15 个工作日');
    expect(zh.response.text).toContain('<textarea id="field-discrepancy" name="discrepancy" maxlength="2000"');
    expect(zh.response.text).toContain(`href="${linkPath}?lang=en"`);
    expect(zh.nonce).toMatch(/^[\w-]{22}\.[\w-]+$/);
    expect(zh.cookie).toMatch(/^fo_form=[\w-]{22}$/);
    const setCookie = String(zh.response.headers['set-cookie']);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain(`Path=${linkPath}`);

    const en = await request(h.app).get(`${linkPath}?lang=en`).set('Accept', BROWSER_ACCEPT);
    expect(en.status).toBe(200);
    expect(en.text).toContain('<html lang="en">');
    expect(en.text).toContain('Confirm receipt of your replacement part');
    expect(en.text).toContain('Dear 王芳,');
    for (const label of ['Loan number', 'Replacement serial number', 'Carrier', 'Tracking number']) expect(en.text).toContain(`<dt>${label}</dt>`);
    expect(en.text).toContain('within 15 China working days of receipt');
    expect(en.text).toContain('<button type="submit">Confirm receipt</button>');

    // An API client (no Accept, or */*) still gets the JSON description.
    for (const accept of [undefined, '*/*', 'application/json']) {
      const json = accept ? await request(h.app).get(linkPath).set('Accept', accept) : await request(h.app).get(linkPath);
      expect(json.status).toBe(200);
      expect(json.headers['content-type']).toContain('application/json');
      expect(json.body).toMatchObject({ action: CONFIRM_RECEIPT_ACTION, singleUse: true, used: false });
    }
  });

  test('the form POST confirms the receipt and shows the return deadline; a second use shows the used page (410)', async () => {
    const { loanNumber, linkPath } = await loanAwaitingReceipt('SN-PAGE-2');
    const page = await openPage(h.app, `${linkPath}?lang=en`);

    const done = await request(h.app)
      .post(linkPath)
      .set('Cookie', page.cookie!)
      .type('form')
      .send({ _nonce: page.nonce!, _lang: 'en', discrepancy: 'outer box dented' });
    expect(done.status).toBe(200);
    expectPageHeaders(done);
    expect(done.text).toContain(`the receipt of loan ${loanNumber} is confirmed`);
    const loan = await loanRow(loanNumber);
    expect(loan.status).toBe('awaiting_return');
    expect(loan.receipt_discrepancy).toBe('outer box dented');
    expect(done.text).toContain(`<dt>Return the failed part by</dt><dd>${loan.return_due_date} 23:59 (China time)</dd>`);

    const usedPage = await request(h.app).get(linkPath).set('Accept', BROWSER_ACCEPT);
    expect(usedPage.status).toBe(410);
    expectPageHeaders(usedPage);
    expect(usedPage.text).toContain('此链接已被使用');
    expect(usedPage.text).not.toContain('<form');

    const again = await request(h.app).post(linkPath).set('Cookie', page.cookie!).type('form').send({ _nonce: page.nonce!, _lang: 'en', discrepancy: '' });
    expect(again.status).toBe(410);
    expect(again.text).toContain('This link has already been used');
    expect((await request(h.app).get(linkPath)).body).toMatchObject({ used: true });
  });

  test('CSRF: a POST without the nonce, without the cookie, with another link\'s nonce or marked cross-site is refused (403) and changes nothing', async () => {
    const { loanNumber, linkPath } = await loanAwaitingReceipt('SN-PAGE-3');
    const { linkPath: otherPath } = await loanAwaitingReceipt('SN-PAGE-4');
    const page = await openPage(h.app, linkPath);
    const other = await openPage(h.app, otherPath);

    const attempts = [
      request(h.app).post(linkPath).set('Cookie', page.cookie!).type('form').send({ discrepancy: 'none' }),
      request(h.app).post(linkPath).type('form').send({ _nonce: page.nonce!, discrepancy: 'none' }),
      request(h.app).post(linkPath).set('Cookie', other.cookie!).type('form').send({ _nonce: other.nonce!, discrepancy: 'none' }),
      request(h.app).post(linkPath).set('Cookie', page.cookie!).set('Sec-Fetch-Site', 'cross-site').type('form').send({ _nonce: page.nonce!, discrepancy: 'none' }),
      request(h.app).post(linkPath).set('Cookie', page.cookie!).type('form').send({ _nonce: `${page.nonce!}x`, discrepancy: 'none' }),
    ];
    for (const attempt of attempts) {
      const refused = await attempt;
      expect(refused.status).toBe(403);
      expectPageHeaders(refused);
      expect(refused.text).toContain('无法受理此表单');
    }
    expect((await loanRow(loanNumber)).status).toBe('shipped');
    expect((await request(h.app).get(linkPath)).body).toMatchObject({ used: false });
  });

  test('expired (410) and invalid (401) links get their pages, in the browser\'s language', async () => {
    const { linkPath } = await loanAwaitingReceipt('SN-PAGE-5');
    const twoHoursAgo = () => new Date(Date.now() - 2 * 3_600_000);
    const expired = createSignedLinks({ secret: testConfig.signedLinkSecret, publicBaseUrl: testConfig.publicBaseUrl, ttlHours: 1, now: twoHoursAgo })
      .issue({ caseId: '00000000-0000-4000-8000-000000000000', action: CONFIRM_RECEIPT_ACTION, singleUse: true });

    const expiredPage = await request(h.app).get(`/links/${expired.token}`).set('Accept', BROWSER_ACCEPT).set('Accept-Language', 'en-GB,en;q=0.8');
    expect(expiredPage.status).toBe(410);
    expectPageHeaders(expiredPage);
    expect(expiredPage.text).toContain('This link has expired');
    const expiredZh = await request(h.app).get(`/links/${expired.token}?lang=zh-CN`).set('Accept', BROWSER_ACCEPT);
    expect(expiredZh.status).toBe(410);
    expect(expiredZh.text).toContain('此链接已过期');

    const tampered = `${linkPath.slice(0, -3)}${linkPath.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    for (const path of [tampered, '/links/not-a-link']) {
      const invalid = await request(h.app).get(path).set('Accept', BROWSER_ACCEPT).set('Accept-Language', 'zh-CN,zh;q=0.9');
      expect(invalid.status).toBe(401);
      expectPageHeaders(invalid);
      expect(invalid.text).toContain('此链接无效');
      const post = await request(h.app).post(path).type('form').send({ _nonce: 'x.y', discrepancy: 'none' });
      expect(post.status).toBe(401);
      expect(post.headers['content-type']).toBe('text/html; charset=utf-8');
    }
    // The JSON API answers as before.
    const json = await request(h.app).get(`/links/${expired.token}`);
    expect(json.status).toBe(410);
    expect(json.body.error.code).toBe('link_expired');
  });

  test('escaping: a contact name, a customer name and a typed fault description containing <script> render as text', async () => {
    const issued = await request(h.app).post('/spare-parts/application-links').set(as('service_desk')).send({ contactId: enContactId });
    expect(issued.status).toBe(201);
    const mail = await eventually(() => h.smtp.received.find((received) => received.to.includes('lilei@cmcc.test') && received.subject.includes('application link')), (found) => found !== undefined);
    const linkPath = linkPathIn(mail!.text)!;

    const page = await openPage(h.app, linkPath);
    expect(page.response.status).toBe(200);
    expect(page.response.text).toContain('<html lang="en">');
    expect(page.response.text).toContain('Dear Li Lei &lt;script&gt;alert(1)&lt;/script&gt;,');
    expect(page.response.text).toContain('<dd>Shanghai Mobile &lt;script&gt;alert(1)&lt;/script&gt;</dd>');
    expect(page.response.text).not.toContain(SCRIPT);
    for (const name of ['failedSerial', 'faultDescription', 'deliveryAddress', 'relatedCaseNumber']) expect(page.response.text).toContain(`name="${name}"`);

    // Sent without the serial: the form comes back (400) with what was typed, escaped, and the field named.
    const refused = await request(h.app)
      .post(linkPath)
      .set('Cookie', page.cookie!)
      .type('form')
      .send({ _nonce: page.nonce!, _lang: 'en', failedSerial: '  ', faultDescription: `${SCRIPT}"><b>x</b>`, deliveryAddress: '88 Century Ave', relatedCaseNumber: '' });
    expect(refused.status).toBe(400);
    expectPageHeaders(refused);
    expect(refused.text).not.toContain(SCRIPT);
    expect(refused.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;b&gt;x&lt;/b&gt;</textarea>');
    expect(refused.text).toContain('Serial number of the failed device: Please fill this in.');
    expect(refused.text).toContain('aria-invalid="true"');
    expect((await request(h.app).get(linkPath)).body).toMatchObject({ used: false });

    // A serial the customer does not have: the action's own refusal names the field.
    const unknown = await request(h.app)
      .post(linkPath)
      .set('Cookie', page.cookie!)
      .type('form')
      .send({ _nonce: page.nonce!, _lang: 'en', failedSerial: 'SN-NOT-INSTALLED', faultDescription: 'dead', deliveryAddress: '88 Century Ave' });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain("Serial number of the failed device: no device SN-NOT-INSTALLED in this customer&#39;s installed base");
    expect(unknown.text).toContain('value="SN-NOT-INSTALLED"');
    expect((await request(h.app).get(linkPath)).body).toMatchObject({ used: false });

    // Then the application goes through the form, and the link is used.
    await addDevice('SN-PAGE-APPLY');
    const applied = await request(h.app)
      .post(linkPath)
      .set('Cookie', page.cookie!)
      .type('form')
      .send({ _nonce: page.nonce!, _lang: 'en', failedSerial: 'SN-PAGE-APPLY', faultDescription: `${SCRIPT} no light`, deliveryAddress: '88 Century Ave', relatedCaseNumber: '' });
    expect(applied.status).toBe(200);
    const loanNumber = /<dt>Application number<\/dt><dd>([^<]+)<\/dd>/.exec(applied.text)?.[1];
    expect(loanNumber).toBeDefined();
    expect(await loanRow(loanNumber!)).toMatchObject({ fault_description: `${SCRIPT} no light`, related_case_id: null, status: 'pending_approval' });
  });

  test('emails carry an HTML part beside the unchanged text part: the same link, every value escaped', async () => {
    const { loanNumber, linkPath } = await loanAwaitingReceipt('SN-PAGE-6');
    const row = await h.database.db.selectFrom('email_outbox').selectAll().where('idempotency_key', 'like', `%${loanNumber}/shipped%`).executeTakeFirstOrThrow();
    expect(row.body_text).toContain(`http://fieldops.test${linkPath}`);
    expect(row.body_text).toContain('收到后请点击以下链接确认签收，并注明任何差异：');
    expect(row.body_html).toContain(`<a href="http://fieldops.test${linkPath}"`);
    expect(row.body_html).toContain('<html lang="zh-CN">');
    expect(row.body_html).toContain('备件 R-SN-PAGE-6 已由 SF Express 发出，运单号 SFSN-PAGE-6。');
    // Over SMTP: one mail with both parts.
    const mail = h.smtp.received.find((received) => received.subject.includes(`[${loanNumber}]`) && received.subject.includes('备件已发货'))!;
    expect((mail.headers.get('content-type') as { value: string }).value).toBe('multipart/alternative');
    expect(mail.text).toBe(row.body_text);

    const link = await request(h.app).post('/spare-parts/application-links').set(as('service_desk')).send({ contactId: enContactId });
    expect(link.status).toBe(201);
    const application = await h.database.db.selectFrom('email_outbox').selectAll().where('template', '=', 'spare_part_application_link').where('recipient', '=', 'lilei@cmcc.test').executeTakeFirstOrThrow();
    expect(application.body_text).toContain(`Dear Shanghai Mobile ${SCRIPT},`);
    expect(application.body_html).toContain('Dear Shanghai Mobile &lt;script&gt;alert(1)&lt;/script&gt;,');
    expect(application.body_html).not.toContain(SCRIPT);
  });

  test('a new process adds its page by registering an action: a choice (sign / object) with a comment, and a superseded version pointing to the newer one', async () => {
    const decisions: { caseId: string; decision: string; comment: string | null }[] = [];
    const links = testSignedLinks();
    const signAction = defineLinkAction({
      action: 'test.plan-signature',
      summary: 'Sign the repair plan or object to it',
      body: z.object({ decision: z.enum(['sign', 'object']), comment: z.string().trim().max(500).nullable().default(null) }),
      perform: async ({ claims, body }) => {
        decisions.push({ caseId: claims.caseId, ...body });
        return { decision: body.decision };
      },
      page: {
        title: text('Sign the repair plan', '签署维修方案'),
        submitLabel: text('Send', '提交'),
        fields: [
          { name: 'decision', kind: 'choice', required: true, label: text('Your decision', '您的决定'), choices: [{ value: 'sign', label: text('I sign the plan', '同意并签署') }, { value: 'object', label: text('I object', '提出异议') }] },
          { name: 'comment', kind: 'textarea', required: false, maxLength: 500, label: text('Comment', '意见') },
        ],
        describe: async (claims) =>
          claims.caseId === 'plan-v1'
            ? { kind: 'superseded', locale: 'en', message: text('Version 1 of the plan was replaced by version 2.', '方案第 1 版已被第 2 版取代。'), newerUrl: newer.url }
            : { kind: 'form', locale: 'en', recipientName: 'Li Lei', intro: text('Please read the plan and sign it, or object with a comment.', '请阅读方案后签署，或填写意见提出异议。'), facts: [{ label: text('Plan version', '方案版本'), value: '2' }] },
        done: (result) => ({ message: text(`Recorded: ${String(result.decision)}.`, `已记录：${String(result.decision)}。`), facts: [] }),
      },
    });
    const pageless = defineLinkAction({ action: 'test.pageless', summary: 'An action with no page yet', body: z.object({}), perform: async () => ({ ok: true }) });
    const app = createTestApp(h.database.db, { links, linkActions: [signAction, pageless] });
    // An action without a page is answered by the JSON API, as before pages existed.
    const bare = links.issue({ caseId: 'x', action: 'test.pageless', singleUse: false });
    const bareGet = await request(app).get(`/links/${bare.token}`).set('Accept', BROWSER_ACCEPT);
    expect(bareGet.status).toBe(200);
    expect(bareGet.body).toMatchObject({ action: 'test.pageless', summary: 'An action with no page yet' });

    const older = links.issue({ caseId: 'plan-v1', action: 'test.plan-signature', singleUse: true });
    const newer = links.issue({ caseId: 'plan-v2', action: 'test.plan-signature', singleUse: true });

    const superseded = await request(app).get(`/links/${older.token}`).set('Accept', BROWSER_ACCEPT);
    expect(superseded.status).toBe(410);
    expectPageHeaders(superseded);
    expect(superseded.text).toContain('A newer version exists');
    expect(superseded.text).toContain('Version 1 of the plan was replaced by version 2.');
    expect(superseded.text).toContain(`<a class="button" href="${newer.url}">Open the newer version</a>`);
    expect(superseded.text).not.toContain('<form');

    const page = await openPage(app, `/links/${newer.token}`);
    expect(page.response.status).toBe(200);
    expect(page.response.text).toContain('<input type="radio" name="decision" value="sign" required> I sign the plan');
    expect(page.response.text).toContain('<input type="radio" name="decision" value="object"> I object');

    const unchosen = await request(app).post(`/links/${newer.token}`).set('Cookie', page.cookie!).type('form').send({ _nonce: page.nonce!, _lang: 'zh-CN', comment: 'too expensive' });
    expect(unchosen.status).toBe(400);
    expect(unchosen.text).toContain('您的决定：请选择一项。');
    expect(unchosen.text).toContain('>too expensive</textarea>');

    const objected = await request(app).post(`/links/${newer.token}`).set('Cookie', page.cookie!).type('form').send({ _nonce: page.nonce!, _lang: 'en', decision: 'object', comment: 'too expensive' });
    expect(objected.status).toBe(200);
    expect(objected.text).toContain('Recorded: object.');
    expect(decisions).toEqual([{ caseId: 'plan-v2', decision: 'object', comment: 'too expensive' }]);
  });
});
