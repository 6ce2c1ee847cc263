// Asia/Shanghai has no daylight saving time: a fixed +08:00 offset is exact.
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

/** The calendar date in Asia/Shanghai of an instant, as YYYY-MM-DD. */
export function shanghaiDate(instant: Date): string {
  return new Date(instant.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);
}

/** The instant of a wall-clock time (HH:MM:SS) on a date in Asia/Shanghai. */
export function shanghaiInstant(date: string, time: string): Date {
  return new Date(`${date}T${time}+08:00`);
}

/**
 * The billing cycle (YYYY-MM, named by the month it closes in) that a charge made at `instant` goes into:
 * cycle M closes on the customer's billing day of month M, and a charge on or after that day goes to M+1.
 */
export function nextBillingCycle(instant: Date, billingDay: number): string {
  const [year, month, day] = shanghaiDate(instant).split('-').map(Number) as [number, number, number];
  const closesThisMonth = day < billingDay;
  const cycleMonth = closesThisMonth ? month : month + 1;
  const cycleYear = cycleMonth > 12 ? year + 1 : year;
  return `${cycleYear}-${String(((cycleMonth - 1) % 12) + 1).padStart(2, '0')}`;
}
