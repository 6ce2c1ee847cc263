// npm run bench:rectification: one campaign over 10,000 devices at 1,000 sites of 100 customers on one
// worker (the real worker code and activities, the offline Temporal test server with time skipping,
// PostgreSQL, the outbox relay and an SMTP server). The plan is approved, every customer agrees, and
// every site goes through its work order, plan, technical review, slot confirmed by the customer, the
// customer's approval, the implementation in the slot (time skipped to it) and the signed report, in
// rounds as the campaign starts customers in batches. Prints wall time, peak worker RSS, the history
// length of the campaign's last run (and its number of runs) and of the largest customer child,
// workflows/s and emails sent; fails if any email was sent twice.
// DEVICES=1000 SITES=100 CUSTOMERS=10 npm run bench:rectification for a shorter run.
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../../activities';
import { systemClock } from '../../activities/shared/clock';
import { createMailer } from '../../activities/shared/mailer';
import { campaignRegistrationSchema, registerRectificationCampaign } from '../../api/rectification/registration';
import { createCalendarProvider } from '../../db/repositories/calendar';
import { createOutboxRelay } from '../../worker/outbox-relay';
import { campaignWorkflowId, customerWorkflowId, siteWorkflowId } from '../../workflows/rectification/definitions';
import {
  confirmRectificationSlotUpdate,
  finishRectificationImplementationUpdate,
  pickRectificationMaterialsUpdate,
  proposeRectificationSlotUpdate,
  rectificationSiteStateQuery,
  startRectificationImplementationUpdate,
  type RectificationSiteState,
} from '../../workflows/rectification/site-definitions';
import { decideDocumentUpdate, signOffWorkflowId, submitDocumentVersionUpdate } from '../../workflows/sign-off/definitions';
import { testSignedLinks } from '../support/app';
import { createTestDatabase } from '../support/db';
import { workflowBundle } from '../support/process-harness';
import { startTestSmtpServer } from '../support/smtp';
import { createTestEnv } from '../support/temporal';
import { cpuProbeMs } from './machine';

const DEVICES = Number(process.env.DEVICES ?? 10_000);
const SITES = Number(process.env.SITES ?? 1_000);
const CUSTOMERS = Number(process.env.CUSTOMERS ?? 100);
const CUSTOMERS_AT_ONCE = Number(process.env.CUSTOMERS_AT_ONCE ?? 20);
const HISTORY_LIMIT = Number(process.env.HISTORY_LIMIT ?? 2_000);
const CONCURRENCY = 32;
const DAY_MS = 86_400_000;
const PAGE_BYTES = 4096;

async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

function rssOf(pattern: string): number {
  let rss = 0;
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(pattern)) continue;
      rss += Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[21]) * PAGE_BYTES;
    } catch {
      // The process ended while we looked.
    }
  }
  return rss;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An Update on a workflow that its parent may not have started yet: tried again until it exists. */
