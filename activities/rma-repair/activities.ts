import { ApplicationFailure } from '@temporalio/common';
import type { Updateable } from 'kysely';
import type { Logger } from 'pino';
import type { Db, DbExecutor } from '../../db';
import { caseStatusUpdate } from '../../db/repositories/cases';
import { loadBusinessCalendar } from '../../db/repositories/calendar';
import type { Database } from '../../db/schema';
import { replacementWarranty } from '../../workflows/rules/goods';
import { dueAt, isSlaClass, shareOfPromiseElapsedAt } from '../../workflows/rules/sla';
import { shanghaiDate } from '../../workflows/rules/time';
import {
  CUSTOMER_RMA_OUTCOMES,
  DELIVERY_CHASE_WORKING_DAYS,
  INTERNAL_RMA_OUTCOMES,
  RMA_REPAIR_FINAL_STATUSES,
  SHIP_BACK_WARNING_SHARE,
  type RmaDeliveryConfirmationInput,
  type RmaDiscrepancyResolutionInput,
  type RmaOpened,
  type RmaOutcomeInput,
  type RmaPartStatus,
  type RmaReceiptInput,
  type RmaReceiptResult,
  type RmaRepairStatus,
  type RmaShipBackInput,
  type ShipBackDeadline,
} from '../../workflows/rma-repair/definitions';
import { BUSINESS_RULE_VIOLATION } from '../../workflows/shared/definitions';
import { createCaseStepRunner, stepAuditInsert, type StepAudit, type StepEmail, type StepWrite } from '../shared/case-step';
import type { Clock } from '../shared/clock';
import { DEFAULT_RETURN_ADDRESS } from '../shared/config';
import type { SignedLinks } from '../shared/signed-links';
import type { WorkingDayCalendar } from '../spare-part/activities';

/** The action of the customer's receipt confirmation link. */
export const CONFIRM_RMA_DELIVERY_ACTION = 'rma-repair.confirm-delivery';
const CONFIRM_LINK_TTL_HOURS = 24 * 60;

export interface RmaRepairActivityDependencies {
  db: Db;
  clock: Clock;
  links: SignedLinks;
  calendar: () => Promise<WorkingDayCalendar>;
  /** Where customers send parts back (RMA_RETURN_ADDRESS); its embedded default when absent. */
  returnAddress?: string | undefined;
  emailsQueued?: () => void;
  logger: Pick<Logger, 'info'>;
}

function ruleViolation(message: string, field?: string): ApplicationFailure {
  return ApplicationFailure.create({ type: BUSINESS_RULE_VIOLATION, message, nonRetryable: true, details: field ? [{ field }] : [] });
}

/** The RMA with what its steps need: customer, contact (none for an internal RMA) and the part lines with their devices. */
async function rmaRow(trx: DbExecutor, caseId: string) {
  const rma = await trx
    .selectFrom('rma_repairs as r')
    .innerJoin('customers as c', 'c.id', 'r.customer_id')
    .leftJoin('contacts as k', 'k.id', 'r.contact_id')
    .selectAll('r')
    .select(['c.name as customer_name', 'c.sla_class', 'k.email as contact_email', 'k.locale as contact_locale'])
    .where('r.case_id', '=', caseId)
    .forUpdate('r')
    .executeTakeFirst();
  // Retryable: the case commits before its workflow starts, but a caller may start it inside its transaction.
  if (!rma?.case_id || !rma.case_number) throw ApplicationFailure.retryable(`no RMA for case ${caseId} (yet)`, 'RmaNotFound');
  const parts = await trx
    .selectFrom('rma_repair_parts as p')
    .innerJoin('devices as d', 'd.id', 'p.device_id')
    .selectAll('p')
    .select(['d.serial as device_serial', 'd.product_id', 'd.site_id', 'd.warranty_end as device_warranty_end'])
    .where('p.rma_id', '=', rma.id)
    .orderBy('p.line')
    .execute();
  return { ...rma, case_id: rma.case_id, case_number: rma.case_number, internal: rma.origin === 'spare_part_return', parts };
}
type RmaRow = Awaited<ReturnType<typeof rmaRow>>;
type PartRow = RmaRow['parts'][number];

