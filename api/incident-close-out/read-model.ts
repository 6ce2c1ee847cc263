// The read model of an incident's close-out (the rounds after restoration): its API shape and how it
// is read from the database. The incident core embeds it in GET /incidents/:caseNumber as `closeOut`.
import { z } from 'zod';
import type { Db } from '../../db';
import type { IncidentCloseOutsTable } from '../../db/schema';
import type { Selectable } from 'kysely';
import { INCIDENT_CLOSE_OUT_STATUSES, SUMMARY_REPORT_STATES, type IncidentCloseOutStatus, type SummaryReportState } from '../../workflows/incident-close-out/definitions';
import { SIGN_OFF_STATUSES, SIGN_OFF_STEPS } from '../../workflows/sign-off/definitions';
import { loadDocument } from '../sign-off/read-model';

const deadline = z.object({
  dueAt: z.string(),
  chasedAt: z.string().nullable(),
  late: z.boolean().meta({ description: 'Done after the deadline, or not done and chased at the deadline' }),
});

const recipientSchema = z.object({ contactId: z.uuid(), name: z.string(), email: z.string(), role: z.string() });

export const incidentCloseOutSchema = z
  .object({
    round: z.number().int().meta({ description: '1, or 2.. after a continuation of the same symptom reopened the incident' }),
    status: z.enum(INCIDENT_CLOSE_OUT_STATUSES),
    interruptedAt: z.string(),
    restoredAt: z.string(),
    interruptionMinutes: z.number().int().meta({ description: 'From interruption to restoration' }),
    waitingFor: z.array(z.enum(['engineer', 'manager', 'service_desk', 'customer', 'coordinator'])).meta({ description: 'Who the round waits for now; empty once archived or superseded' }),
    deadlinesProvisional: z.boolean().meta({ description: 'A working-day count went through a year the calendar has not published (Monday-Friday used)' }),
    incidentReport: z.object({
      documentId: z.uuid(),
      status: z.enum(SIGN_OFF_STATUSES),
      currentVersion: z.number().int(),
      waitingFor: z.enum(SIGN_OFF_STEPS).nullable(),
      signedVersion: z.number().int().nullable(),
      signedAt: z.string().nullable(),
    }),
    summaryReport: z.object({
      state: z.enum(SUMMARY_REPORT_STATES),
      dueAt: z.string().meta({ description: 'Reviewed and customised within 1 working day of restoration' }),
      chaseAt: z.string(),
      chasedAt: z.string().nullable(),
      missedAt: z.string().nullable().meta({ description: 'When the deadline passed before the report was customised (the managers were told)' }),
      version: z.number().int(),
      content: z.record(z.string(), z.unknown()).nullable(),
      submittedAt: z.string().nullable(),
      submittedBy: z.string().nullable(),
      reviewedAt: z.string().nullable(),
      reviewedBy: z.string().nullable(),
      reviewComment: z.string().nullable(),
      customised: z.string().nullable(),
      customisedBy: z.string().nullable(),
      deliveredAt: z.string().nullable(),
      deliveredTo: z.array(recipientSchema).meta({ description: "The customer's supervisors, or the case's contact when none is on record" }),
    }),
    followUp: deadline.extend({ doneAt: z.string().nullable(), by: z.string().nullable(), reached: z.boolean().nullable(), notes: z.string().nullable() }),
    groupSummary: deadline.extend({ submittedAt: z.string().nullable(), by: z.string().nullable(), summary: z.string().nullable(), lessons: z.string().nullable() }),
    meeting: z
      .object({
        startsAt: z.string(),
        endsAt: z.string(),
        location: z.string(),
        attendees: z.array(z.object({ name: z.string(), email: z.string() })),
        bookings: z.number().int().meta({ description: '1, plus one per rescheduling (each updates the same calendar entry)' }),
        scheduledBy: z.string().nullable(),
      })
      .nullable(),
    minutes: z.object({ text: z.string(), decisions: z.array(z.string()), recordedAt: z.string(), recordedBy: z.string() }).nullable(),
    archivedAt: z.string().nullable(),
    supersededAt: z.string().nullable(),
    previousRounds: z.array(z.object({ round: z.number().int(), status: z.enum(INCIDENT_CLOSE_OUT_STATUSES), restoredAt: z.string(), supersededAt: z.string().nullable() })),
  })
  .meta({ id: 'IncidentCloseOut' });
export type IncidentCloseOutDto = z.input<typeof incidentCloseOutSchema>;

type Row = Selectable<IncidentCloseOutsTable>;
const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

