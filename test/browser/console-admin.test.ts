import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { artifactPath, describeInBrowser, startBrowserHarness } from '../support/browser';
import { signedInConsole, signInLinkFor } from '../support/console';
import { seedServiceCompany, uniqueTag, type ServiceCompany } from '../support/fixtures';
import type { ProcessHarness } from '../support/process-harness';
import { bearer, eventually } from '../support/probes';
import { applyForSparePart } from '../support/spare-part';
import { registerFault } from '../fault-repair/support';

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }

/** axe-core in the page: the serious and critical violations (WCAG 2 A/AA and best practices), each with where. */
async function seriousViolations(page: Page): Promise<string[]> {
  // As a script evaluated by the test, not an inline <script>: the console's CSP (rightly) refuses those.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate<AxeViolation[]>(
    "axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }).then((result) => result.violations)",
  );
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes.map((node) => node.target.join(' ')).slice(0, 3).join(', ')}`);
}

/** Presses Tab until the element matching `selector` has the focus (at most 40 times). */
async function tabTo(page: Page, selector: string): Promise<void> {
  for (let presses = 0; presses < 40; presses++) {
    if (await page.evaluate<boolean>(`document.activeElement !== null && document.activeElement.matches(${JSON.stringify(selector)})`)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

describeInBrowser(`the staff console's admin, calendar, language, accessibility and role visibility in a real Chromium`, () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let closeHarness: (() => Promise<void>) | undefined;
  let baseUrl: string;
  let browser: Browser;
  let faultNumber: string;
  let planId: string;
  let loanNumber: string;

  beforeAll(async () => {
    ({ h, browser, baseUrl, close: closeHarness } = await startBrowserHarness());
    company = await seedServiceCompany(h.database.db, { roles: [], contact: { locale: 'en' } });
    const { response } = await registerFault(h, company, 'SN-A11Y-1', { severity: 'major' });
    faultNumber = response.body.caseNumber;
    await eventually(async () => (await request(h.app).get(`/fault-repairs/${faultNumber}`).set(bearer(h.tokens.engineer))).body.targets?.length, (count) => count === 4);
    const diagnosed = await request(h.app).post(`/fault-repairs/${faultNumber}/diagnosis`).set(bearer(h.tokens.engineer)).send({ outcome: 'needs_plan', findings: 'Card dead' });
    planId = diagnosed.body.plan.id;
    const plan = { summary: 'Swap the card', steps: ['Back up', 'Swap', 'Test'], window: { start: '2026-12-10T16:00:00Z', end: '2026-12-10T19:00:00Z' }, rollback: 'Put the old card back', parts: [], highRiskOperations: [] };
    expect((await request(h.app).post(`/documents/${planId}/versions`).set(bearer(h.tokens.engineer)).send({ content: plan })).status).toBe(201);
    await company.addDevice('SN-LOAN-1');
    const applied = await applyForSparePart(h, company, 'SN-LOAN-1');
    expect(applied.status).toBe(201);
    loanNumber = applied.body.loanNumber;
  }, 120_000);

  afterAll(() => closeHarness?.());

  test('an admin finds users and master data under Admin, creates a user and disables them: their open console session ends at once', async () => {
    const admin = await signedInConsole(browser, { baseUrl, smtp: h.smtp, email: 'admin@fieldops.test' });
    const nav = admin.page.getByRole('navigation', { name: 'fieldops console' });
    await nav.getByRole('link', { name: 'Admin' }).click();
    await admin.page.getByRole('heading', { level: 1, name: 'Admin' }).waitFor();
    expect(await seriousViolations(admin.page)).toEqual([]);
    await admin.page.screenshot({ path: artifactPath('console-admin.png'), fullPage: true });

    // Every master-data list is reachable from here and shows its rows.
    for (const [label, shows] of [['Customers', 'CMCC-SH'], ['Contacts', 'lilei@cmcc.test'], ['Products', 'NE40E-LPU'], ['Devices', 'SN-LOAN-1'], ['Sites', undefined]] as const) {
      await admin.page.goto(`${baseUrl}/console/admin`);
      await admin.page.locator('main').getByRole('link', { name: label, exact: true }).click();
      await admin.page.waitForURL(`**/console/${label.toLowerCase()}`);
      if (shows) await admin.page.locator('table.list').getByText(shows).first().waitFor();
    }

    // Create a user with the form the API's schema draws.
    const email = `zhao-${uniqueTag()}@fieldops.test`;
    await admin.page.goto(`${baseUrl}/console/admin`);
    await admin.page.locator('main').getByRole('link', { name: 'Create' }).first().click();
    await admin.page.getByLabel(/^Name/).fill('Zhao Min');
    await admin.page.getByLabel(/^Email/).fill(email);
    await admin.page.getByLabel(/^Role/).selectOption('engineer');
    await Promise.all([admin.page.waitForURL('**/console/users'), admin.page.getByRole('button', { name: 'Submit' }).click()]);

    // The new engineer signs in; then the admin disables them from their page.
    const zhao = await signedInConsole(browser, { baseUrl, smtp: h.smtp, email });
    await zhao.page.getByRole('heading', { level: 1, name: 'My work' }).waitFor();
    await admin.page.locator('table.list tr', { hasText: email }).getByRole('link').click();
    await admin.page.waitForURL('**/console/users/*');
    const disable = admin.page.locator('details.action', { hasText: 'Disable a user' });
    await disable.locator('summary').click();
    await Promise.all([admin.page.waitForEvent('load'), disable.getByRole('button', { name: 'Submit' }).click()]);
    await admin.page.locator('main').getByText(/Disabled at/i).waitFor();
    await zhao.page.reload();
    await zhao.page.waitForURL('**/console/sign-in**');
    const user = await h.database.db.selectFrom('users').select('disabled_at').where('email', '=', email).executeTakeFirstOrThrow();
    expect(user.disabled_at).toBeInstanceOf(Date);
    await Promise.all([admin.context.close(), zhao.context.close()]);
  });

  test('the calendar by year: 12 months, 2027 flagged provisional; an edit made with the keyboard alone is previewed (the deadlines it will not move, with their cases) before it is saved', async () => {
    // An open loan whose 15 working days run across 2027-01-04 was recorded before the edit.
    const db = h.database.db;
    await db.updateTable('spare_part_loans').set({ received_at: new Date('2026-12-28T02:00:00Z'), return_due_date: '2027-01-19', return_due_at: new Date('2027-01-19T15:59:59Z') }).where('loan_number', '=', loanNumber).execute();

    const admin = await signedInConsole(browser, { baseUrl, smtp: h.smtp, email: 'admin@fieldops.test' });
    const { page } = admin;
    await page.goto(`${baseUrl}/console/admin/calendar/2027`);
    await page.getByRole('heading', { level: 1, name: 'Business calendar 2027' }).waitFor();
    await expect(page.locator('#provisional').textContent()).resolves.toContain('Provisional.');
    await expect(page.locator('table.month caption').count()).resolves.toBe(12);
    await expect(page.locator('td[data-date="2027-01-04"]').getAttribute('class')).resolves.toBe('day working');
    await expect(page.locator('td[data-date="2027-01-02"]').textContent()).resolves.toBe('2 weekend');
    // A real grid: Friday 1 and Saturday 2 January side by side on one row, Monday 4 under Friday's week.
    const [friday, saturday, monday] = await Promise.all(['2027-01-01', '2027-01-02', '2027-01-04'].map((date) => page.locator(`td[data-date="${date}"]`).boundingBox()));
    expect(saturday!.y).toBe(friday!.y);
    expect(saturday!.x).toBeGreaterThan(friday!.x);
    expect(monday!.y).toBeGreaterThan(friday!.y);
    expect(monday!.x).toBeLessThan(friday!.x);
    expect(await seriousViolations(page)).toEqual([]);

    // Keyboard only: Tab to each field, type, and press Enter on the button.
    const fill = async (selector: string, text: string) => {
      await tabTo(page, selector);
      await page.keyboard.press('ControlOrMeta+a');
      await page.keyboard.type(text);
    };
    await fill('#cal-source', 'State Council notice 2027');
    await fill('#cal-version', '国办发明电〔2026〕9号');
    await fill('#cal-days', '2027-01-01 holiday 元旦\n2027-01-04 holiday 元旦\n2027-01-05 adjusted_working_day');
    await tabTo(page, 'main form button[type=submit]');
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    // The API's message is shown beside the days, naming the day.
    await expect(page.locator('#cal-days-error').textContent()).resolves.toContain('2027-01-05: 2027-01-05 is a weekday and cannot be an adjusted working day');
    await fill('#cal-days', '2027-01-01 holiday 元旦\n2027-01-04 holiday 元旦\n2027-01-09 adjusted_working_day 元旦补班');
    await tabTo(page, 'main form button[type=submit]');
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);

    await page.getByRole('heading', { level: 1, name: 'What the change to 2027 does' }).waitFor();
    const changes = await page.locator('table.changes tbody tr').allTextContents();
    expect(changes).toEqual([expect.stringMatching(/^2027-01-01working dayholiday · 元旦yes$/), expect.stringMatching(/^2027-01-04working dayholiday · 元旦yes$/), expect.stringMatching(/^2027-01-09weekendadjusted working day · 元旦补班yes$/)]);
    const deadlines = page.locator('table.deadlines tbody tr');
    await expect(deadlines.count()).resolves.toBe(1);
    await expect(deadlines.first().textContent()).resolves.toMatch(new RegExp(`^${loanNumber}Return of the failed part: 15 working days after receipt.*2027-01-01, 2027-01-04, 2027-01-09$`));
    await expect(page.locator('main').textContent()).resolves.toContain('computed once');
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('console-calendar-preview.png'), fullPage: true });
    expect((await request(h.app).get('/calendar/years/2027').set(bearer(h.tokens.admin))).status).toBe(404);

    await tabTo(page, 'main form button[type=submit]');
    await Promise.all([page.waitForURL('**/console/admin/calendar/2027?saved=1'), page.keyboard.press('Enter')]);
    await page.getByText('The calendar is saved.').waitFor();
    expect(await page.locator('#provisional').count()).toBe(0);
    await expect(page.locator('td[data-date="2027-01-04"]').textContent()).resolves.toBe('4 holiday 元旦');
    await expect(page.locator('td[data-date="2027-01-09"]').getAttribute('class')).resolves.toBe('day adjusted_working_day');
    await page.screenshot({ path: artifactPath('console-calendar.png'), fullPage: true });
    // The loan's deadline, recorded before, did not move.
    const loan = await db.selectFrom('spare_part_loans').select('return_due_date').where('loan_number', '=', loanNumber).executeTakeFirstOrThrow();
    expect(loan.return_due_date).toBe('2027-01-19');
    await admin.context.close();
  });

  test('every main page has no serious or critical axe violation; sign-in works with the keyboard alone; My work and a case page fit a phone', async () => {
    // Sign-in, keyboard only.
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${baseUrl}/console`);
    expect(await seriousViolations(page)).toEqual([]);
    await tabTo(page, '#email');
    await page.keyboard.type('manager@fieldops.test');
    const before = h.smtp.received.filter((mail) => mail.to.includes('manager@fieldops.test') && /sign-in link/.test(mail.subject)).length;
    await page.keyboard.press('Enter');
    await page.getByText(/a sign-in link is on its way/).waitFor();
    await page.goto(baseUrl + (await signInLinkFor(h.smtp, 'manager@fieldops.test', before)));
    expect(await seriousViolations(page)).toEqual([]);
    await tabTo(page, 'button[type=submit]:not(.link)');
    await Promise.all([page.waitForURL(/\/console(\?|$)/), page.keyboard.press('Enter')]);
    await page.getByRole('heading', { level: 1, name: 'My work' }).waitFor();

    const pages = [
      ['My work', '/console'],
      ['a list', '/console/customers'],
      ['a fault-repair case', `/console/fault-repairs/${faultNumber}`],
      ['a document', `/console/documents/${planId}`],
      ['a registration form', '/console/new/fault-repairs'],
      ['the register page', '/console/new'],
      ['the boards', '/console/boards'],
      ['the calendar', '/console/admin/calendar/2026'],
    ] as const;
    const found: string[] = [];
    for (const [name, path] of pages) {
      const response = await page.goto(baseUrl + path);
      expect([name, response?.status()]).toEqual([name, 200]);
      found.push(...(await seriousViolations(page)).map((violation) => `${name}: ${violation}`));
    }
    expect(found).toEqual([]);
    await context.close();

    // A phone: nothing wider than the screen.
    const phone = await signedInConsole(browser, { baseUrl, smtp: h.smtp, email: 'manager@fieldops.test', viewport: { width: 390, height: 844 } });
    for (const [name, path] of [['my-work', '/console'], ['case', `/console/fault-repairs/${faultNumber}`]] as const) {
      await phone.page.goto(baseUrl + path);
      await phone.page.locator('h1').first().waitFor();
      expect([name, await phone.page.evaluate<number>('document.documentElement.scrollWidth')]).toEqual([name, 390]);
      await phone.page.screenshot({ path: artifactPath(`console-phone-${name}.png`), fullPage: true });
    }
    await phone.context.close();
  });

  test('a user who switches to 中文 gets the console in Chinese, and still does at their next sign-in', async () => {
    const first = await signedInConsole(browser, { baseUrl, smtp: h.smtp, email: 'service_desk@fieldops.test' });
    await first.page.getByRole('heading', { level: 1, name: 'My work' }).waitFor();
    await first.page.getByRole('button', { name: '中文' }).click();
    await first.page.getByRole('heading', { level: 1, name: '我的待办' }).waitFor();
    const nav = first.page.getByRole('navigation');
    await expect(nav.first().textContent()).resolves.toMatch(/我的待办[\s\S]*案件[\s\S]*登记[\s\S]*看板/);
    expect(await first.page.getAttribute('html', 'lang')).toBe('zh-CN');
    await first.page.getByRole('button', { name: '退出' }).click();
    await first.page.getByText(/您已退出。|You are signed out./).waitFor();
    await first.context.close();

    const again = await signedInConsole(browser, { baseUrl, smtp: h.smtp, email: 'service_desk@fieldops.test' });
    await again.page.getByRole('heading', { level: 1, name: '我的待办' }).waitFor();
    await again.page.goto(`${baseUrl}/console/fault-repairs/${faultNumber}`);
    await again.page.getByRole('heading', { name: '您可以执行的操作' }).waitFor();
    await again.page.getByRole('heading', { name: '已发送邮件' }).waitFor();
    await again.page.screenshot({ path: artifactPath('console-case-zh.png'), fullPage: true });
    expect(await seriousViolations(again.page)).toEqual([]);
    const stored = await h.database.db.selectFrom('users').select('locale').where('email', '=', 'service_desk@fieldops.test').executeTakeFirstOrThrow();
    expect(stored.locale).toBe('zh-CN');
    await again.page.getByRole('button', { name: 'English' }).click();
    await again.page.getByRole('heading', { level: 1, name: /^FR-/ }).waitFor();
    await again.context.close();
  });

  test('a role without the right sees no such action, and the server refuses a forged one from its signed-in browser', async () => {
    const decide = (page: Page) => page.locator('details.action', { hasText: 'Decide the step the current version waits for' });
    const dispatch = (page: Page) => page.locator('details.action', { hasText: 'Dispatch the work order' });
    const approve = (page: Page) => page.locator('details.action', { hasText: 'Approve the loan' });

    const manager = await signedInConsole(browser, { baseUrl, smtp: h.smtp, email: 'manager@fieldops.test' });
    await manager.page.goto(`${baseUrl}/console/fault-repairs/${faultNumber}`);
    await dispatch(manager.page).waitFor();
    await manager.page.goto(`${baseUrl}/console/documents/${planId}`);
    await decide(manager.page).waitFor();
    await manager.page.goto(`${baseUrl}/console/spare-parts/${loanNumber}`);
    await approve(manager.page).waitFor();
    await manager.context.close();

    const billing = await signedInConsole(browser, { baseUrl, smtp: h.smtp, email: 'billing@fieldops.test' });
    await billing.page.goto(`${baseUrl}/console/fault-repairs/${faultNumber}`);
    await billing.page.getByRole('heading', { name: 'What you can do' }).waitFor();
    expect(await dispatch(billing.page).count()).toBe(0);
    expect(await billing.page.locator('details.action').count()).toBe(0);
    await billing.page.goto(`${baseUrl}/console/documents/${planId}`);
    await billing.page.getByRole('heading', { name: 'What you can do' }).waitFor();
    expect(await decide(billing.page).count()).toBe(0);

    const engineer = await signedInConsole(browser, { baseUrl, smtp: h.smtp, email: 'engineer@fieldops.test' });
    await engineer.page.goto(`${baseUrl}/console/spare-parts/${loanNumber}`);
    await engineer.page.getByRole('heading', { name: 'What you can do' }).waitFor();
    expect(await approve(engineer.page).count()).toBe(0);

    // Forged from billing's own signed-in page: with the CSRF token a 403 for the role; without it a 403 csrf_failed.
    const forge = (page: Page, url: string, withToken: boolean) =>
      page.evaluate<{ status: number; code?: string }>(`(async () => {
        const token = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
        const headers = Object.assign({ 'Content-Type': 'application/json' }, ${String(withToken)} ? { 'X-CSRF-Token': token } : {});
        const response = await fetch(${JSON.stringify(url)}, { method: 'POST', credentials: 'include', headers, body: '{"comment":"forged"}' });
        const body = await response.json();
        return { status: response.status, code: body.error && body.error.code };
      })()`);
    await expect(forge(billing.page, `/fault-repairs/${faultNumber}/dispatch`, true)).resolves.toEqual({ status: 403, code: 'forbidden' });
    await expect(forge(engineer.page, `/spare-parts/${loanNumber}/approve`, true)).resolves.toEqual({ status: 403, code: 'forbidden' });
    await expect(forge(engineer.page, `/spare-parts/${loanNumber}/approve`, false)).resolves.toEqual({ status: 403, code: 'csrf_failed' });

    // From another origin (localhost is another site than 127.0.0.1): the browser sends no cookie and
    // may not send the header at all (CORS preflight refused); the loan is still waiting for approval.
    const port = new URL(baseUrl).port;
    const elsewhere = await billing.context.newPage();
    await elsewhere.goto(`http://localhost:${port}/console/sign-in`);
    const crossSite = await elsewhere.evaluate(async (target) => {
      try {
        const response = await fetch(target, { method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': 'stolen' }, body: '{}' });
        return `answered ${response.status}`;
      } catch (error) {
        return `refused: ${(error as Error).name}`;
      }
    }, `http://127.0.0.1:${port}/spare-parts/${loanNumber}/approve`);
    expect(crossSite).toBe('refused: TypeError');
    // A "simple" request needs no preflight and reaches the server, without the cookie (SameSite=Lax); its answer is withheld from the page.
    await elsewhere.evaluate(async (target) => {
      await fetch(target, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'Content-Type': 'text/plain' }, body: '{}' }).catch(() => undefined);
    }, `http://127.0.0.1:${port}/spare-parts/${loanNumber}/approve`);
    // The same request as a server sees it with the engineer's own cookie and token but from another site: refused.
    const cookie = (await engineer.context.cookies()).find((candidate) => candidate.name === 'fo_session')!;
    const token = await engineer.page.locator('meta[name="csrf-token"]').getAttribute('content');
    const replayed = await request(h.app).post(`/spare-parts/${loanNumber}/approve`).set('Cookie', `fo_session=${cookie.value}`).set('X-CSRF-Token', token!).set('Sec-Fetch-Site', 'cross-site').send({});
    expect([replayed.status, replayed.body.error.code]).toEqual([403, 'csrf_failed']);
    const loan = await request(h.app).get(`/spare-parts/${loanNumber}`).set(bearer(h.tokens.manager));
    expect(loan.body.status).toBe('pending_approval');
    await Promise.all([billing.context.close(), engineer.context.close()]);
  });
});
