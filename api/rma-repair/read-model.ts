// The read model of an RMA repair: its API shape and how it is read from the database.
import { z } from 'zod';
import type { Db } from '../../db';
import { CASE_KINDS, EVIDENCE_TYPES, SLA_CLASSES, type SlaClass } from '../../db/schema';
import {
  RMA_DISCREPANCY_RESOLUTIONS,
  RMA_PART_STATUSES,
  RMA_REPAIR_ORIGINS,
  RMA_REPAIR_OUTCOMES,
  RMA_REPAIR_STATUSES,
  rmaRepairWorkflowId,
  type RmaPartStatus,
  type RmaRepairStatus,
  type ShipBackDeadline,
} from '../../workflows/rma-repair/definitions';
import { ApiError } from '../errors';

const iso = (value: Date | string | null | undefined): string | null => (value === null || value === undefined ? null : new Date(value).toISOString());

export const rmaPartSchema = z.object({
  line: z.number().int().meta({ description: 'The part line, 1-based: steps name a part by it' }),
  deviceId: z.uuid(),
  deviceSerial: z.string().meta({ description: 'The serial the returned part must carry' }),
  faultDescription: z.string(),
  status: z.enum(RMA_PART_STATUSES),
  receipt: z
    .object({ receivedSerial: z.string(), receivedAt: z.string(), receivedBy: z.string().nullable(), note: z.string().nullable(), serialMatches: z.boolean() })
    .nullable()
    .meta({ description: 'The part that arrived; null while awaited (again, after the customer was asked for the right part)' }),
  discrepancy: z
    .object({ resolution: z.enum(RMA_DISCREPANCY_RESOLUTIONS), comment: z.string().nullable(), resolvedBy: z.string().nullable(), resolvedAt: z.string().nullable() })
    .nullable()
    .meta({ description: 'How the desk settled a serial mismatch (the latest settlement)' }),
  outcome: z.object({ outcome: z.enum(RMA_REPAIR_OUTCOMES), note: z.string().nullable(), by: z.string().nullable(), at: z.string().nullable() }).nullable(),
  replacementSerial: z.string().nullable().meta({ description: 'The new part shipped for a replaced one; it entered the installed base' }),
  warrantyEnd: z.string().nullable().meta({ description: 'Set at ship-back: 90 days from shipping or the rest of the original warranty, the later' }),
  warrantyBasis: z.enum(['ninety_days_from_shipping', 'rest_of_original_warranty']).nullable(),
});

export const rmaRepairSchema = z
  .object({
    caseNumber: z.string(),
    caseId: z.uuid(),
    workflowId: z.string(),
    status: z.enum(RMA_REPAIR_STATUSES),
    origin: z.enum(RMA_REPAIR_ORIGINS),
    internal: z.boolean().meta({ description: 'A part returned to a spare-part loan, repaired back into stock: no customer leg' }),
    customerId: z.uuid(),
    customerName: z.string(),
    contactId: z.uuid().nullable(),
    originCase: z.object({ id: z.uuid(), kind: z.enum(CASE_KINDS), number: z.string() }).nullable().meta({ description: 'The DOA claim or spare-part loan it came from' }),
    opened: z.object({ by: z.string().nullable(), role: z.string().nullable(), at: z.string().nullable() }),
    parts: z.array(rmaPartSchema),
    receivedAt: z.string().nullable().meta({ description: 'When the goods receipt completed (every part in)' }),
    shipBack: z
      .object({
        slaClass: z.enum(SLA_CLASSES),
        clockStartedAt: z.string(),
        dueAt: z.string(),
        warnAt: z.string(),
        provisional: z.boolean(),
        rule: z.object({ en: z.string(), zh: z.string() }),
        warnedAt: z.string().nullable(),
        missedAt: z.string().nullable(),
      })
      .nullable()
      .meta({ description: "The ship-back deadline by the customer's SLA class, computed once when the goods receipt completed" }),
    shipment: z.object({ carrier: z.string(), trackingNumber: z.string(), shippedAt: z.string(), shippedBy: z.string().nullable(), late: z.boolean() }).nullable(),
    delivery: z.object({
      chaseAt: z.string().nullable(),
      chasedAt: z.string().nullable(),
      confirmedAt: z.string().nullable(),
      confirmedBy: z.string().nullable(),
      note: z.string().nullable(),
    }),
    closedAt: z.string().nullable(),
    evidence: z.array(z.object({ id: z.uuid(), fileName: z.string(), sniffedType: z.enum(EVIDENCE_TYPES), url: z.string() })),
    timeline: z.array(z.object({ at: z.string(), actor: z.string(), role: z.string(), action: z.string(), comment: z.string().nullable() })),
  })
  .meta({ id: 'RmaRepair' });
