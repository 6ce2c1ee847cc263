import { WorkflowUpdateFailedError } from '@temporalio/client';
import { INVALID_TRANSITION } from '../../workflows/shared/definitions';
import {
  confirmRmaDeliveryUpdate,
  recordRmaOutcomeUpdate,
  recordRmaReceiptUpdate,
  shipRmaBackUpdate,
  type RmaRepairState,
  type ShipBackDeadline,
} from '../../workflows/rma-repair/definitions';
import { rmaRepairWorkflow } from '../../workflows/rma-repair/workflow';
import { eventually, sleepUntil } from '../support/probes';
import { startWorkflowHarness, type ActivityStubs, type WorkflowHarness } from '../support/workflow-harness';

// rmaRepairWorkflow alone: its activities are stubs, time is the test server's virtual clock.
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const RMA = { caseId: 'case-1', caseNumber: 'RMA-2026-000001' };
const stamp = (role: string) => ({ actor: `${role} user`, role, at: '2026-11-16T01:00:00.000Z' });
const receipt = { ...stamp('service_desk'), receivedAt: '2026-11-16T01:00:00.000Z', parts: [{ line: 1, receivedSerial: 'SN-1' }] };
const outcome = { ...stamp('engineer'), line: 1, outcome: 'repaired' as const, note: 'fixed' };
const shipment = { ...stamp('service_desk'), carrier: 'SF Express', trackingNumber: 'SF1', shippedAt: '2026-11-16T02:00:00.000Z', replacements: [] };

function deadline(receivedMs: number, dueInMs: number): ShipBackDeadline {
  return {
    slaClass: '7x24',
    receivedAt: iso(receivedMs),
    dueAt: iso(receivedMs + dueInMs),
    warnAt: iso(receivedMs + dueInMs * 0.75),
    provisional: false,
    missingYears: [],
    rule: { en: '24 hours round the clock', zh: '7×24' },
  };
}

/** A customer RMA whose receipt completes with `shipBack`; the rest of its steps go well. */
function customerStubs(shipBack: ShipBackDeadline, deliveryChaseAt: string, more: ActivityStubs = {}): ActivityStubs {
  return {
    openRmaRepair: async () => ({ internal: false, status: 'awaiting_return', shipBack: null }),
    recordRmaReceipt: async () => ({ status: 'in_repair', shipBack }),
    recordRmaOutcome: async () => ({ status: 'awaiting_shipment' }),
    shipRmaBack: async () => ({ late: false, deliveryChaseAt }),
    confirmRmaDelivery: async () => undefined,
    warnRmaShipBackDue: async () => ({ managersNotified: 1 }),
    markRmaShipBackMissed: async () => ({ managersNotified: 1 }),
    chaseRmaDelivery: async () => undefined,
    ...more,
  };
}

describe('rmaRepairWorkflow with stubbed activities', () => {
  let h: WorkflowHarness;
  beforeAll(async () => {
    h = await startWorkflowHarness({ startTime: '2026-11-16T01:00:00Z' });
  }, 60_000);
  afterAll(() => h?.close());

  test('an internal RMA refuses the customer steps and closes restocked with its outcome, no timers, no customer activity', async () => {
    await h.withWorker(
      {
        openRmaRepair: async () => ({ internal: true, status: 'in_stock_repair', shipBack: null }),
        recordRmaOutcome: async () => ({ status: 'restocked' }),
      },
      async (worker) => {
        const handle = await worker.start(rmaRepairWorkflow, [RMA]);
        const refused = await handle.executeUpdate(recordRmaReceiptUpdate, { args: [receipt] }).catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
        expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({ type: INVALID_TRANSITION, message: 'cannot record a goods receipt: RMA RMA-2026-000001 is being repaired back into stock' });
        expect((await handle.executeUpdate(recordRmaOutcomeUpdate, { args: [outcome] })).status).toBe('restocked');
        const result: RmaRepairState = await handle.result();
        expect(result).toMatchObject({ status: 'restocked', internal: true, shipBack: null });
        expect(worker.calls.map((call) => call.name)).toEqual(['openRmaRepair', 'recordRmaOutcome']);
      },
    );
  });

  test('shipped before the warning: the managers hear nothing; confirmed before the chase: no chase', async () => {
    const now = await h.env.currentTimeMs();
    const shipBack = deadline(now, 24 * HOUR);
    await h.withWorker(customerStubs(shipBack, iso(now + 72 * HOUR)), async (worker) => {
      const handle = await worker.start(rmaRepairWorkflow, [RMA]);
      await handle.executeUpdate(recordRmaReceiptUpdate, { args: [receipt] });
      await handle.executeUpdate(recordRmaOutcomeUpdate, { args: [outcome] });
      await sleepUntil(h.env, iso(now + 17 * HOUR));
      expect((await handle.executeUpdate(shipRmaBackUpdate, { args: [shipment] })).status).toBe('shipped');
      await sleepUntil(h.env, iso(now + 30 * HOUR));
      expect((await handle.executeUpdate(confirmRmaDeliveryUpdate, { args: [{ ...stamp('customer'), receivedAt: shipment.shippedAt, note: null }] })).status).toBe('closed');
      expect((await handle.result()).status).toBe('closed');
      expect(worker.callsTo('warnRmaShipBackDue')).toEqual([]);
      expect(worker.callsTo('markRmaShipBackMissed')).toEqual([]);
      expect(worker.callsTo('chaseRmaDelivery')).toEqual([]);
    });
  });

  test('a receipt recorded after its deadline had passed: no warning, the missed notice at once, once; the delivery chased once', async () => {
    const now = await h.env.currentTimeMs();
    // The parcel arrived 30 h ago (recorded late); its 24 h promise is already broken.
    const shipBack = deadline(now - 30 * HOUR, 24 * HOUR);
    await h.withWorker(customerStubs(shipBack, iso(now + 10 * HOUR)), async (worker) => {
      const handle = await worker.start(rmaRepairWorkflow, [RMA]);
      await handle.executeUpdate(recordRmaReceiptUpdate, { args: [receipt] });
      await eventually(() => worker.callsTo('markRmaShipBackMissed'), (calls) => calls.length === 1);
      expect(worker.callsTo('warnRmaShipBackDue')).toEqual([]);
      await handle.executeUpdate(recordRmaOutcomeUpdate, { args: [outcome] });
      await handle.executeUpdate(shipRmaBackUpdate, { args: [shipment] });
      await sleepUntil(h.env, iso(now + 10 * HOUR + 1_000));
      await eventually(() => worker.callsTo('chaseRmaDelivery'), (calls) => calls.length === 1);
      await sleepUntil(h.env, iso(now + 100 * HOUR));
      expect(worker.callsTo('chaseRmaDelivery')).toHaveLength(1);
      expect(worker.callsTo('markRmaShipBackMissed')).toHaveLength(1);
      expect(await handle.query('rmaRepairState')).toMatchObject({ status: 'shipped', dueWarnedAt: null, dueMissedAt: expect.any(String), deliveryChasedAt: expect.any(String) });
    });
  });
});
