import path from 'node:path';
import type { Request, Response } from 'express';
import { createHtmlTemplates } from '../../activities/shared/html';
import type { UserRole } from '../../db/schema';
import { consoleText, localeFor, type ConsoleText, type UiStrings } from './i18n';

/** A top-level section of the console (My work, Cases, Boards, ...): shown to the roles it names, or to all. */
export interface ConsoleSection {
  href: string;
  label: keyof UiStrings;
  roles?: readonly UserRole[];
}

type MessageKey = { [K in keyof UiStrings]: UiStrings[K] extends string ? K : never }[keyof UiStrings];

export interface ConsoleRenderer {
  textFor(req: Request): ConsoleText;
  page(req: Request, res: Response, status: number, template: string, data: Record<string, unknown>, options?: { title?: string; live?: string }): void;
  message(req: Request, res: Response, status: number, key: MessageKey, link?: { href: string; label: MessageKey }): void;
}

/**
 * Console pages: Eta templates (every value escaped, `<%~ %>` only for HTML Eta made), one
 * stylesheet and one script from /console/assets and nothing inline, so the Content-Security-Policy
 * allows no inline code at all.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

export function createConsoleRenderer(sections: readonly ConsoleSection[], assetVersion: string): ConsoleRenderer {
  const templates = createHtmlTemplates(path.join(__dirname, 'templates'));

  const textFor = (req: Request) => consoleText(localeFor(req.consoleSession?.locale, req.headers['accept-language']));

  const send = (req: Request, res: Response, status: number, html: string) => {
    res.status(status);
    res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.type('html').send(html);
  };

  const layout = (req: Request, text: ConsoleText, title: string, body: string, live: string | undefined) => {
    const session = req.consoleSession;
    const current = req.path;
    return templates.render('layout', {
      lang: text.locale,
      ui: text.ui,
      title,
      body,
      live,
      assetVersion,
      csrfToken: session?.csrfToken,
      user: session ? { name: session.actor.name, role: text.value(session.actor.role), email: session.email } : undefined,
      sections: session
        ? sections
            .filter((section) => !section.roles || section.roles.includes(session.actor.role))
            .map((section) => ({ href: section.href, label: text.ui[section.label] as string, current: section.href === '/console' ? current === '/console' : current.startsWith(section.href) }))
        : [],
      returnTo: req.originalUrl,
      otherLocale: text.locale === 'zh-CN' ? { value: 'en', label: 'English' } : { value: 'zh-CN', label: '中文' },
    });
  };

  return {
    textFor,
    page(req, res, status, template, data, options = {}) {
      const text = textFor(req);
      const body = templates.render(template, { ...data, ui: text.ui, lang: text.locale, csrfToken: req.consoleSession?.csrfToken, role: req.consoleSession?.actor.role });
      send(req, res, status, layout(req, text, options.title ?? (data.title as string | undefined) ?? text.ui.brand, body, options.live));
    },
    message(req, res, status, key, link) {
      const text = textFor(req);
      const body = templates.render('message', { message: text.ui[key], link: link ? { href: link.href, label: text.ui[link.label] } : undefined });
      send(req, res, status, layout(req, text, text.ui[key], body, undefined));
    },
  };
}