export type RmaRepairDto = z.infer<typeof rmaRepairSchema>;

/** One RMA by its number, with its parts, evidence and (unless `withDetails` is false) its timeline. */
export async function loadRmaRepair(db: Db, caseNumber: string, withDetails = true): Promise<RmaRepairDto> {
  const row = await db
    .selectFrom('rma_repairs as r')
    .innerJoin('customers as c', 'c.id', 'r.customer_id')
    .leftJoin('cases as o', 'o.id', 'r.origin_case_id')
    .selectAll('r')
    .select(['c.name as customer_name', 'o.kind as origin_kind', 'o.number as origin_number'])
    .where('r.case_number', '=', caseNumber)
    .executeTakeFirst();
  if (!row?.case_id || !row.case_number) throw ApiError.notFound('RMA repair', caseNumber);
  const caseId = row.case_id;
  const [parts, evidence, events] = await Promise.all([
    db
      .selectFrom('rma_repair_parts as p')
      .innerJoin('devices as d', 'd.id', 'p.device_id')
      .selectAll('p')
      .select('d.serial as device_serial')
      .where('p.rma_id', '=', row.id)
      .orderBy('p.line')
      .execute(),
    withDetails
      ? db.selectFrom('evidence_files').select(['id', 'file_name', 'sniffed_type']).where('case_id', '=', caseId).orderBy('uploaded_at').orderBy('id').execute()
      : Promise.resolve([]),
    withDetails ? db.selectFrom('audit_events').selectAll().where('case_id', '=', caseId).orderBy('occurred_at').orderBy('id').execute() : Promise.resolve([]),
  ]);
  const deadline = row.ship_back_deadline as ShipBackDeadline | null;
  return {
    caseNumber: row.case_number,
    caseId,
    workflowId: rmaRepairWorkflowId(row.case_number),
    status: row.status as RmaRepairStatus,
    origin: row.origin,
    internal: row.origin === 'spare_part_return',
    customerId: row.customer_id,
    customerName: row.customer_name,
    contactId: row.contact_id,
    originCase: row.origin_case_id && row.origin_kind && row.origin_number ? { id: row.origin_case_id, kind: row.origin_kind, number: row.origin_number } : null,
    opened: { by: row.opened_by, role: row.opened_by_role, at: iso(row.opened_at) },
    parts: parts.map((part) => ({
      line: part.line,
      deviceId: part.device_id,
      deviceSerial: part.device_serial,
      faultDescription: part.fault_description,
      status: part.status as RmaPartStatus,
      receipt:
        part.received_serial !== null && part.received_at !== null
          ? { receivedSerial: part.received_serial, receivedAt: iso(part.received_at)!, receivedBy: part.received_by, note: part.receipt_note, serialMatches: part.received_serial === part.device_serial }
          : null,
      discrepancy: part.discrepancy_resolution
        ? { resolution: part.discrepancy_resolution, comment: part.discrepancy_comment, resolvedBy: part.discrepancy_resolved_by, resolvedAt: iso(part.discrepancy_resolved_at) }
        : null,
      outcome: part.outcome ? { outcome: part.outcome, note: part.outcome_note, by: part.outcome_by, at: iso(part.outcome_at) } : null,
      replacementSerial: part.replacement_serial,
      warrantyEnd: part.warranty_end,
      warrantyBasis: part.warranty_basis,
    })),
    receivedAt: row.origin === 'spare_part_return' || deadline ? iso(row.received_at) : null,
    shipBack: deadline
      ? {
          slaClass: deadline.slaClass as SlaClass,
          clockStartedAt: deadline.receivedAt,
          dueAt: deadline.dueAt,
          warnAt: deadline.warnAt,
          provisional: deadline.provisional,
          rule: deadline.rule,
          warnedAt: iso(row.due_warned_at),
          missedAt: iso(row.due_missed_at),
        }
      : null,
    shipment:
      row.shipped_at && row.carrier && row.tracking_number
        ? { carrier: row.carrier, trackingNumber: row.tracking_number, shippedAt: iso(row.shipped_at)!, shippedBy: row.shipped_by, late: row.shipped_late ?? false }
        : null,
    delivery: {
      chaseAt: iso(row.delivery_chase_at),
      chasedAt: iso(row.delivery_chased_at),
      confirmedAt: iso(row.delivery_confirmed_at),
      confirmedBy: row.delivery_confirmed_by,
      note: row.delivery_note,
    },
    closedAt: iso(row.closed_at),
    evidence: evidence.map((file) => ({ id: file.id, fileName: file.file_name, sniffedType: file.sniffed_type, url: `/evidence/${file.id}` })),
    timeline: events.map((event) => ({ at: iso(event.occurred_at)!, actor: event.actor, role: event.actor_role, action: event.action, comment: event.comment })),
  };
}