/** Who the round waits for, from what is still open. */
function waitingForOf(row: Row, incidentReportStatus: string): IncidentCloseOutDto['waitingFor'] {
  const status = row.status as IncidentCloseOutStatus;
  if (status === 'archived' || status === 'superseded') return [];
  const waiting = new Set<IncidentCloseOutDto['waitingFor'][number]>();
  if (incidentReportStatus === 'awaiting_version' || incidentReportStatus === 'returned') waiting.add('engineer');
  if (incidentReportStatus === 'in_review') waiting.add('customer');
  const summary = row.summary_state as SummaryReportState;
  if (summary === 'awaiting' || summary === 'returned') waiting.add('engineer');
  if (summary === 'submitted' || summary === 'approved') waiting.add('manager');
  if (!row.follow_up_done_at) waiting.add('service_desk');
  if (!row.group_summary_submitted_at) waiting.add('coordinator');
  if (!row.meeting_starts_at || (status === 'review_meeting' && !row.minutes_recorded_at)) waiting.add('service_desk');
  return [...waiting];
}

/** Done after its deadline, or chased at the deadline and not done yet (recorded facts only: no clock). */
function isLate(dueAt: Date, doneAt: Date | null, chasedAt: Date | null): boolean {
  return doneAt ? doneAt.getTime() > dueAt.getTime() : chasedAt !== null;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** The latest round of the incident's close-out, with the earlier rounds listed; null before the first restoration. */
export async function loadIncidentCloseOut(db: Db, caseId: string): Promise<IncidentCloseOutDto | null> {
  const rounds = await db.selectFrom('incident_close_outs').selectAll().where('case_id', '=', caseId).orderBy('round', 'desc').execute();
  const row = rounds[0];
  if (!row) return null;
  const document = await loadDocument(db, row.incident_report_document_id);
  const summaryContent = row.summary_content && typeof row.summary_content === 'object' ? (row.summary_content as Record<string, unknown>) : null;
  const attendees = Array.isArray(row.meeting_attendees) ? (row.meeting_attendees as { name: string; email: string }[]) : [];
  const deliveredTo = Array.isArray(row.summary_delivered_to) ? (row.summary_delivered_to as z.input<typeof recipientSchema>[]) : [];
  return {
    round: row.round,
    status: row.status as IncidentCloseOutStatus,
    interruptedAt: iso(row.interrupted_at)!,
    restoredAt: iso(row.restored_at)!,
    interruptionMinutes: Math.round((row.restored_at.getTime() - row.interrupted_at.getTime()) / 60_000),
    waitingFor: waitingForOf(row, document.status),
    deadlinesProvisional: row.deadlines_provisional,
    incidentReport: {
      documentId: document.id,
      status: document.status,
      currentVersion: document.currentVersion,
      waitingFor: document.waitingFor,
      signedVersion: row.incident_report_signed_version,
      signedAt: iso(row.incident_report_signed_at),
    },
    summaryReport: {
      state: row.summary_state as SummaryReportState,
      dueAt: iso(row.summary_due_at)!,
      chaseAt: iso(row.summary_chase_at)!,
      chasedAt: iso(row.summary_chased_at),
      missedAt: iso(row.summary_missed_at),
      version: row.summary_version,
      content: summaryContent,
      submittedAt: iso(row.summary_submitted_at),
      submittedBy: row.summary_submitted_by,
      reviewedAt: iso(row.summary_reviewed_at),
      reviewedBy: row.summary_reviewed_by,
      reviewComment: row.summary_review_comment,
      customised: row.summary_customised,
      customisedBy: row.summary_customised_by,
      deliveredAt: iso(row.summary_delivered_at),
      deliveredTo,
    },
    followUp: {
      dueAt: iso(row.follow_up_due_at)!,
      chasedAt: iso(row.follow_up_chased_at),
      late: isLate(row.follow_up_due_at, row.follow_up_done_at, row.follow_up_chased_at),
      doneAt: iso(row.follow_up_done_at),
      by: row.follow_up_by,
      reached: row.follow_up_reached,
      notes: row.follow_up_notes,
    },
    groupSummary: {
      dueAt: iso(row.group_summary_due_at)!,
      chasedAt: iso(row.group_summary_chased_at),
      late: isLate(row.group_summary_due_at, row.group_summary_submitted_at, row.group_summary_chased_at),
      submittedAt: iso(row.group_summary_submitted_at),
      by: row.group_summary_by,
      summary: row.group_summary,
      lessons: row.group_summary_lessons,
    },
    meeting:
      row.meeting_starts_at && row.meeting_ends_at
        ? { startsAt: iso(row.meeting_starts_at)!, endsAt: iso(row.meeting_ends_at)!, location: row.meeting_location ?? '', attendees, bookings: row.meeting_bookings, scheduledBy: row.meeting_scheduled_by }
        : null,
    minutes:
      row.minutes !== null && row.minutes_recorded_at
        ? { text: row.minutes, decisions: stringArray(row.minutes_decisions), recordedAt: iso(row.minutes_recorded_at)!, recordedBy: row.minutes_recorded_by ?? '' }
        : null,
    archivedAt: iso(row.archived_at),
    supersededAt: iso(row.superseded_at),
    previousRounds: rounds.slice(1).map((earlier) => ({
      round: earlier.round,
      status: earlier.status as IncidentCloseOutStatus,
      restoredAt: iso(earlier.restored_at)!,
      supersededAt: iso(earlier.superseded_at),
    })),
  };
}
