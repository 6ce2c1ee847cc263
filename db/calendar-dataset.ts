// The published Chinese holiday schedules shipped in the npm package `chinese-workday` (2011 to
// its last year), read into the calendar's data shape. The package's CommonJS entry is broken and
// jest (CommonJS) cannot load its ES module, so this reads the two data tables of the ES module's
// source (`var HOLIDAYS = {...}` and `var WEEKENDS_WORKDAY = {...}`, one `'YYYY-MM-DD': 'name',`
// per line) as text and fails loudly if their shape ever changes. No package code is executed.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { BusinessCalendarData, CalendarDayEntry, CalendarDayKind } from '../workflows/rules/calendar';
import { isIsoDate } from '../workflows/rules/time';

export const CHINESE_WORKDAY_SOURCE = 'npm:chinese-workday';

export interface CalendarDataset extends BusinessCalendarData {
  source: string;
  version: string;
}

function chineseWorkdayPackageDir(): string {
  // Resolution lands on dist/chinese-workday.cjs.js (the package exports no package.json).
  const resolve = createRequire(__filename).resolve;
  return path.resolve(path.dirname(resolve('chinese-workday')), '..');
}

const ENTRY_LINE = /^\s*'(\d{4}-\d{2}-\d{2})'\s*:\s*'([^']*)'\s*,?\s*$/;

/** The `'date': 'name'` entries of `var <name> = { ... }` in the package source. */
export function parseDateTable(source: string, tableName: string): { date: string; name: string }[] {
  const start = source.indexOf(`var ${tableName} = {`);
  if (start < 0) throw new Error(`chinese-workday: table ${tableName} not found in the package source`);
  const end = source.indexOf('\n}', start);
  if (end < 0) throw new Error(`chinese-workday: table ${tableName} is not closed`);
  const lines = source.slice(source.indexOf('\n', start) + 1, end).split('\n');
  const entries: { date: string; name: string }[] = [];
  for (const line of lines) {
    if (line.trim() === '' || line.trim().startsWith('//')) continue;
    const match = ENTRY_LINE.exec(line);
    if (!match || !isIsoDate(match[1])) throw new Error(`chinese-workday: unexpected line in ${tableName}: ${line.trim()}`);
    entries.push({ date: match[1], name: match[2]! });
  }
  if (entries.length === 0) throw new Error(`chinese-workday: table ${tableName} is empty`);
  return entries;
}

/** Every holiday and adjusted working day in the package, the years it covers, its source and version. */
export function loadChineseWorkdayDataset(packageDir: string = chineseWorkdayPackageDir()): CalendarDataset {
  const source = readFileSync(path.join(packageDir, 'src', 'index.js'), 'utf8');
  const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const toEntries = (tableName: string, kind: CalendarDayKind): CalendarDayEntry[] =>
    parseDateTable(source, tableName).map(({ date, name }) => ({ date, kind, name }));
  const adjusted = toEntries('WEEKENDS_WORKDAY', 'adjusted_working_day');
  const adjustedDates = new Set(adjusted.map((entry) => entry.date));
  // The package checks adjusted working days first, so a date in both tables is a working day.
  const holidays = toEntries('HOLIDAYS', 'holiday').filter((entry) => !adjustedDates.has(entry.date));
  const days = [...holidays, ...adjusted].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  const years = [...new Set(days.map((entry) => Number(entry.date.slice(0, 4))))].sort((a, b) => a - b);
  return { source: CHINESE_WORKDAY_SOURCE, version: manifest.version, publishedYears: years, days };
}