function partOf(rma: RmaRow, line: number, field = 'line'): PartRow {
  const part = rma.parts.find((candidate) => candidate.line === line);
  if (!part) throw ruleViolation(`RMA ${rma.case_number} has no part line ${line} (it has ${rma.parts.length})`, field);
  return part;
}

/** Where a customer's RMA stands once its parts' receipts changed: held by a mismatch, waiting for parts, or in repair. */
function statusAfterReceipt(statuses: RmaPartStatus[]): RmaRepairStatus {
  if (statuses.includes('discrepancy')) return 'discrepancy';
  if (statuses.includes('awaiting_receipt')) return 'awaiting_return';
  return 'in_repair';
}

const partLines = (rma: RmaRow) => rma.parts.map((part) => ({ line: part.line, serial: part.device_serial, faultDescription: part.fault_description }));

export function createRmaRepairActivities({ db, clock, links, calendar, returnAddress = DEFAULT_RETURN_ADDRESS, emailsQueued, logger }: RmaRepairActivityDependencies) {
  const rmaStep = createCaseStepRunner(
    { db, logger, emailsQueued },
    {
      process: 'rma-repair',
      load: (trx, caseId) => rmaRow(trx, caseId),
      caseId: (rma) => rma.case_id,
      caseNumber: (rma) => rma.case_number,
      contact: (rma) => {
        if (!rma.contact_email || !rma.contact_locale) throw ApplicationFailure.nonRetryable(`RMA ${rma.case_number} has no customer contact to email`, 'NoContact');
        return { email: rma.contact_email, locale: rma.contact_locale };
      },
    },
  );

  /** The RMA's status change and its case's, as writes of one step. */
  const statusWrites = (trx: DbExecutor, rma: RmaRow, status: RmaRepairStatus, at: Date, changes: Updateable<Database['rma_repairs']> = {}): StepWrite[] => {
    const final = RMA_REPAIR_FINAL_STATUSES.includes(status);
    return [
      trx
        .updateTable('rma_repairs')
        .set({ ...changes, status, updated_at: at, ...(final ? { closed_at: at } : {}) })
        .where('id', '=', rma.id),
      caseStatusUpdate(trx, rma.case_id, status, at, final),
    ];
  };

  const audit = (trx: DbExecutor, rma: RmaRow, key: string, entry: StepAudit) => stepAuditInsert(trx, { caseId: rma.case_id, caseNumber: rma.case_number }, key, entry);

  /** Whether a step with this audit key already committed (a retried attempt answers from the case as it is). */
  const alreadyRecorded = async (trx: DbExecutor, rma: RmaRow, key: string) =>
    (await trx.selectFrom('audit_events').select('id').where('idempotency_key', '=', `${rma.case_number}/${key}`).executeTakeFirst()) !== undefined;

  const managers = (trx: DbExecutor) => trx.selectFrom('users').select(['id', 'email']).where('role', '=', 'manager').where('disabled_at', 'is', null).orderBy('email').execute();

  /**
   * The ship-back deadline, once the goods receipt is complete: the customer's SLA class counted by
   * the business calendar from the last part's arrival. Recorded with the step; an RMA that has one
   * keeps it (a deadline promised is never recomputed).
   */
  const shipBackDeadline = async (rma: RmaRow, receivedAt: Date): Promise<ShipBackDeadline> => {
    const businessCalendar = await loadBusinessCalendar(db);
    const slaClass = isSlaClass(rma.sla_class) ? rma.sla_class : '7x24';
    const start = receivedAt.toISOString();
    const deadline = dueAt(businessCalendar, start, slaClass);
    return {
      slaClass,
      receivedAt: start,
      dueAt: new Date(Date.parse(deadline.dueAt)).toISOString(),
      warnAt: new Date(Date.parse(shareOfPromiseElapsedAt(businessCalendar, start, slaClass, SHIP_BACK_WARNING_SHARE))).toISOString(),
      provisional: deadline.provisional,
      missingYears: deadline.missingYears,
      rule: deadline.rule,
    };
  };

  /**
   * The writes and email of a receipt step that may have completed the goods receipt: the new status
   * and, the first time every part is in, the ship-back deadline and the customer's receipt email.
   */
  const afterReceipt = async (rma: RmaRow, partStatuses: Map<number, RmaPartStatus>, newlyReceivedAt: Date | null) => {
    const statuses = rma.parts.map((part) => partStatuses.get(part.line) ?? (part.status as RmaPartStatus));
    const status = statusAfterReceipt(statuses);
    let shipBack = (rma.ship_back_deadline as ShipBackDeadline | null) ?? null;
    const emails: StepEmail[] = [];
    const changes: Updateable<Database['rma_repairs']> = {};
    if (status === 'in_repair' && shipBack === null) {
      // The clock starts when the last part arrived (this parcel, or an earlier one accepted as received).
      const arrivals = rma.parts.map((part) => (partStatuses.has(part.line) && newlyReceivedAt ? newlyReceivedAt.getTime() : (part.received_at?.getTime() ?? 0)));
      const receivedAt = new Date(Math.max(...arrivals));
      shipBack = await shipBackDeadline(rma, receivedAt);
      Object.assign(changes, { ship_back_deadline: JSON.stringify(shipBack), ship_due_at: new Date(shipBack.dueAt), received_at: receivedAt });
      emails.push({
        key: 'received',
        content: { template: 'rma_repair_received', params: { caseNumber: rma.case_number, customerName: rma.customer_name, parts: partLines(rma), shipBackDueAt: shipBack.dueAt, provisional: shipBack.provisional } },
      });
    }
    return { status, shipBack, changes, emails };
  };

  return {
    /** Reads the RMA for its workflow; a customer's RMA emails the return address and the RMA number (once). */
    async openRmaRepair(input: { caseId: string }): Promise<RmaOpened> {
      return rmaStep(input.caseId, { step: 'opened', actorRole: 'system', key: 'return-instructions' }, async (rma, trx) => {
        const opened: RmaOpened = { internal: rma.internal, status: rma.status as RmaRepairStatus, shipBack: (rma.ship_back_deadline as ShipBackDeadline | null) ?? null };
        if (rma.internal) return { writes: [], result: opened };
        return {
          writes: [
            audit(trx, rma, 'return-instructions', {
              at: (rma.opened_at ?? clock.now()).toISOString(),
              actor: 'system',
              role: 'system',
              action: 'rma_repair.return_instructions_sent',
              data: { returnAddress },
            }),
          ],
          emails: [{ key: 'opened', content: { template: 'rma_repair_opened', params: { caseNumber: rma.case_number, customerName: rma.customer_name, returnAddress, parts: partLines(rma) } } }],
          result: opened,
        };
      });
    },

    /**
     * A parcel arrived: each part's serial is checked against its line's device. A match is received;
     * a mismatch is recorded and holds the RMA (discrepancy) until the desk resolves it. When every
     * part is in, the ship-back deadline is computed and the customer is told it.
     */
    async recordRmaReceipt(input: { caseId: string; receipt: RmaReceiptInput }): Promise<RmaReceiptResult> {
      const { receipt } = input;
      const key = `receipt/${Date.parse(receipt.at)}/${receipt.parts.map((part) => part.line).join('-')}`;
      return rmaStep(input.caseId, { step: 'received', actorRole: receipt.role, key }, async (rma, trx) => {
        if (await alreadyRecorded(trx, rma, key)) {
          return { writes: [], result: { status: rma.status as RmaRepairStatus, shipBack: (rma.ship_back_deadline as ShipBackDeadline | null) ?? null } };
        }
        const receivedAt = new Date(receipt.receivedAt);
        const at = new Date(receipt.at);
        const partStatuses = new Map<number, RmaPartStatus>();
        const writes: StepWrite[] = [];
        const checked = receipt.parts.map((received, index) => {
          const part = partOf(rma, received.line, `parts.${index}.line`);
          if (part.status !== 'awaiting_receipt') {
            throw ruleViolation(`part line ${part.line} (${part.device_serial}) is not awaited: it is ${part.status.replace('_', ' ')}`, `parts.${index}.line`);
          }
          const matches = received.receivedSerial === part.device_serial;
          const status: RmaPartStatus = matches ? 'received' : 'discrepancy';
          partStatuses.set(part.line, status);
          writes.push(
            trx
              .updateTable('rma_repair_parts')
              .set({ status, received_serial: received.receivedSerial, received_at: receivedAt, received_by: receipt.actor, receipt_note: received.note ?? null, updated_at: at })
              .where('id', '=', part.id),
          );
          return { line: part.line, expectedSerial: part.device_serial, receivedSerial: received.receivedSerial, matches, note: received.note ?? null };
        });
        const next = await afterReceipt(rma, partStatuses, receivedAt);
        const mismatches = checked.filter((part) => !part.matches);
        writes.push(
          ...statusWrites(trx, rma, next.status, at, next.changes),
          audit(trx, rma, key, {
            at: receipt.at,
            actor: receipt.actor,
            role: receipt.role,
            action: mismatches.length > 0 ? 'rma_repair.received_with_discrepancy' : 'rma_repair.received',
            comment: mismatches.map((part) => `line ${part.line}: expected serial ${part.expectedSerial}, received ${part.receivedSerial}`).join('; ') || null,
            data: { receivedAt: receipt.receivedAt, parts: checked, shipBack: next.shipBack },
          }),
        );
        return { writes, emails: next.emails, result: { status: next.status, shipBack: next.shipBack } };
      });
    },

    /**
     * The desk settles a mismatched part: accepted as received (the repair goes on with the part that
     * came), or the customer is asked for the right part (the line waits for it again, emailed).
     */
    async resolveRmaDiscrepancy(input: { caseId: string; resolution: RmaDiscrepancyResolutionInput }): Promise<RmaReceiptResult> {
      const { resolution } = input;
      const key = `discrepancy/${resolution.line}/${Date.parse(resolution.at)}`;
      return rmaStep(input.caseId, { step: 'discrepancy resolved', actorRole: resolution.role, key }, async (rma, trx) => {
        if (await alreadyRecorded(trx, rma, key)) {
          return { writes: [], result: { status: rma.status as RmaRepairStatus, shipBack: (rma.ship_back_deadline as ShipBackDeadline | null) ?? null } };
        }
        const part = partOf(rma, resolution.line);
        if (part.status !== 'discrepancy') throw ruleViolation(`part line ${part.line} (${part.device_serial}) has no discrepancy to resolve: it is ${part.status.replace('_', ' ')}`, 'line');
        const at = new Date(resolution.at);
        const accepted = resolution.resolution === 'accept_as_received';
        const partStatus: RmaPartStatus = accepted ? 'received' : 'awaiting_receipt';
        const next = await afterReceipt(rma, new Map([[part.line, partStatus]]), null);
        const emails: StepEmail[] = [...next.emails];
        if (!accepted) {
          emails.push({
            key: `right-part-requested/${part.line}/${Date.parse(resolution.at)}`,
            content: {
              template: 'rma_repair_right_part_requested',
              params: {
                caseNumber: rma.case_number,
                customerName: rma.customer_name,
                returnAddress,
                line: part.line,
                expectedSerial: part.device_serial,
                receivedSerial: part.received_serial ?? '-',
                comment: resolution.comment,
              },
            },
          });
        }
        return {
          writes: [
            // The part that came stays recorded (serial, arrival) on the audit entry; the line waits afresh.
            trx
              .updateTable('rma_repair_parts')
              .set({
                status: partStatus,
                discrepancy_resolution: resolution.resolution,
                discrepancy_comment: resolution.comment,
                discrepancy_resolved_by: resolution.actor,
                discrepancy_resolved_at: at,
                updated_at: at,
                ...(accepted ? {} : { received_serial: null, received_at: null, received_by: null }),
              })
              .where('id', '=', part.id),
            ...statusWrites(trx, rma, next.status, at, next.changes),
            audit(trx, rma, key, {
              at: resolution.at,
              actor: resolution.actor,
              role: resolution.role,
              action: accepted ? 'rma_repair.discrepancy_accepted' : 'rma_repair.right_part_requested',
              comment: resolution.comment,
              data: { line: part.line, expectedSerial: part.device_serial, receivedSerial: part.received_serial, resolution: resolution.resolution },
            }),
          ],
          emails,
          result: { status: next.status, shipBack: next.shipBack },
        };
      });
    },

    /**
     * The engineer's outcome for one part: a customer's part is repaired or replaced (ship-back next,
     * once every part has one); a part for stock is repaired (restocked) or scrapped.
     */
    async recordRmaOutcome(input: { caseId: string; outcome: RmaOutcomeInput }): Promise<{ status: RmaRepairStatus }> {
      const { outcome } = input;
      const key = `outcome/${outcome.line}`;
      return rmaStep(input.caseId, { step: 'repair outcome', actorRole: outcome.role, key }, async (rma, trx) => {
        if (await alreadyRecorded(trx, rma, key)) return { writes: [], result: { status: rma.status as RmaRepairStatus } };
        const part = partOf(rma, outcome.line);
        if (part.status !== 'received') throw ruleViolation(`part line ${part.line} (${part.device_serial}) cannot take an outcome: it is ${part.status.replace('_', ' ')}`, 'line');
        const allowed = rma.internal ? INTERNAL_RMA_OUTCOMES : CUSTOMER_RMA_OUTCOMES;
        if (!allowed.includes(outcome.outcome)) {
          throw ruleViolation(
            rma.internal ? `a part repaired for stock is repaired or scrapped, not ${outcome.outcome}` : `a customer's part is repaired or replaced, not ${outcome.outcome}`,
            'outcome',
          );
        }
        const at = new Date(outcome.at);
        const outcomes = rma.parts.map((candidate) => (candidate.line === part.line ? outcome.outcome : candidate.outcome));
        const allDone = outcomes.every((value) => value !== null);
        let status = rma.status as RmaRepairStatus;
        if (allDone) status = rma.internal ? (outcomes.every((value) => value === 'scrapped') ? 'scrapped' : 'restocked') : 'awaiting_shipment';
        return {
          writes: [
            trx
              .updateTable('rma_repair_parts')
              .set({ status: outcome.outcome, outcome: outcome.outcome, outcome_note: outcome.note, outcome_by: outcome.actor, outcome_at: at, updated_at: at })
              .where('id', '=', part.id),
            ...statusWrites(trx, rma, status, at),
            audit(trx, rma, key, {
              at: outcome.at,
              actor: outcome.actor,
              role: outcome.role,
              action: `rma_repair.part_${outcome.outcome}`,
              comment: outcome.note,
              data: { line: part.line, serial: part.device_serial, outcome: outcome.outcome, rmaStatus: status },
            }),
          ],
          result: { status },
        };
      });
    },

    /**
     * The parts go back: carrier and tracking, a new serial for each replaced part (it enters the
     * installed base), and each part's warranty by the replacement-warranty rule (90 days from shipping
     * or the rest of the original warranty, the longer). Late when after the recorded deadline. The
     * customer gets the confirmation link; an unconfirmed delivery is chased after 3 working days.
     */
    async shipRmaBack(input: { caseId: string; shipment: RmaShipBackInput }): Promise<{ late: boolean; deliveryChaseAt: string }> {
      const { shipment } = input;
      const workingDays = await calendar();
      return rmaStep(input.caseId, { step: 'shipped', actorRole: shipment.role }, async (rma, trx) => {
        const shippedAt = new Date(shipment.shippedAt);
        const shippedOn = shanghaiDate(shippedAt.getTime());
        const deliveryChaseAt = new Date(Date.parse(workingDays.addWorkingDays(shippedOn, DELIVERY_CHASE_WORKING_DAYS).dueAt)).toISOString();
        if (await alreadyRecorded(trx, rma, 'shipped')) return { writes: [], result: { late: rma.shipped_late ?? false, deliveryChaseAt: rma.delivery_chase_at?.toISOString() ?? deliveryChaseAt } };
        const newSerials = new Map<number, string>();
        shipment.replacements.forEach((replacement, index) => {
          const part = partOf(rma, replacement.line, `replacements.${index}.line`);
          if (part.outcome !== 'replaced') throw ruleViolation(`part line ${part.line} (${part.device_serial}) was ${part.outcome ?? 'not repaired'}, not replaced: it ships back with its own serial`, `replacements.${index}.line`);
          if (rma.parts.some((other) => other.device_serial === replacement.newSerial)) {
            throw ruleViolation(`the new serial of line ${part.line} is a failed part of this RMA`, `replacements.${index}.newSerial`);
          }
          if ([...newSerials.values()].includes(replacement.newSerial)) throw ruleViolation(`serial ${replacement.newSerial} is given for two parts`, `replacements.${index}.newSerial`);
          newSerials.set(part.line, replacement.newSerial);
        });
        const missing = rma.parts.filter((part) => part.outcome === 'replaced' && !newSerials.has(part.line));
        if (missing.length > 0) throw ruleViolation(`the new serial of each replaced part is needed: line ${missing.map((part) => part.line).join(', ')}`, 'replacements');

        const at = new Date(shipment.at);
        const writes: StepWrite[] = [];
        const shippedParts = [];
        for (const part of rma.parts) {
          const warranty = replacementWarranty(shippedOn, part.device_warranty_end);
          const newSerial = newSerials.get(part.line) ?? null;
          let replacementDeviceId: string | null = null;
          if (newSerial) {
            const existing = await trx.selectFrom('devices').select(['id', 'customer_id']).where('serial', '=', newSerial).executeTakeFirst();
            if (existing && existing.customer_id !== rma.customer_id) throw ruleViolation(`serial ${newSerial} is installed at another customer`, 'replacements');
            const device = await trx
              .insertInto('devices')
              .values({ serial: newSerial, product_id: part.product_id, customer_id: rma.customer_id, site_id: part.site_id, warranty_end: warranty.endsOn, first_power_on_at: null })
              .onConflict((oc) => oc.column('serial').doUpdateSet({ warranty_end: warranty.endsOn, site_id: part.site_id, product_id: part.product_id }))
              .returning('id')
              .executeTakeFirstOrThrow();
            replacementDeviceId = device.id;
          } else {
            writes.push(trx.updateTable('devices').set({ warranty_end: warranty.endsOn }).where('id', '=', part.device_id));
          }
          writes.push(
            trx
              .updateTable('rma_repair_parts')
              .set({ replacement_serial: newSerial, replacement_device_id: replacementDeviceId, warranty_end: warranty.endsOn, warranty_basis: warranty.basis, updated_at: at })
              .where('id', '=', part.id),
          );
          shippedParts.push({ line: part.line, serial: part.device_serial, outcome: newSerial ? ('replaced' as const) : ('repaired' as const), newSerial, warrantyEnd: warranty.endsOn, warrantyBasis: warranty.basis });
        }
        const late = rma.ship_due_at !== null && shippedAt.getTime() > rma.ship_due_at.getTime();
        const link = links.issue({ caseId: rma.case_id, action: CONFIRM_RMA_DELIVERY_ACTION, singleUse: true, ttlHours: CONFIRM_LINK_TTL_HOURS });
        writes.push(
          ...statusWrites(trx, rma, 'shipped', at, {
            carrier: shipment.carrier,
            tracking_number: shipment.trackingNumber,
            shipped_at: shippedAt,
            shipped_by: `${shipment.actor} (${shipment.role})`,
            shipped_late: late,
            delivery_chase_at: new Date(deliveryChaseAt),
          }),
          audit(trx, rma, 'shipped', {
            at: shipment.at,
            actor: shipment.actor,
            role: shipment.role,
            action: late ? 'rma_repair.shipped_late' : 'rma_repair.shipped',
            comment: late && rma.ship_due_at ? `shipped after the ship-back deadline ${rma.ship_due_at.toISOString()}` : null,
            data: { carrier: shipment.carrier, trackingNumber: shipment.trackingNumber, shippedAt: shipment.shippedAt, late, parts: shippedParts, deliveryChaseAt },
          }),
        );
        return {
          writes,
          emails: [
            {
              key: 'shipped',
              content: {
                template: 'rma_repair_shipped',
                params: {
                  caseNumber: rma.case_number,
                  customerName: rma.customer_name,
                  carrier: shipment.carrier,
                  trackingNumber: shipment.trackingNumber,
                  parts: shippedParts.map(({ line, serial, outcome, newSerial, warrantyEnd }) => ({ line, serial, outcome, newSerial, warrantyEnd })),
                  confirmUrl: link.url,
                },
              },
            },
          ],
          result: { late, deliveryChaseAt },
        };
      });
    },

    /** The customer (link page) or the desk for them confirms the parts arrived: the RMA closes. */
    async confirmRmaDelivery(input: { caseId: string; confirmation: RmaDeliveryConfirmationInput }): Promise<void> {
      const { confirmation } = input;
      await rmaStep(input.caseId, { step: 'delivery confirmed', actorRole: confirmation.role, key: 'delivery-confirmed' }, async (rma, trx) => {
        const at = new Date(confirmation.at);
        return {
          writes: [
            ...statusWrites(trx, rma, 'closed', at, {
              delivery_confirmed_at: new Date(confirmation.receivedAt),
              delivery_confirmed_by: `${confirmation.actor} (${confirmation.role})`,
              delivery_note: confirmation.note,
            }),
            audit(trx, rma, 'delivery-confirmed', {
              at: confirmation.at,
              actor: confirmation.actor,
              role: confirmation.role,
              action: 'rma_repair.delivery_confirmed',
              comment: confirmation.note,
              data: { receivedAt: confirmation.receivedAt },
            }),
          ],
          result: undefined,
        };
      });
    },

    /** 75 % of the ship-back promise has run and nothing shipped: every manager is told, once. */
    async warnRmaShipBackDue(input: { caseId: string; at: string }): Promise<{ managersNotified: number }> {
      return rmaStep(input.caseId, { step: 'ship-back due soon', actorRole: 'system', key: 'ship-back/warned' }, async (rma, trx) => {
        const to = await managers(trx);
        const dueAtIso = rma.ship_due_at?.toISOString() ?? input.at;
        return {
          writes: [
            trx.updateTable('rma_repairs').set({ due_warned_at: new Date(input.at), updated_at: new Date(input.at) }).where('id', '=', rma.id),
            audit(trx, rma, 'ship-back/warned', { at: input.at, actor: 'system', role: 'system', action: 'rma_repair.ship_back_due_soon', data: { dueAt: dueAtIso, managersNotified: to.length } }),
          ],
          emails: to.map((manager): StepEmail => ({
            key: `ship-back/warned/manager/${manager.id}`,
            content: { template: 'rma_repair_ship_back_due_soon', params: { caseNumber: rma.case_number, customerName: rma.customer_name, dueAt: dueAtIso } },
            to: { email: manager.email, locale: 'zh-CN' },
          })),
          result: { managersNotified: to.length },
        };
      });
    },

    /** The ship-back deadline passed with nothing shipped: recorded as missed, every manager told, once. */
    async markRmaShipBackMissed(input: { caseId: string; at: string }): Promise<{ managersNotified: number }> {
      return rmaStep(input.caseId, { step: 'ship-back missed', actorRole: 'system', key: 'ship-back/missed' }, async (rma, trx) => {
        const to = await managers(trx);
        const dueAtIso = rma.ship_due_at?.toISOString() ?? input.at;
        return {
          writes: [
            trx.updateTable('rma_repairs').set({ due_missed_at: new Date(input.at), updated_at: new Date(input.at) }).where('id', '=', rma.id),
            audit(trx, rma, 'ship-back/missed', { at: input.at, actor: 'system', role: 'system', action: 'rma_repair.ship_back_missed', data: { dueAt: dueAtIso, managersNotified: to.length } }),
          ],
          emails: to.map((manager): StepEmail => ({
            key: `ship-back/missed/manager/${manager.id}`,
            content: { template: 'rma_repair_ship_back_missed', params: { caseNumber: rma.case_number, customerName: rma.customer_name, dueAt: dueAtIso } },
            to: { email: manager.email, locale: 'zh-CN' },
          })),
          result: { managersNotified: to.length },
        };
      });
    },

    /** Shipped 3 working days ago and not confirmed: the customer is reminded, with a fresh link, once. */
    async chaseRmaDelivery(input: { caseId: string; at: string }): Promise<void> {
      await rmaStep(input.caseId, { step: 'delivery chased', actorRole: 'system', key: 'delivery-chase' }, async (rma, trx) => {
        const link = links.issue({ caseId: rma.case_id, action: CONFIRM_RMA_DELIVERY_ACTION, singleUse: true, ttlHours: CONFIRM_LINK_TTL_HOURS });
        return {
          writes: [
            trx.updateTable('rma_repairs').set({ delivery_chased_at: new Date(input.at), updated_at: new Date(input.at) }).where('id', '=', rma.id),
            audit(trx, rma, 'delivery-chase', { at: input.at, actor: 'system', role: 'system', action: 'rma_repair.delivery_chased' }),
          ],
          emails: [
            {
              key: 'delivery-chase',
              content: {
                template: 'rma_repair_delivery_reminder',
                params: { caseNumber: rma.case_number, customerName: rma.customer_name, carrier: rma.carrier ?? '-', trackingNumber: rma.tracking_number ?? '-', confirmUrl: link.url },
              },
            },
          ],
          result: undefined,
        };
      });
    },
  };
}