async function updateWhenStarted<Ret, Arg>(client: Client, workflowId: string, definition: UpdateDefinition<Ret, [Arg]>, arg: Arg): Promise<Ret> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.workflow.getHandle(workflowId).executeUpdate(definition, { args: [arg] });
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError) || attempt > 600) throw error;
      await pause(100);
    }
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const probeMs = cpuProbeMs();
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const [database, smtp, env, bundle] = await Promise.all([createTestDatabase({ poolSize: 30 }), startTestSmtpServer({ headersOnly: true }), createTestEnv(), workflowBundle()]);
  const db = database.db;
  const client = env.client;
  const taskQueue = `bench-${randomBytes(3).toString('hex')}`;
  const mailer = createMailer({ smtpUrl: smtp.url, mailFrom: 'bench <bench@fieldops.test>', dataDir: 'var' });
  const links = testSignedLinks();
  const relay = createOutboxRelay({ db, mailer, clock: systemClock });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: createActivities({ db, mailer, clock: systemClock, links, calendar: createCalendarProvider(db), emailsQueued: () => relay.wake(), logger: pino({ level: 'silent' }) }),
    maxConcurrentActivityTaskExecutions: 100,
    maxCachedWorkflows: 2 * SITES + 2 * CUSTOMERS + 100,
  });
  relay.start();
  const running = worker.run();
  let peakWorkerRss = 0;
  const sampler = setInterval(() => {
    peakWorkerRss = Math.max(peakWorkerRss, process.memoryUsage().rss);
  }, 1000);
  const stamp = (role: string) => ({ actor: `bench ${role}`, role, at: new Date().toISOString() });

  try {
    // The installed base: CUSTOMERS customers, SITES sites spread over them, DEVICES devices spread over the sites.
    const product = await db.insertInto('products').values({ code: 'BENCH-SW', name: 'Bench switch', product_line: 'network', list_price_cents: 100_000 }).returning('id').executeTakeFirstOrThrow();
    const siteIds: { customerId: string; siteId: string }[] = [];
    for (let c = 0; c < CUSTOMERS; c++) {
      const customer = await db.insertInto('customers').values({ code: `C${c}`, name: `Customer ${c}`, customer_class: 'B', sla_class: 'NBD', billing_day: 25, spare_part_first: false, downgraded_at: null }).returning('id').executeTakeFirstOrThrow();
      await db.insertInto('contacts').values({ customer_id: customer.id, name: `Contact ${c}`, email: `c${c}@bench.test`, locale: 'en', phone: null }).execute();
      const count = Math.floor(SITES / CUSTOMERS) + (c < SITES % CUSTOMERS ? 1 : 0);
      const sites = await db
        .insertInto('sites')
        .values(Array.from({ length: count }, (_, s) => ({ customer_id: customer.id, name: `Site ${c}-${s}`, city: 'Nanjing', address: null, distance_km: 10 })))
        .returning('id')
        .execute();
      siteIds.push(...sites.map((site) => ({ customerId: customer.id, siteId: site.id })));
    }
    for (let offset = 0; offset < DEVICES; offset += 2_000) {
      await db
        .insertInto('devices')
        .values(
          Array.from({ length: Math.min(2_000, DEVICES - offset) }, (_, i) => {
            const site = siteIds[(offset + i) % siteIds.length]!;
            return { serial: `BN${String(offset + i).padStart(6, '0')}`, product_id: product.id, customer_id: site.customerId, site_id: site.siteId, warranty_end: null, first_power_on_at: null };
          }),
        )
        .execute();
    }
    console.log(`${elapsed()}: ${DEVICES} devices at ${SITES} sites of ${CUSTOMERS} customers; raising the campaign`);

    const body = campaignRegistrationSchema.parse({
      title: 'Bench fan trays',
      defectType: 'component_batch',
      description: 'Bench campaign',
      affected: { serialRanges: [{ from: 'BN000000', to: `BN${String(DEVICES - 1).padStart(6, '0')}` }] },
      solution: { kind: 'hardware', parts: [{ productCode: 'FAN-60', quantity: 1 }], instructions: 'Swap the fan tray' },
      effort: { hoursPerDevice: 0.5, partsPerDevice: [{ productCode: 'FAN-60', quantity: 1 }] },
      highRisk: false,
      rollout: { customersAtOnce: CUSTOMERS_AT_ONCE, historyLimit: HISTORY_LIMIT },
    });
    const campaign = await registerRectificationCampaign({ db, temporal: client, taskQueue }, body, { ...stamp('rd_reviewer'), userId: null });
    const number = campaign.caseNumber;
    const rolloutStarted = Date.now();
    await updateWhenStarted(client, signOffWorkflowId(campaign.plan.id), submitDocumentVersionUpdate, { ...stamp('manager'), content: { summary: 'Bench plan', startsOn: '2026-12-01', endsOn: '2027-03-31' }, reason: null });
    await client.workflow.getHandle(signOffWorkflowId(campaign.plan.id)).executeUpdate(decideDocumentUpdate, { args: [{ ...stamp('manager'), version: 1, decision: 'approved', comment: null }] });
    console.log(`${elapsed()}: ${number} raised and approved; rolling out`);

    const agreed = new Set<string>();
    const scheduled = new Set<string>();
    const done = new Set<string>();
    let rounds = 0;
    for (;;) {
      const status = (await db.selectFrom('rectification_campaigns').select('status').where('case_number', '=', number).executeTakeFirstOrThrow()).status;
      if (status === 'completed') break;
      // The customers started: their plan and timing written and signed.
      const waiting = await db.selectFrom('rectification_customers').select(['customer_id', 'agreement_document_id']).where('campaign_case_id', '=', campaign.caseId).where('status', '=', 'awaiting_agreement').where('agreement_document_id', 'is not', null).execute();
      await inBatches(
        waiting.filter((customer) => !agreed.has(customer.customer_id)),
        async (customer) => {
          const workflowId = signOffWorkflowId(customer.agreement_document_id!);
          await updateWhenStarted(client, workflowId, submitDocumentVersionUpdate, { ...stamp('manager'), content: { summary: 'Your fan trays', startsOn: '2026-12-01', endsOn: '2027-03-31' }, reason: null });
          await client.workflow.getHandle(workflowId).executeUpdate(decideDocumentUpdate, { args: [{ ...stamp('customer'), version: 1, decision: 'signed', comment: null }] });
          agreed.add(customer.customer_id);
        },
      );
      // Their sites, each to a confirmed slot two days on with the plan reviewed and signed.
      const now = await env.currentTimeMs();
      const slot = new Date(Math.ceil((now + 2 * DAY_MS) / DAY_MS) * DAY_MS + 14 * 3_600_000).toISOString(); // 22:00 China time
      const open = await db.selectFrom('rectification_devices').select(['customer_id', 'site_id']).distinct().where('campaign_case_id', '=', campaign.caseId).where('status', '=', 'site_work').execute();
      const toSchedule = open.filter((site) => site.site_id && !scheduled.has(site.site_id));
      await inBatches(toSchedule, async (site) => {
        const workflowId = siteWorkflowId(number, site.site_id!);
        // As the desk does: the materials of a work order that is open (its row written by the site child).
        while (!(await db.selectFrom('rectification_sites').select('site_id').where('campaign_case_id', '=', campaign.caseId).where('site_id', '=', site.site_id!).executeTakeFirst())) await pause(50);
        await updateWhenStarted(client, workflowId, pickRectificationMaterialsUpdate, { ...stamp('service_desk'), materials: [{ productCode: 'FAN-60', quantity: 10 }], note: null });
        const handle = client.workflow.getHandle(workflowId);
        let state: RectificationSiteState = await handle.query(rectificationSiteStateQuery);
        while (!state.planDocumentId) {
          await pause(50);
          state = await handle.query(rectificationSiteStateQuery);
        }
        const plan = client.workflow.getHandle(signOffWorkflowId(state.planDocumentId));
        await updateWhenStarted(client, signOffWorkflowId(state.planDocumentId), submitDocumentVersionUpdate, {
          ...stamp('engineer'),
          content: { summary: 'Swap the fan trays', solution: 'RS-BENCH', steps: ['Swap', 'Check'], rollback: 'Put the old trays back' },
          reason: null,
        });
        const proposed = await handle.executeUpdate(proposeRectificationSlotUpdate, { args: [{ ...stamp('service_desk'), startsAt: slot, durationMinutes: 120, reason: null }] });
        await plan.executeUpdate(decideDocumentUpdate, { args: [{ ...stamp('senior_engineer'), version: 1, decision: 'approved', comment: null }] });
        await handle.executeUpdate(confirmRectificationSlotUpdate, { args: [{ ...stamp('customer'), seq: proposed.slot!.seq }] });
        await plan.executeUpdate(decideDocumentUpdate, { args: [{ ...stamp('customer'), version: 1, decision: 'signed', comment: null }] });
        scheduled.add(site.site_id!);
      });
      if (toSchedule.length === 0 && waiting.every((customer) => agreed.has(customer.customer_id))) {
        const ready = [...scheduled].filter((siteId) => !done.has(siteId));
        if (ready.length === 0) {
          await pause(200);
          continue;
        }
        // Time skipped to the slot: every scheduled site implemented, its report written and signed.
        rounds += 1;
        await env.sleep(Date.parse(slot) - (await env.currentTimeMs()) + 60_000);
        await inBatches(ready, async (siteId) => {
          const handle = client.workflow.getHandle(siteWorkflowId(number, siteId));
          let state = await handle.query(rectificationSiteStateQuery);
          while (state.status !== 'scheduled') {
            await pause(50);
            state = await handle.query(rectificationSiteStateQuery);
          }
          await handle.executeUpdate(startRectificationImplementationUpdate, { args: [stamp('engineer')] });
          const finished = await handle.executeUpdate(finishRectificationImplementationUpdate, { args: [{ ...stamp('engineer'), succeeded: true, result: 'Trays swapped', rollback: null, replacedParts: [] }] });
          let reportId = finished.reportDocumentId;
          while (!reportId) {
            await pause(50);
            reportId = (await handle.query(rectificationSiteStateQuery)).reportDocumentId;
          }
          await updateWhenStarted(client, signOffWorkflowId(reportId), submitDocumentVersionUpdate, { ...stamp('engineer'), content: { summary: 'Done', workDone: 'Trays swapped' }, reason: null });
          await client.workflow.getHandle(signOffWorkflowId(reportId)).executeUpdate(decideDocumentUpdate, { args: [{ ...stamp('customer'), version: 1, decision: 'signed', comment: null }] });
          done.add(siteId);
        });
        console.log(`${elapsed()}: round ${rounds}: ${done.size}/${SITES} sites implemented and reported`);
      }
    }
    const finished = Date.now();
    // Let the last emails drain from the outbox.
    for (let quiet = 0; quiet < 3; ) {
      const { busy } = await db.selectFrom('email_outbox').select((eb) => eb.fn.countAll<string>().as('busy')).where('status', '!=', 'sent').executeTakeFirstOrThrow();
      quiet = Number(busy) === 0 ? quiet + 1 : 0;
      await pause(500);
    }
    const counts = await db.selectFrom('rectification_devices').select(['status', (eb) => eb.fn.countAll<string>().as('n')]).where('campaign_case_id', '=', campaign.caseId).groupBy('status').execute();
    const campaignHistory = await client.workflow.getHandle(campaignWorkflowId(number)).fetchHistory();
    const customerIds = (await db.selectFrom('rectification_customers').select('customer_id').where('campaign_case_id', '=', campaign.caseId).execute()).map((row) => row.customer_id);
    let largestChild = 0;
    await inBatches(customerIds, async (customerId) => {
      const history = await client.workflow.getHandle(customerWorkflowId(number, customerId)).fetchHistory();
      largestChild = Math.max(largestChild, history.events?.length ?? 0);
    });
    const { n: workflows } = await db.selectFrom('documents').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    const started0 = campaignHistory.events?.[0]?.workflowExecutionStartedEventAttributes;
    const keys = smtp.received.map((mail) => mail.headers.get('x-fieldops-idempotency-key') as string);
    const duplicates = keys.length - new Set(keys).size;
    // The campaign, its customer children, the site children and one sign-off per document.
    const workflowCount = 1 + CUSTOMERS + SITES + Number(workflows);
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      [
        `CPU probe: ${probeMs.toFixed(0)} ms (lower is a faster machine; compare runs only at similar values)`,
        `campaign ${number}: ${DEVICES} devices, ${SITES} sites, ${CUSTOMERS} customers, ${CUSTOMERS_AT_ONCE} customers at once; devices now ${counts.map((c) => `${c.status} ${c.n}`).join(', ')}`,
        `wall time: ${seconds(finished - started)} (rollout from approval to completion: ${seconds(finished - rolloutStarted)}, ${rounds} rounds of time skipping)`,
        `worker RSS peak: ${mib(peakWorkerRss)} (this process: worker, client, SMTP); Temporal test server RSS now: ${mib(rssOf('temporal-test-server'))}`,
        `history length: campaign's last run ${campaignHistory.events?.length ?? 0} events (limit ${HISTORY_LIMIT}; continued as new: ${started0?.continuedExecutionRunId ? 'yes' : 'no'}); largest customer child ${largestChild} events`,
        `workflows: ${workflowCount} (campaign, customers, sites, sign-offs) in ${seconds(finished - rolloutStarted)}: ${(workflowCount / ((finished - rolloutStarted) / 1000)).toFixed(1)} workflows/s`,
        `emails sent: ${smtp.received.length} (duplicates: ${duplicates})`,
      ].join('\n'),
    );
    const rectified = Number(counts.find((c) => c.status === 'rectified')?.n ?? 0);
    if (duplicates !== 0 || rectified !== DEVICES) {
      console.error(`FAILED: expected ${DEVICES} devices rectified and no duplicate email`);
      process.exitCode = 1;
    }
  } finally {
    clearInterval(sampler);
    worker.shutdown();
    await running;
    await relay.stop();
    await env.teardown();
    mailer.close();
    await Promise.all([database.drop(), smtp.close()]);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
