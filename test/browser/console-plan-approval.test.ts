import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { artifactPath, describeInBrowser, startBrowserHarness } from '../support/browser';
import { signedInConsole } from '../support/console';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import type { ProcessHarness } from '../support/process-harness';
import { bearer, eventually, linkPathIn, mailsTo } from '../support/probes';
import { registerFault } from '../fault-repair/support';

const PLAN = {
  summary: 'Replace the failed line card in slot 3',
  steps: ['Back up the configuration', 'Swap the card', 'Restore the configuration and test the ports'],
  window: { start: '2026-12-10T16:00:00Z', end: '2026-12-10T19:00:00Z' },
  rollback: 'Put the old card back and restore the backup',
  parts: [{ productCode: 'NE40E-LPU', quantity: 1 }],
  highRiskOperations: ['hot_swap'],
};

describeInBrowser(`the staff console in a real Chromium`, () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let closeHarness: (() => Promise<void>) | undefined;
  let baseUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    ({ h, browser, baseUrl, close: closeHarness } = await startBrowserHarness());
    company = await seedServiceCompany(h.database.db, { roles: [], contact: { locale: 'en' } });
  }, 120_000);

  afterAll(() => closeHarness?.());

  const decideForm = (page: Page) => page.locator('details.action', { hasText: 'Decide the step the current version waits for' });

  test('a manager signs in by the emailed link, rejects the plan from My work with a comment; the engineer revises it in the console; the manager approves; the customer signs; the manager sees it signed without reloading', async () => {
    const { response: registered } = await registerFault(h, company, 'SN-CONSOLE-1', { severity: 'major' });
    expect(registered.status).toBe(201);
    const number: string = registered.body.caseNumber;
    await eventually(async () => (await request(h.app).get(`/fault-repairs/${number}`).set(bearer(h.tokens.engineer))).body.targets?.length, (count) => count === 4);
    const diagnosed = await request(h.app).post(`/fault-repairs/${number}/diagnosis`).set(bearer(h.tokens.engineer)).send({ outcome: 'needs_plan', findings: 'Card dead' });
    expect(diagnosed.status).toBe(200);
    const planId: string = diagnosed.body.plan.id;
    expect((await request(h.app).post(`/documents/${planId}/versions`).set(bearer(h.tokens.engineer)).send({ content: PLAN })).status).toBe(201);

    // The manager: signed out, the console sends them to sign in; the emailed link signs them in.
    const manager = await signedInConsole(browser, { baseUrl, smtp: h.smtp, email: 'manager@fieldops.test' });
    const cookie = (await manager.context.cookies()).find((candidate) => candidate.name === 'fo_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    // The case page offers the plan's decision too.
    await manager.page.goto(`${baseUrl}/console/fault-repairs/${number}`);
    await manager.page.locator('details.action', { hasText: 'Plan v1 · manager approval' }).waitFor();
    await manager.page.goto(`${baseUrl}/console`);
    const task = manager.page.getByRole('link', { name: new RegExp(`manager approval: Repair plan ${number} v1`) });
    await task.waitFor();
    await manager.page.screenshot({ path: artifactPath('console-my-work.png'), fullPage: true });
    await task.click();
    await manager.page.waitForURL(`**/console/documents/${planId}`);
    // Rejecting without a comment: the API's message is shown beside the comment field.
    await decideForm(manager.page).locator('summary').click();
    await decideForm(manager.page).getByLabel(/^Decision/).selectOption('rejected');
    const commentError = decideForm(manager.page).locator('[data-field="comment"] .field-error');
    expect(await commentError.isVisible()).toBe(false);
    await decideForm(manager.page).getByRole('button', { name: 'Submit' }).click();
    await commentError.waitFor({ state: 'visible' });
    expect(await commentError.textContent()).toContain('a rejection or a failed test needs a comment');
    await decideForm(manager.page).getByLabel(/^Comment/).fill('Add the port test to the rollback');
    await Promise.all([manager.page.waitForEvent('load'), decideForm(manager.page).getByRole('button', { name: 'Submit' }).click()]);
    await manager.page.locator('.headline').getByText('returned').waitFor();

    // The engineer revises the plan in the console: the form starts from v1's content.
    const engineer = await signedInConsole(browser, { baseUrl, smtp: h.smtp, email: 'engineer@fieldops.test' });
    await engineer.page.getByRole('link', { name: new RegExp(`Revise Repair plan ${number}`) }).click();
    const revise = engineer.page.locator('details.action', { hasText: 'Submit a new version' });
    await revise.locator('summary').click();
    const rollback = revise.getByLabel('Rollback');
    await expect(rollback.inputValue()).resolves.toBe(PLAN.rollback);
    await rollback.fill('Put the old card back, restore the backup and test every port');
    await revise.getByLabel(/^Reason/).fill('Port test added to the rollback');
    await Promise.all([engineer.page.waitForEvent('load'), revise.getByRole('button', { name: 'Submit' }).click()]);
    await engineer.page.getByRole('heading', { name: 'Changes from v1 to v2' }).waitFor();
    await expect(engineer.page.locator('ins').allTextContents()).resolves.toEqual(expect.arrayContaining([expect.stringContaining('test every port')]));
    await engineer.page.screenshot({ path: artifactPath('console-plan-versions.png'), fullPage: true });
    // An engineer may not decide: the form is not there.
    expect(await decideForm(engineer.page).count()).toBe(0);

    // The manager's page picked up v2 by itself; they approve it.
    await manager.page.evaluate(() => ((globalThis as unknown as { stillTheSamePage: boolean }).stillTheSamePage = true));
    await manager.page.getByRole('heading', { name: 'Changes from v1 to v2' }).waitFor({ timeout: 15_000 });
    await decideForm(manager.page).locator('summary').click();
    await expect(decideForm(manager.page).getByLabel(/^Version/).inputValue()).resolves.toBe('2');
    await decideForm(manager.page).getByLabel(/^Decision/).selectOption('approved');
    await Promise.all([manager.page.waitForEvent('load'), decideForm(manager.page).getByRole('button', { name: 'Submit' }).click()]);
    await manager.page.locator('.headline').getByText('in review').waitFor();

    // The customer signs on the customer page; the manager's open page shows it signed, not reloaded.
    await manager.page.evaluate(() => ((globalThis as unknown as { stillTheSamePage: boolean }).stillTheSamePage = true));
    const [mail] = await eventually(() => mailsTo(h.smtp, 'lilei@cmcc.test', `Repair plan ${number} (version 2)`), (mails) => mails.length === 1);
    const customer = await browser.newContext({ locale: 'en-US' });
    const customerPage = await customer.newPage();
    await customerPage.goto(baseUrl + linkPathIn(mail!)!);
    await customerPage.getByLabel('I agree and sign this version').check();
    await customerPage.getByRole('button', { name: 'Send my decision' }).click();
    await customerPage.getByText('your signature is recorded').waitFor();
    await manager.page.locator('.headline').getByText('signed').waitFor({ timeout: 15_000 });
    expect(await manager.page.evaluate(() => (globalThis as unknown as { stillTheSamePage?: boolean }).stillTheSamePage)).toBe(true);
    await manager.page.screenshot({ path: artifactPath('console-plan-signed.png'), fullPage: true });

    // The fault repair's own page: status, SLA targets with time left, the timeline, the emails sent.
    await manager.page.goto(`${baseUrl}/console/cases/${number}`);
    await manager.page.waitForURL(`**/console/fault-repairs/${number}`);
    await manager.page.getByRole('heading', { name: 'Emails sent' }).waitFor();
    const pageText = (await manager.page.locator('main').textContent()) ?? '';
    expect(pageText).toContain('awaiting dispatch');
    expect(pageText).toMatch(/left|overdue by/);
    expect(pageText).toContain(`Please sign: Repair plan ${number} (version 2)`);
    await manager.page.screenshot({ path: artifactPath('console-fault-repair.png'), fullPage: true });
    await Promise.all([manager.context.close(), engineer.context.close(), customer.close()]);
  });
});
