import type { Locale } from '../../db/schema';
import type { RenderedText } from './email-templates';

// What every process's email templates are written with: one function per locale, dates and amounts formatted alike.

export type Localized<P> = Record<Locale, (params: P) => RenderedText>;

export function template<P>(localized: Localized<P>): Localized<P> {
  return localized;
}

export const formatDate: Record<Locale, (isoDate: string) => string> = {
  'zh-CN': (isoDate) => {
    const [year, month, day] = isoDate.slice(0, 10).split('-');
    return `${year}年${Number(month)}月${Number(day)}日`;
  },
  en: (isoDate) => isoDate.slice(0, 10),
};

export function formatAmount(cents: number): string {
  return `CNY ${(cents / 100).toFixed(2)}`;
}
