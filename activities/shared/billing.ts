import { shanghaiDate } from '../../workflows/rules/time';

/**
 * The billing cycle (YYYY-MM, named by the month it closes in) that a charge made at `instant` goes
 * into: cycle M closes on the customer's billing day of month M (China time), and a charge on or
 * after that day goes to the cycle of the following month.
 */
export function nextBillingCycle(instant: Date, billingDay: number): string {
  const [year, month, day] = shanghaiDate(instant.getTime()).split('-').map(Number) as [number, number, number];
  const cycleMonth = day < billingDay ? month : month + 1;
  return cycleMonth > 12 ? `${year + 1}-01` : `${year}-${String(cycleMonth).padStart(2, '0')}`;
}
