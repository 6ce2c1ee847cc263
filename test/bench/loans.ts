// What bench:spare-parts and bench:reminder-burst share: the installed base, the loans applied for
// through the API's application path and taken to "waiting for the failed part" by their three
// Updates, all received at the same instant (so that their reminders and deadlines coincide).
import fs from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { systemClock } from '../../activities/shared/clock';
import type { Mailer } from '../../activities/shared/mailer';
import type { SignedLinks } from '../../activities/shared/signed-links';
import { createUserWithToken } from '../../api/auth';
import { applyForSparePart } from '../../api/spare-part/registration';
import type { Db } from '../../db';
import { approveSparePartUpdate, confirmSparePartReceiptUpdate, recordSparePartShipmentUpdate, sparePartWorkflowId } from '../../workflows/spare-part/definitions';

export const CONCURRENCY = 32;
const PAGE_BYTES = 4096;
const CLOCK_TICKS_PER_SECOND = 100;

export async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<unknown>, concurrency = CONCURRENCY): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** RSS bytes and CPU seconds (user + system) so far of the live processes whose command line contains `pattern`. */
export function processesMatching(pattern: string): { rss: number; cpuSeconds: number } {
  let rss = 0;
  let ticks = 0;
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(pattern)) continue;
      // Fields after the command name: state is [0], utime [11], stime [12], rss in pages [21].
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      rss += Number(fields[21]) * PAGE_BYTES;
    } catch {
      // The process ended while we looked.
    }
  }
  return { rss, cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND };
}

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

export const stamp = () => ({ actor: 'bench', role: 'service_desk', at: new Date().toISOString() });

export interface OpenLoans {
  numbers: string[];
  serialOf: Map<string, string>;
  /** Wall-clock ms when the applications were done and when every loan was open. */
  appliedAt: number;
  openAt: number;
}

/**
 * `count` devices at customers of 100 devices each, a loan applied for each, approved, shipped and
 * received at the same virtual instant: every loan then waits for its failed part with the same
 * reminder days and due instant.
 */
export async function openLoans(deps: { db: Db; env: TestWorkflowEnvironment; taskQueue: string; links: SignedLinks; mailer: Mailer }, count: number, log: (line: string) => void): Promise<OpenLoans> {
  const { db, env } = deps;
  const customers = Math.max(1, Math.ceil(count / 100));
  await createUserWithToken(db, { name: 'Bench manager', email: 'manager@bench.test', role: 'manager' });
  const product = await db.insertInto('products').values({ code: 'BENCH', name: 'Bench part', product_line: 'network', list_price_cents: 100_000 }).returning('id').executeTakeFirstOrThrow();
  const loans: Array<{ customerId: string; contactId: string; serial: string }> = [];
  for (let c = 0; c < customers; c++) {
    const customer = await db
      .insertInto('customers')
      .values({ code: `C${c}`, name: `Customer ${c}`, customer_class: 'B', sla_class: 'NBD', billing_day: 25, spare_part_first: true, downgraded_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const contact = await db.insertInto('contacts').values({ customer_id: customer.id, name: `Contact ${c}`, email: `c${c}@bench.test`, locale: 'en', phone: null }).returning('id').executeTakeFirstOrThrow();
    const serials = Array.from({ length: Math.min(100, count - c * 100) }, (_, d) => `B-${c}-${d}`);
    await db.insertInto('devices').values(serials.map((serial) => ({ serial, product_id: product.id, customer_id: customer.id, site_id: null, warranty_end: null, first_power_on_at: null }))).execute();
    loans.push(...serials.map((serial) => ({ customerId: customer.id, contactId: contact.id, serial })));
  }
  const apiDeps = { db, temporal: env.client, taskQueue: deps.taskQueue, links: deps.links, mailer: deps.mailer, clock: systemClock };
  const numbers: string[] = [];
  const serialOf = new Map<string, string>();
  log(`${count} devices in the installed base of ${customers} customers; applying`);
  await inBatches(loans, async (loan) => {
    const created = await applyForSparePart(apiDeps, { ...loan, failedSerial: loan.serial, faultDescription: 'bench', deliveryAddress: 'bench', relatedCaseNumber: null }, stamp());
    numbers.push(created.loanNumber);
    serialOf.set(created.loanNumber, loan.serial);
  });
  const appliedAt = Date.now();
  log('applied; approving, shipping and confirming receipt');
  const receivedAt = new Date(await env.currentTimeMs()).toISOString();
  await inBatches(numbers, async (number) => {
    const handle = env.client.workflow.getHandle(sparePartWorkflowId(number));
    await handle.executeUpdate(approveSparePartUpdate, { args: [{ ...stamp(), comment: null }] });
    await handle.executeUpdate(recordSparePartShipmentUpdate, { args: [{ ...stamp(), replacementSerial: `R-${number}`, carrier: 'SF', trackingNumber: number, shippedAt: receivedAt }] });
    await handle.executeUpdate(confirmSparePartReceiptUpdate, { args: [{ ...stamp(), receivedAt, discrepancy: null }] });
  });
  log(`${count} loans open, each waiting for its failed part`);
  return { numbers, serialOf, appliedAt, openAt: Date.now() };
}

/** Resolves once `count()` has stayed at zero for three polls 500 ms apart. */
export async function untilQuiet(count: () => Promise<number>): Promise<void> {
  for (let quiet = 0; quiet < 3; ) {
    quiet = (await count()) === 0 ? quiet + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export async function outboxNotSent(db: Db): Promise<number> {
  const { busy } = await db.selectFrom('email_outbox').select((eb) => eb.fn.countAll<string>().as('busy')).where('status', '!=', 'sent').executeTakeFirstOrThrow();
  return Number(busy);
}
