// npm run bench:calendar: one million addWorkingDays calls over random dates (2011-2026) and spans
// of 0-60 working days, against the calendar built from the chinese-workday dataset.
import { loadChineseWorkdayDataset } from '../../db/calendar-dataset';
import { BusinessCalendar } from '../../workflows/rules/calendar';
import { dayNumberFromCivil, isoDateFromDayNumber } from '../../workflows/rules/time';

const CALLS = 1_000_000;

function main(): void {
  const dataset = loadChineseWorkdayDataset();
  const buildStarted = performance.now();
  const calendar = new BusinessCalendar(dataset);
  const buildMs = performance.now() - buildStarted;

  // Deterministic pseudo-random inputs (xorshift), prepared before timing so only the calls are measured.
  let seed = 0x2545f491;
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x1_0000_0000;
  };
  const firstDay = dayNumberFromCivil(2011, 1, 1);
  const spanDays = dayNumberFromCivil(2026, 12, 31) - firstDay;
  const dates: string[] = new Array<string>(CALLS);
  const spans = new Int32Array(CALLS);
  for (let index = 0; index < CALLS; index++) {
    dates[index] = isoDateFromDayNumber(firstDay + Math.floor(random() * spanDays));
    spans[index] = Math.floor(random() * 61);
  }

  let checksum = 0;
  for (let index = 0; index < 50_000; index++) checksum += calendar.addWorkingDays(dates[index]!, spans[index]!).due.length;
  const started = performance.now();
  for (let index = 0; index < CALLS; index++) {
    const result = calendar.addWorkingDays(dates[index]!, spans[index]!);
    if (result.provisional) checksum++;
    checksum += result.due.charCodeAt(9);
  }
  const elapsedMs = performance.now() - started;
  const perSecond = Math.round(CALLS / (elapsedMs / 1000));
  console.log(`calendar built from ${dataset.source}@${dataset.version} (${dataset.days.length} dated entries, ${dataset.publishedYears.length} years) in ${buildMs.toFixed(1)} ms`);
  console.log(`${CALLS.toLocaleString('en-US')} addWorkingDays calls in ${elapsedMs.toFixed(0)} ms: ${perSecond.toLocaleString('en-US')} calls/s (checksum ${checksum})`);
}

main();
