import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { TestSmtpServer } from './smtp';
import { eventually } from './probes';

/** The path (`/console/sign-in/<token>?next=…`) of the sign-in link in the latest sign-in mail to `email`. */
export async function signInLinkFor(smtp: Pick<TestSmtpServer, 'received'>, email: string, after = 0): Promise<string> {
  const mails = await eventually(
    () => smtp.received.filter((mail) => mail.to.includes(email) && /sign-in link|登录链接/.test(mail.subject)),
    (found) => found.length > after,
  );
  const path = /https?:\/\/[^/\s]+(\/console\/sign-in\/[\w.-]+(\?[^\s]*)?)/.exec(mails.at(-1)!.text)?.[1];
  if (!path) throw new Error(`no sign-in link in the mail to ${email}`);
  return path;
}

/** A browser context of a staff member signed in to the console the way a person does it: by the emailed link. */
export async function signedInConsole(
  browser: Browser,
  options: { baseUrl: string; smtp: Pick<TestSmtpServer, 'received'>; email: string; locale?: string; viewport?: { width: number; height: number } },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: options.locale ?? 'en-US', viewport: options.viewport ?? { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${options.baseUrl}/console`);
  const before = options.smtp.received.filter((mail) => mail.to.includes(options.email) && /sign-in link|登录链接/.test(mail.subject)).length;
  await page.getByLabel(/Email address|邮箱地址/).fill(options.email);
  await page.getByRole('button', { name: /Email me a sign-in link|发送登录链接/ }).click();
  await page.getByText(/a sign-in link is on its way|登录链接已发出/).waitFor();
  await page.goto(options.baseUrl + (await signInLinkFor(options.smtp, options.email, before)));
  await page.getByRole('button', { name: /Sign in as|身份登录/ }).click();
  await page.waitForURL(/\/console(\?|$|\/)/);
  return { context, page };
}
