import type { SignedLinkClaims } from '../../activities/shared/signed-links';
import { LOCALES, type Locale } from '../../db/schema';
import type { EvidenceRequest } from './evidence-section';

/**
 * The browser side of a customer link. A `LinkAction` that customers reach from an email gives a
 * `page`; the customer pages (api/pages/customer-pages.ts) then render it for `GET /links/:token`
 * from a browser and perform the action from its form. The next processes (a plan signature, a
 * service report signature, a satisfaction survey) add their pages the same way: title, fields,
 * `describe` and `done`; nothing in the page code names a process.
 */

/** A text in every language customers read. */
export type Text = Record<Locale, string>;

export const text = (en: string, zhCN: string): Text => ({ en, 'zh-CN': zhCN });

export const isLocale = (value: unknown): value is Locale => typeof value === 'string' && (LOCALES as readonly string[]).includes(value);

/** One input of the form: it fills the action's body field of the same name. */
export interface PageField {
  name: string;
  label: Text;
  /**
   * `choice`: radio buttons (e.g. sign / object); `textarea`: several lines; `date`: a date picker
   * (YYYY-MM-DD); `datetime`: a date and time picker whose value (YYYY-MM-DDTHH:mm) is China time.
   */
  kind: 'text' | 'textarea' | 'choice' | 'date' | 'datetime';
  /** An empty optional field is left out of the body, so the action's schema applies its default. */
  required: boolean;
  maxLength?: number;
  hint?: Text;
  choices?: readonly { value: string; label: Text }[];
  /** The HTML `autocomplete` token, where the browser can help (e.g. `street-address`). */
  autocomplete?: string;
}

/** A line of "what this is about": a label and a value shown as text (the same in every language, or per language). */
export interface PageFact {
  label: Text;
  value: string | Text;
}

interface PageViewBase {
  /** The language of the person the link was sent to (their contact's `locale`); `?lang=` overrides it. */
  locale: Locale;
  /** Who the page greets, when known. */
  recipientName?: string;
}

/** What a link's page shows, as its action finds the case now. */
export type PageView =
  /** What is asked, with the form to act. */
  | (PageViewBase & { kind: 'form'; intro: Text; facts: PageFact[]; notes?: Text[]; values?: Record<string, string>; evidence?: EvidenceRequest })
  /** A newer version exists (e.g. a revised plan): this link no longer acts; the page links to the new one. */
  | (PageViewBase & { kind: 'superseded'; message: Text; newerUrl: string; facts?: PageFact[] })
  /** Nothing is left to do through this link (e.g. the desk already recorded the receipt). */
  | (PageViewBase & { kind: 'closed'; message: Text; facts?: PageFact[] });

export interface LinkPage {
  title: Text;
  submitLabel: Text;
  fields: readonly PageField[];
  /** Reads the case for the page; throwing an ApiError shows its page (e.g. 401 for a link to nothing). */
  describe(claims: SignedLinkClaims): Promise<PageView>;
  /** What the result page says once the action succeeded, from the action's answer. */
  done(result: Record<string, unknown>): { message: Text; facts: PageFact[] };
}

/** The body an action receives from a submitted form: declared fields only; empty optional ones left out. */
export function bodyFromForm(fields: readonly PageField[], form: Record<string, unknown>): Record<string, string> {
  const body: Record<string, string> = {};
  for (const field of fields) {
    const value = form[field.name];
    if (typeof value !== 'string') continue;
    if (value.trim() === '' && !field.required) continue;
    body[field.name] = value;
  }
  return body;
}
