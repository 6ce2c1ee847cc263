import { randomUUID } from 'node:crypto';
import type { Browser, ConsoleMessage, Page } from 'playwright-core';
import request from 'supertest';
import { insertDocument } from '../../db/repositories/documents';
import { artifactPath, describeInBrowser, startBrowserHarness } from '../support/browser';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import type { ProcessHarness } from '../support/process-harness';
import { bearer, eventually, linkPathIn, mailsTo } from '../support/probes';

const PLAN = {
  summary: 'Replace the failed line card in slot 3',
  steps: ['Back up the configuration', 'Swap the card <script>alert(1)</script>', 'Restore and test the ports'],
  window: { start: '2026-12-10T16:00:00Z', end: '2026-12-10T19:00:00Z' },
  rollback: 'Put the old card back and restore the backup',
  parts: [{ productCode: 'OLT-LC-16', quantity: 1 }],
  highRiskOperations: ['hot_swap', 'restart'],
};

describeInBrowser(`the customer signs a plan in a real Chromium`, () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let closeHarness: (() => Promise<void>) | undefined;
  let baseUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    ({ h, browser, baseUrl, close: closeHarness } = await startBrowserHarness());
    company = await seedServiceCompany(h.database.db, { roles: [], contact: { email: 'wangfang@cmcc.test', name: 'Wang Fang', locale: 'en' } });
  }, 120_000);

  afterAll(() => closeHarness?.());

  async function submitAndApprove(documentId: string, version: number, content: unknown, reason: string | null): Promise<string> {
    await request(h.app).post(`/documents/${documentId}/versions`).set(bearer(h.tokens.engineer)).send({ content, reason }).expect(201);
    await request(h.app).post(`/documents/${documentId}/decisions`).set(bearer(h.tokens.manager)).send({ version, decision: 'approved' }).expect(200);
    const [mail] = await eventually(() => mailsTo(h.smtp, 'wangfang@cmcc.test', `(version ${version})`), (mails) => mails.length === 1);
    return linkPathIn(mail!)!;
  }

  async function choose(page: Page, decision: 'signed' | 'objected', comment?: string): Promise<void> {
    await page.getByLabel(decision === 'signed' ? 'I agree and sign this version' : 'I object (please say why below)').check();
    if (comment) await page.getByLabel('Comment').fill(comment);
    const [answer] = await Promise.all([page.waitForResponse((response) => response.request().method() === 'POST'), page.getByRole('button', { name: 'Send my decision' }).click()]);
    expect(answer.status()).toBe(200);
    await page.waitForLoadState();
  }

  test('the plan link from the email: the customer reads the steps and the high-risk operations, objects to v1, follows the old link to v2 and signs it', async () => {
    const registered = await h.database.db
      .insertInto('cases')
      .values({ kind: 'fault_repair', number: 'FR-2026-007001', status: 'planning', customer_id: company.customerId, device_id: null, workflow_id: 'fault-repair/FR-2026-007001' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const { id: documentId, workflowId } = await insertDocument(h.database.db, {
      id: randomUUID(), caseId: registered.id, kind: 'repair_plan', title: 'Line card replacement', steps: ['manager_approval', 'customer_signature'], contactId: company.contactId, createdBy: 'test',
    });
    await h.env.client.workflow.start('signOffWorkflow', { workflowId, taskQueue: h.taskQueue, args: [{ documentId, caseId: registered.id, kind: 'repair_plan', steps: ['manager_approval', 'customer_signature'] }] });
    const v1Link = await submitAndApprove(documentId, 1, PLAN, null);

    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, javaScriptEnabled: false, locale: 'en-US' });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('dialog', (dialog) => problems.push(`a dialog opened: ${dialog.message()}`));

    expect((await page.goto(`${baseUrl}${v1Link}`))?.status()).toBe(200);
    const body = (await page.locator('body').textContent()) ?? '';
    for (const expected of ['FR-2026-007001', 'Line card replacement', '1. Back up the configuration', 'Swap the card <script>alert(1)</script>', 'Hot swap of a board', 'Restart', 'explicit written approval']) {
      expect(body).toContain(expected);
    }
    await page.screenshot({ path: artifactPath('plan-v1-en.png'), fullPage: true });
    await choose(page, 'objected', 'Please test the rollback before the window');
    await expect(page.locator('body').textContent()).resolves.toContain('your objection is recorded');
    await page.screenshot({ path: artifactPath('plan-v1-objected.png'), fullPage: true });

    // The team revises; the manager approves v2; the old link now points to the new version.
    await eventually(async () => (await request(h.app).get(`/documents/${documentId}`).set(bearer(h.tokens.engineer))).body.status, (status) => status === 'returned');
    await submitAndApprove(documentId, 2, { ...PLAN, rollback: 'Rollback tested on the lab unit' }, 'Rollback tested');
    expect((await page.goto(`${baseUrl}${v1Link}`))?.status()).toBe(410);
    await expect(page.locator('body').textContent()).resolves.toContain('Version 2 of this document replaces version 1');
    await page.screenshot({ path: artifactPath('plan-v1-superseded.png'), fullPage: true });
    // The page links the newer version at the public address; here the app listens on its own port.
    const newer = await page.locator('a[href^="http"][href*="/links/"]').first().getAttribute('href');
    expect(newer).toMatch(/^http:\/\/fieldops\.test\/links\//);
    await page.goto(`${baseUrl}${new URL(newer!).pathname}`);
    await expect(page.locator('body').textContent()).resolves.toContain('Rollback tested on the lab unit');
    await choose(page, 'signed');
    await expect(page.locator('body').textContent()).resolves.toContain('your signature is recorded');
    await page.screenshot({ path: artifactPath('plan-v2-signed.png'), fullPage: true });

    const document = (await request(h.app).get(`/documents/${documentId}`).set(bearer(h.tokens.engineer))).body;
    expect(document).toMatchObject({ status: 'signed', currentVersion: 2 });
    expect(document.versions[0].decisions.map((decision: { decision: string; comment: string | null }) => [decision.decision, decision.comment])).toEqual([
      ['approved', null],
      ['objected', 'Please test the rollback before the window'],
    ]);
    expect(problems.filter((text) => !/status of 410/.test(text))).toEqual([]);
    await context.close();
  });
});
