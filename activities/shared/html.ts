import { Eta } from 'eta';

/**
 * HTML for customers (emails and the pages behind their links) is rendered with Eta, never by
 * concatenating strings: `<%= value %>` escapes & < > " ' (autoEscape), so a contact's name or a
 * fault description containing markup shows as text. Templates use `<%~ %>` (raw) only for HTML
 * that Eta itself produced, i.e. a layout's `it.body`.
 */
export function createHtmlTemplates(views: string): Eta {
  return new Eta({ views, autoEscape: true, cache: true, defaultExtension: '.eta' });
}
