import type { Browser, ConsoleMessage, Page } from 'playwright-core';
import { createTestApp, testSignedLinks } from '../support/app';
import { artifactPath, describeInBrowser, launchChromium, serveForBrowser } from '../support/browser';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { EVIDENCE_TEST_ACTION, createEvidenceCase, evidenceTestLinkActions, jpegImage, pdfDocument, pngImage, windowsExecutable } from '../support/evidence';

describeInBrowser(`the evidence upload widget in a real Chromium`, () => {
  let database: TestDatabase;
  let served: Awaited<ReturnType<typeof serveForBrowser>> | undefined;
  let baseUrl: string;
  let browser: Browser;
  const links = testSignedLinks();

  beforeAll(async () => {
    [database, browser] = await Promise.all([createTestDatabase(), launchChromium()]);
    const app = createTestApp(database.db, { links, linkActions: evidenceTestLinkActions() });
    served = await serveForBrowser(app);
    baseUrl = served.baseUrl;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await database?.drop();
  });

  const pageProblems = (page: Page) => {
    const problems: string[] = [];
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    return problems;
  };

  async function chooseFiles(page: Page, files: { name: string; mimeType: string; buffer: Buffer }[]): Promise<void> {
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.locator('#evidence-files').click()]);
    expect(chooser.isMultiple()).toBe(true);
    await chooser.setFiles(files);
  }

  test('two files chosen with the file chooser upload with progress to the end and are listed with thumbnails; an executable named .jpg shows its refusal beside it', async () => {
    const claim = await createEvidenceCase(database.db);
    const outerBox = await pngImage(90, 1600);
    const { token } = links.issue({ caseId: claim.id, action: EVIDENCE_TEST_ACTION, singleUse: false });
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'en-US' });
    const page = await context.newPage();
    const problems = pageProblems(page);

    expect((await page.goto(`${baseUrl}/links/${token}`))?.status()).toBe(200);
    await expect(page.locator('#evidence-heading').textContent()).resolves.toBe('Evidence');
    await expect(page.locator('#evidence-none').isVisible()).resolves.toBe(true);
    await page.locator('#evidence-item').selectOption('packaging photos');
    await chooseFiles(page, [
      { name: 'outer-box.png', mimeType: 'image/png', buffer: outerBox },
      { name: 'inner-box.jpg', mimeType: 'image/jpeg', buffer: await jpegImage() },
    ]);
    await page.locator('#evidence-upload').click();

    await page.locator('#evidence-uploads li.done').nth(1).waitFor();
    const rows = await page.locator('#evidence-uploads li').evaluateAll((items) =>
      items.map((item) => {
        const bar = item.querySelector('progress');
        return { name: item.querySelector('.file-name')?.textContent, done: item.classList.contains('done'), complete: bar !== null && bar.value === bar.max && bar.max > 0, status: item.querySelector('.upload-status')?.textContent };
      }),
    );
    expect(rows).toEqual([
      { name: 'outer-box.png', done: true, complete: true, status: 'Uploaded' },
      { name: 'inner-box.jpg', done: true, complete: true, status: 'Uploaded' },
    ]);
    const listed = page.locator('#evidence-list li');
    await expect(listed.count()).resolves.toBe(2);
    await expect(page.locator('#evidence-none').count()).resolves.toBe(0);
    await expect(listed.locator('.file-name').allTextContents()).resolves.toEqual(expect.arrayContaining(['outer-box.png', 'inner-box.jpg']));
    await expect(listed.first().locator('.file-meta').textContent()).resolves.toContain('Photos of all six sides of the packaging');
    await expect(page.locator('#evidence-uploaded-heading').textContent()).resolves.toBe('Uploaded (2 of at most 30)');
    // Each thumbnail is loaded (a real WebP served under the link), not a broken image.
    await page.waitForFunction("Array.from(document.querySelectorAll('#evidence-list img')).every((image) => image.complete && image.naturalWidth > 0)");
    const widths = await page.evaluate<number[]>("Array.from(document.querySelectorAll('#evidence-list img')).map((image) => image.naturalWidth)");
    expect(widths).toEqual([240, 240]);
    await page.screenshot({ path: artifactPath('evidence-uploaded.png'), fullPage: true });

    await chooseFiles(page, [{ name: 'setup.jpg', mimeType: 'image/jpeg', buffer: windowsExecutable() }]);
    await page.locator('#evidence-upload').click();
    const refused = page.locator('#evidence-uploads li.failed');
    await refused.waitFor();
    await expect(refused.locator('.file-name').textContent()).resolves.toBe('setup.jpg');
    await expect(refused.locator('.upload-status').textContent()).resolves.toBe('is not a JPEG, PNG, WebP or PDF file (its content is application/x-msdownload).');
    await page.screenshot({ path: artifactPath('evidence-refused.png'), fullPage: true });

    const stored = await database.db.selectFrom('evidence_files').select(['file_name', 'item', 'uploaded_by', 'uploaded_by_role', 'sniffed_type']).where('case_id', '=', claim.id).orderBy('file_name').execute();
    expect(stored).toEqual([
      { file_name: 'inner-box.jpg', item: 'packaging photos', uploaded_by: 'Li Lei', uploaded_by_role: 'customer', sniffed_type: 'image/jpeg' },
      { file_name: 'outer-box.png', item: 'packaging photos', uploaded_by: 'Li Lei', uploaded_by_role: 'customer', sniffed_type: 'image/png' },
    ]);

    // Opened again, the page lists both from the server, with their thumbnails.
    await page.reload();
    await expect(page.locator('#evidence-list li img').count()).resolves.toBe(2);
    // The same bytes again are the file already listed, not a second line.
    await chooseFiles(page, [{ name: 'outer-box-again.png', mimeType: 'image/png', buffer: outerBox }]);
    await page.locator('#evidence-upload').click();
    await page.locator('#evidence-uploads li.done').waitFor();
    await expect(page.locator('#evidence-list li').count()).resolves.toBe(2);
    await expect(page.locator('#evidence-uploaded-heading').textContent()).resolves.toBe('Uploaded (2 of at most 30)');
    // The content of the refused request is shown as it was refused: the 415 is expected in the console.
    expect(problems.filter((text) => !/status of 415/.test(text))).toEqual([]);
    await context.close();
  });

  test('without JavaScript the widget is a plain multipart form: it uploads and comes back (303) to the page, and a refused file gets a page naming it', async () => {
    const claim = await createEvidenceCase(database.db);
    const { token } = links.issue({ caseId: claim.id, action: EVIDENCE_TEST_ACTION, singleUse: false });
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'zh-CN' });
    const page = await context.newPage();

    expect((await page.goto(`${baseUrl}/links/${token}?lang=zh-CN`))?.status()).toBe(200);
    await chooseFiles(page, [{ name: '申请表.pdf', mimeType: 'application/pdf', buffer: pdfDocument(7) }]);
    const [posted] = await Promise.all([page.waitForResponse((response) => response.request().method() === 'POST'), page.locator('#evidence-upload').click()]);
    expect(posted.status()).toBe(303);
    await page.waitForLoadState();
    expect(new URL(page.url()).pathname).toBe(`/links/${token}`);
    await expect(page.locator('#evidence-list .file-name').allTextContents()).resolves.toEqual(['申请表.pdf']);
    await expect(page.locator('#evidence-list img').count()).resolves.toBe(0);

    await chooseFiles(page, [{ name: '照片.jpg', mimeType: 'image/jpeg', buffer: windowsExecutable() }]);
    const [refused] = await Promise.all([page.waitForResponse((response) => response.request().method() === 'POST'), page.locator('#evidence-upload').click()]);
    expect(refused.status()).toBe(415);
    await page.waitForLoadState();
    await expect(page.locator('h1').textContent()).resolves.toBe('文件未能上传');
    await expect(page.locator('body').textContent()).resolves.toContain('照片.jpg 不是 JPEG、PNG、WebP 或 PDF 文件（实际内容为 application/x-msdownload）。');
    await page.screenshot({ path: artifactPath('evidence-refused-no-js-zh-CN.png'), fullPage: true });
    expect(await database.db.selectFrom('evidence_files').select('file_name').where('case_id', '=', claim.id).execute()).toEqual([{ file_name: '申请表.pdf' }]);
    await context.close();
  });
});
