import { ApplicationFailure } from '@temporalio/common';
import type { Updateable } from 'kysely';
import type { Logger } from 'pino';
import type { Db, DbExecutor } from '../../db';
import { loadBusinessCalendar } from '../../db/repositories/calendar';
import { insertDocument } from '../../db/repositories/documents';
import type { Database, Locale } from '../../db/schema';
import {
  FOLLOW_UP_DAYS,
  GROUP_SUMMARY_DAYS,
  SUMMARY_REPORT_CHASE_HOUR,
  SUMMARY_REPORT_WORKING_DAYS,
  type CloseOutAlertKind,
  type CloseOutDeadlines,
  type CustomisedSummaryReport,
  type IncidentCloseOutStatus,
  type ReviewMeetingAttendee,
  type SummaryReportContent,
} from '../../workflows/incident-close-out/definitions';
import { dayNumber, shanghaiDate, shanghaiInstantMs } from '../../workflows/rules/time';
import type { ActorStamp } from '../../workflows/shared/definitions';
import type { SignOffStep } from '../../workflows/sign-off/definitions';
import { createCaseStepRunner, stepAuditInsert, type StepAudit, type StepEmail, type StepWrite } from '../shared/case-step';

const DAY_MS = 24 * 3_600_000;
const HOUR_MS = 3_600_000;

export interface IncidentCloseOutActivityDependencies {
  db: Db;
  emailsQueued?: () => void;
  logger: Pick<Logger, 'info'>;
  /** The organiser of the review meeting's invitations (MAIL_FROM). */
  sender?: { name: string; email: string } | undefined;
}

/** Which round of which incident a step is about. */
interface RoundRef {
  caseId: string;
  round: number;
}

/** The incident (its customer and contact) with the round's row, when the round has started. */
async function closeOutRow(executor: DbExecutor, caseId: string, round: number) {
  const row = await executor
    .selectFrom('incidents as i')
    .innerJoin('customers as c', 'c.id', 'i.customer_id')
    .innerJoin('contacts as k', 'k.id', 'i.contact_id')
    .leftJoin('incident_close_outs as o', (join) => join.onRef('o.case_id', '=', 'i.case_id').on('o.round', '=', round))
    .select([
      'i.case_id',
      'i.case_number',
      'i.customer_id',
      'i.contact_id as incident_contact_id',
      'c.name as customer_name',
      'k.name as contact_name',
      'k.email as contact_email',
      'k.locale as contact_locale',
      'o.round',
      'o.status',
      'o.interrupted_at',
      'o.restored_at',
      'o.contact_id',
      'o.incident_report_document_id',
      'o.summary_due_at',
      'o.summary_chase_at',
      'o.follow_up_due_at',
      'o.group_summary_due_at',
      'o.deadlines_provisional',
      'o.summary_writer_user_id',
      'o.summary_content',
    ])
    .where('i.case_id', '=', caseId)
    .executeTakeFirst();
  // Retryable: the incident is committed before its workflow starts, but be patient with a lagging replica.
  if (!row) throw ApplicationFailure.retryable(`no incident for case ${caseId} (yet)`, 'IncidentNotFound');
  return row;
}
type CloseOutRow = Awaited<ReturnType<typeof closeOutRow>>;

/** The round's row, which every step but the first needs. */
function started(row: CloseOutRow, round: number) {
  if (row.round === null || !row.restored_at || !row.interrupted_at) throw ApplicationFailure.nonRetryable(`incident ${row.case_number} has no close-out round ${round}`, 'IncidentCloseOutNotFound');
  return { ...row, round: row.round, restored_at: row.restored_at, interrupted_at: row.interrupted_at };
}

async function usersWithRole(trx: DbExecutor, roles: ('manager' | 'service_desk')[]) {
  return trx.selectFrom('users').select(['id', 'email']).where('role', 'in', roles).where('disabled_at', 'is', null).orderBy('email').execute();
}

/** The expert group's coordinator now (the one member facing the customer), when the group has one. */
async function coordinatorOf(trx: DbExecutor, caseId: string) {
  return trx
    .selectFrom('incident_expert_group_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.email'])
    .where('m.case_id', '=', caseId)
    .where('m.coordinator', '=', true)
    .where('m.removed_at', 'is', null)
    .where('u.disabled_at', 'is', null)
    .executeTakeFirst();
}

async function activeUser(trx: DbExecutor, userId: string | null) {
  if (!userId) return undefined;
  return trx.selectFrom('users').select(['id', 'email']).where('id', '=', userId).where('disabled_at', 'is', null).executeTakeFirst();
}

/**
 * Who each alert goes to: the summary report's writer (whoever wrote its last version, else the
 * group's coordinator, else the desk), the managers when it is late, the desk for the follow-up, the
 * coordinator for the group summary (the managers, who form the group, when it has none).
 */
async function alertRecipients(trx: DbExecutor, row: CloseOutRow, kind: CloseOutAlertKind): Promise<{ id: string; email: string }[]> {
  switch (kind) {
    case 'summary_report_chase': {
      const writer = (await activeUser(trx, row.summary_writer_user_id)) ?? (await coordinatorOf(trx, row.case_id));
      return writer ? [writer] : usersWithRole(trx, ['service_desk']);
    }
    case 'summary_report_missed':
      return usersWithRole(trx, ['manager']);
    case 'follow_up_due':
      return usersWithRole(trx, ['service_desk']);
    case 'group_summary_due': {
      const coordinator = await coordinatorOf(trx, row.case_id);
      return coordinator ? [coordinator] : usersWithRole(trx, ['manager']);
    }
  }
}

/** The columns each alert is recorded in. */
const ALERT_COLUMN: Record<CloseOutAlertKind, 'summary_chased_at' | 'summary_missed_at' | 'follow_up_chased_at' | 'group_summary_chased_at'> = {
  summary_report_chase: 'summary_chased_at',
  summary_report_missed: 'summary_missed_at',
  follow_up_due: 'follow_up_chased_at',
  group_summary_due: 'group_summary_chased_at',
};

/** A recipient of the summary report, as recorded on the round. */
interface SummaryRecipient {
  contactId: string;
  name: string;
  email: string;
  role: string;
}

export function createIncidentCloseOutActivities({ db, emailsQueued, logger, sender }: IncidentCloseOutActivityDependencies) {
  const caseStep = createCaseStepRunner<CloseOutRow, { round: number }>(
    { db, logger, emailsQueued },
    {
      process: 'incident-close-out',
      load: (trx, caseId, options) => closeOutRow(trx, caseId, options!.round),
      caseId: (row) => row.case_id,
      caseNumber: (row) => row.case_number,
      contact: (row) => ({ email: row.contact_email, locale: row.contact_locale }),
    },
  );
  /** A step of one round: its keys (audit, outbox, log) carry the round. */
  const roundStep = <T>(ref: RoundRef, step: string, actorRole: string, key: string, plan: Parameters<typeof caseStep<T>>[2]): Promise<T> =>
    caseStep(ref.caseId, { step: `round ${ref.round}: ${step}`, actorRole, key: `close-out/r${ref.round}/${key}` }, plan, { round: ref.round });

  const audit = (trx: DbExecutor, row: CloseOutRow, round: number, key: string, entry: StepAudit) =>
    stepAuditInsert(trx, { caseId: row.case_id, caseNumber: row.case_number }, `close-out/r${round}/${key}`, { ...entry, data: { round, ...entry.data } });

  const roundUpdate = (trx: DbExecutor, ref: RoundRef, at: string, changes: Updateable<Database['incident_close_outs']>): StepWrite =>
    trx
      .updateTable('incident_close_outs')
      .set({ ...changes, updated_at: new Date(at) })
      .where('case_id', '=', ref.caseId)
      .where('round', '=', ref.round);

  const statusChange = (trx: DbExecutor, ref: RoundRef, at: string, status: IncidentCloseOutStatus, changes: Updateable<Database['incident_close_outs']> = {}): StepWrite =>
    roundUpdate(trx, ref, at, { ...changes, status });

  return {
    /**
     * Starts a round: its deadlines computed once from the calendar in force (the summary report 1
     * working day after the restoration's China date, its writer chased at 09:00 that day; the
     * follow-up 2 days and the group summary a week after restoration), the incident report document
     * for the customer's signature, and the round's row. A round already started is returned as recorded.
     */
    async startIncidentCloseOut(input: RoundRef & { caseNumber: string; restoredAt: string; interruptedAt: string; documentId: string; steps: SignOffStep[]; at: string }): Promise<{ documentId: string; deadlines: CloseOutDeadlines }> {
      const calendar = await loadBusinessCalendar(db);
      return roundStep(input, 'started', 'system', 'started', async (row, trx) => {
        if (row.round !== null && row.summary_due_at && row.summary_chase_at && row.follow_up_due_at && row.group_summary_due_at && row.incident_report_document_id) {
          return {
            writes: [],
            result: {
              documentId: row.incident_report_document_id,
              deadlines: {
                summaryReportDueAt: row.summary_due_at.toISOString(),
                summaryReportChaseAt: row.summary_chase_at.toISOString(),
                followUpDueAt: row.follow_up_due_at.toISOString(),
                groupSummaryDueAt: row.group_summary_due_at.toISOString(),
                provisional: row.deadlines_provisional ?? false,
              },
            },
          };
        }
        const restoredMs = Date.parse(input.restoredAt);
        const summary = calendar.addWorkingDays(shanghaiDate(restoredMs), SUMMARY_REPORT_WORKING_DAYS);
        const deadlines: CloseOutDeadlines = {
          summaryReportDueAt: new Date(Date.parse(summary.dueAt)).toISOString(),
          summaryReportChaseAt: new Date(shanghaiInstantMs(dayNumber(summary.due), SUMMARY_REPORT_CHASE_HOUR * HOUR_MS)).toISOString(),
          followUpDueAt: new Date(restoredMs + FOLLOW_UP_DAYS * DAY_MS).toISOString(),
          groupSummaryDueAt: new Date(restoredMs + GROUP_SUMMARY_DAYS * DAY_MS).toISOString(),
          provisional: summary.provisional,
        };
        return {
          writes: [
            {
              execute: () =>
                insertDocument(trx, {
                  id: input.documentId,
                  caseId: row.case_id,
                  kind: 'incident_report',
                  title: input.round > 1 ? `Incident report ${row.case_number} (restoration ${input.round})` : `Incident report ${row.case_number}`,
                  steps: input.steps,
                  contactId: row.incident_contact_id,
                  createdBy: 'system',
                }),
            },
            trx.insertInto('incident_close_outs').values({
              case_id: row.case_id,
              round: input.round,
              case_number: row.case_number,
              status: 'reporting',
              interrupted_at: input.interruptedAt,
              restored_at: input.restoredAt,
              contact_id: row.incident_contact_id,
              incident_report_document_id: input.documentId,
              deadlines_provisional: deadlines.provisional,
              summary_due_at: deadlines.summaryReportDueAt,
              summary_chase_at: deadlines.summaryReportChaseAt,
              follow_up_due_at: deadlines.followUpDueAt,
              group_summary_due_at: deadlines.groupSummaryDueAt,
              created_at: new Date(input.at),
              updated_at: new Date(input.at),
            }),
            audit(trx, row, input.round, 'started', {
              at: input.at,
              actor: 'system',
              role: 'system',
              action: 'incident.close_out_started',
              data: { interruptedAt: input.interruptedAt, restoredAt: input.restoredAt, incidentReportDocumentId: input.documentId, ...deadlines, missingYears: summary.missingYears },
            }),
          ],
          result: { documentId: input.documentId, deadlines },
        };
      });
    },

    /** The customer signed the incident report. */
    async recordIncidentReportSigned(input: RoundRef & { documentId: string; version: number; at: string }): Promise<void> {
      await roundStep(input, 'incident report signed', 'system', 'incident-report-signed', async (row, trx) => ({
        writes: [
          roundUpdate(trx, input, input.at, { incident_report_signed_version: input.version, incident_report_signed_at: new Date(input.at) }),
          audit(trx, row, input.round, 'incident-report-signed', { at: input.at, actor: 'system', role: 'system', action: 'incident.incident_report_signed', data: { documentId: input.documentId, version: input.version } }),
        ],
        result: undefined,
      }));
    },

    /** A version of the emergency-recovery summary report, for the manager's review. */
    async recordIncidentSummaryReport(input: RoundRef & { stamp: ActorStamp; at: string; userId: string | null; version: number; content: SummaryReportContent }): Promise<void> {
      const { stamp } = input;
      const key = `summary-report/v${input.version}`;
      await roundStep(input, `summary report v${input.version}`, stamp.role, key, async (row, trx) => ({
        writes: [
          roundUpdate(trx, input, input.at, {
            summary_state: 'submitted',
            summary_version: input.version,
            summary_content: JSON.stringify(input.content),
            summary_submitted_at: new Date(input.at),
            summary_submitted_by: stamp.actor,
            summary_writer_user_id: input.userId,
            summary_reviewed_at: null,
            summary_reviewed_by: null,
            summary_review_comment: null,
          }),
          audit(trx, row, input.round, key, { ...stamp, action: 'incident.summary_report_submitted', data: { version: input.version, content: input.content } }),
        ],
        result: undefined,
      }));
    },

    /** The manager's review of a version: approved, or sent back to its writer with a comment. */
    async recordIncidentSummaryReportReview(input: RoundRef & { stamp: ActorStamp; at: string; version: number; decision: 'approved' | 'returned'; comment: string | null }): Promise<void> {
      const { stamp } = input;
      const key = `summary-report/v${input.version}/review`;
      await roundStep(input, `summary report v${input.version} ${input.decision}`, stamp.role, key, async (row, trx) => {
        const writer = input.decision === 'returned' ? await activeUser(trx, row.summary_writer_user_id) : undefined;
        return {
          writes: [
            roundUpdate(trx, input, input.at, { summary_state: input.decision, summary_reviewed_at: new Date(input.at), summary_reviewed_by: stamp.actor, summary_review_comment: input.comment }),
            audit(trx, row, input.round, key, { ...stamp, action: `incident.summary_report_${input.decision}`, comment: input.comment, data: { version: input.version } }),
          ],
          emails: writer
            ? [
                {
                  key: `r${input.round}/${key}/writer`,
                  content: { template: 'incident_summary_report_returned', params: { caseNumber: row.case_number, customerName: row.customer_name, version: input.version, reviewedBy: stamp.actor, comment: input.comment ?? '' } },
                  to: { email: writer.email, locale: 'zh-CN' },
                },
              ]
            : [],
          result: undefined,
        };
      });
    },

    /**
     * The manager's customised report, delivered to the customer's supervisors (contacts with the role
     * supervisor); with none on record it goes to the case's contact and the desk is told.
     */
    async deliverIncidentSummaryReport(input: RoundRef & { stamp: ActorStamp; at: string; version: number; customised: CustomisedSummaryReport; dueAt: string | null }): Promise<{ deliveredTo: SummaryRecipient[] }> {
      const { stamp } = input;
      const key = 'summary-report/delivered';
      return roundStep(input, 'summary report customised and delivered', stamp.role, key, async (loaded, trx) => {
        const row = started(loaded, input.round);
        const supervisors = await trx
          .selectFrom('contacts')
          .select(['id', 'name', 'email', 'locale', 'role'])
          .where('customer_id', '=', row.customer_id)
          .where('role', '=', 'supervisor')
          .orderBy('name')
          .orderBy('id')
          .execute();
        const recipients: (SummaryRecipient & { locale: Locale })[] =
          supervisors.length > 0
            ? supervisors.map((contact) => ({ contactId: contact.id, name: contact.name, email: contact.email, role: contact.role, locale: contact.locale }))
            : [{ contactId: row.incident_contact_id, name: row.contact_name, email: row.contact_email, role: 'case_contact', locale: row.contact_locale }];
        const deliveredTo: SummaryRecipient[] = recipients.map(({ contactId, name, email, role }) => ({ contactId, name, email, role }));
        const late = input.dueAt !== null && Date.parse(input.at) > Date.parse(input.dueAt);
        const emails: StepEmail[] = recipients.map((recipient) => ({
          key: `r${input.round}/${key}/${recipient.contactId}`,
          content: {
            template: 'incident_summary_report',
            params: { caseNumber: row.case_number, customerName: row.customer_name, recipientName: recipient.name, interruptedAt: row.interrupted_at.toISOString(), restoredAt: row.restored_at.toISOString(), report: input.customised.text },
          },
          to: { email: recipient.email, locale: recipient.locale },
        }));
        if (supervisors.length === 0) {
          for (const desk of await usersWithRole(trx, ['service_desk'])) {
            emails.push({
              key: `r${input.round}/${key}/no-supervisor/${desk.id}`,
              content: { template: 'incident_summary_no_supervisor', params: { caseNumber: row.case_number, customerName: row.customer_name, contactName: row.contact_name, contactEmail: row.contact_email } },
              to: { email: desk.email, locale: 'zh-CN' },
            });
          }
        }
        return {
          writes: [
            roundUpdate(trx, input, input.at, {
              summary_state: 'delivered',
              summary_customised: input.customised.text,
              summary_customised_by: stamp.actor,
              summary_delivered_at: new Date(input.at),
              summary_delivered_to: JSON.stringify(deliveredTo),
            }),
            audit(trx, row, input.round, key, {
              ...stamp,
              action: 'incident.summary_report_delivered',
              data: { version: input.version, dueAt: input.dueAt, late, deliveredTo, noSupervisor: supervisors.length === 0 },
            }),
          ],
          emails,
          result: { deliveredTo },
        };
      });
    },

    /** The desk's follow-up with the customer (within 2 days of restoration). */
    async recordIncidentFollowUp(input: RoundRef & { stamp: ActorStamp; at: string; reached: boolean; notes: string | null; dueAt: string | null }): Promise<void> {
      const { stamp } = input;
      const late = input.dueAt !== null && Date.parse(input.at) > Date.parse(input.dueAt);
      await roundStep(input, 'follow-up', stamp.role, 'follow-up', async (row, trx) => ({
        writes: [
          roundUpdate(trx, input, input.at, { follow_up_done_at: new Date(input.at), follow_up_by: stamp.actor, follow_up_reached: input.reached, follow_up_notes: input.notes }),
          audit(trx, row, input.round, 'follow-up', { ...stamp, action: 'incident.follow_up', comment: input.notes, data: { reached: input.reached, dueAt: input.dueAt, late } }),
        ],
        result: undefined,
      }));
    },

    /** The expert group's written summary (within a week of restoration). */
    async recordIncidentGroupSummary(input: RoundRef & { stamp: ActorStamp; at: string; summary: string; lessons: string; dueAt: string | null }): Promise<void> {
      const { stamp } = input;
      const late = input.dueAt !== null && Date.parse(input.at) > Date.parse(input.dueAt);
      await roundStep(input, 'group summary', stamp.role, 'group-summary', async (row, trx) => ({
        writes: [
          roundUpdate(trx, input, input.at, { group_summary_submitted_at: new Date(input.at), group_summary_by: stamp.actor, group_summary: input.summary, group_summary_lessons: input.lessons }),
          audit(trx, row, input.round, 'group-summary', { ...stamp, action: 'incident.group_summary', comment: input.summary, data: { lessons: input.lessons, dueAt: input.dueAt, late } }),
        ],
        result: undefined,
      }));
    },

    /**
     * The review meeting booked (`booking` 1) or rebooked (2, ...): each attendee is emailed with an
     * iCalendar invitation; a rebooking updates the same calendar entry (same UID, higher SEQUENCE).
     */
    async scheduleIncidentReviewMeeting(input: RoundRef & { stamp: ActorStamp; at: string; booking: number; startsAt: string; endsAt: string; location: string; attendees: ReviewMeetingAttendee[] }): Promise<void> {
      const { stamp } = input;
      const key = `review-meeting/${input.booking}`;
      await roundStep(input, `review meeting booked (${input.booking})`, stamp.role, key, async (row, trx) => {
        const attendeeList = input.attendees.map((attendee) => `${attendee.name} <${attendee.email}>`).join(', ');
        // The customer's people are written to in their own language; staff in Chinese.
        const contacts = await trx.selectFrom('contacts').select(['email', 'locale']).where('customer_id', '=', row.customer_id).where('email', 'in', input.attendees.map((attendee) => attendee.email)).execute();
        const localeOf = (email: string): Locale => contacts.find((contact) => contact.email === email)?.locale ?? 'zh-CN';
        return {
          writes: [
            roundUpdate(trx, input, input.at, {
              meeting_starts_at: new Date(input.startsAt),
              meeting_ends_at: new Date(input.endsAt),
              meeting_location: input.location,
              meeting_attendees: JSON.stringify(input.attendees),
              meeting_bookings: input.booking,
              meeting_scheduled_by: stamp.actor,
            }),
            audit(trx, row, input.round, key, { ...stamp, action: 'incident.review_meeting_scheduled', data: { booking: input.booking, startsAt: input.startsAt, endsAt: input.endsAt, location: input.location, attendees: input.attendees } }),
          ],
          emails: input.attendees.map(
            (attendee): StepEmail => ({
              key: `r${input.round}/${key}/${attendee.email.toLowerCase()}`,
              content: {
                template: 'incident_review_meeting',
                params: { caseNumber: row.case_number, customerName: row.customer_name, startsAt: input.startsAt, endsAt: input.endsAt, location: input.location, attendees: attendeeList, booking: input.booking },
              },
              to: { email: attendee.email, locale: localeOf(attendee.email) },
              calendarInvite: {
                ...(sender ? { organizer: sender } : {}),
                uid: `${row.case_number}/r${input.round}/review-meeting@fieldops`,
                sequence: input.booking - 1,
                start: input.startsAt,
                end: input.endsAt,
                summary: `${row.case_number}: incident review meeting (${row.customer_name})`,
                description: `${row.case_number}: the incident report, the follow-up, the handling and the recovery plan. Attendees: ${attendeeList}`,
                location: input.location,
              },
            }),
          ),
          result: undefined,
        };
      });
    },

    /** The review meeting's minutes. */
    async recordIncidentReviewMinutes(input: RoundRef & { stamp: ActorStamp; at: string; minutes: string; decisions: string[] }): Promise<void> {
      const { stamp } = input;
      await roundStep(input, 'review meeting minutes', stamp.role, 'minutes', async (row, trx) => ({
        writes: [
          roundUpdate(trx, input, input.at, { minutes: input.minutes, minutes_decisions: JSON.stringify(input.decisions), minutes_recorded_at: new Date(input.at), minutes_recorded_by: stamp.actor }),
          audit(trx, row, input.round, 'minutes', { ...stamp, action: 'incident.review_minutes', comment: input.minutes, data: { decisions: input.decisions } }),
        ],
        result: undefined,
      }));
    },

    /** A deadline alert: recorded on the round and emailed to whoever it concerns (alertRecipients). */
    async recordIncidentCloseOutAlert(input: RoundRef & { kind: CloseOutAlertKind; dueAt: string; at: string }): Promise<{ notified: number }> {
      const key = `alert/${input.kind}`;
      return roundStep(input, input.kind.replace(/_/g, ' '), 'system', key, async (row, trx) => {
        const recipients = await alertRecipients(trx, row, input.kind);
        return {
          writes: [
            roundUpdate(trx, input, input.at, { [ALERT_COLUMN[input.kind]]: new Date(input.at) }),
            audit(trx, row, input.round, key, { at: input.at, actor: 'system', role: 'system', action: `incident.${input.kind}`, data: { dueAt: input.dueAt, notified: recipients.map((r) => r.id) } }),
          ],
          emails: recipients.map(
            (recipient): StepEmail => ({
              key: `r${input.round}/${key}/${recipient.id}`,
              content: { template: 'incident_close_out_alert', params: { caseNumber: row.case_number, customerName: row.customer_name, round: input.round, kind: input.kind, dueAt: input.dueAt } },
              to: { email: recipient.email, locale: 'zh-CN' },
            }),
          ),
          result: { notified: recipients.length },
        };
      });
    },

    /** The incident report signed, the summary delivered, the follow-up and the group summary in: the review meeting is next. */
    async recordIncidentCloseOutReviewDue(input: RoundRef & { at: string }): Promise<void> {
      await roundStep(input, 'ready for the review meeting', 'system', 'review-due', async (row, trx) => ({
        writes: [statusChange(trx, input, input.at, 'review_meeting'), audit(trx, row, input.round, 'review-due', { at: input.at, actor: 'system', role: 'system', action: 'incident.close_out_review_due' })],
        result: undefined,
      }));
    },

    /** Everything in, the minutes recorded: the round is archived (the incident closes on the workflow's result). */
    async archiveIncidentCloseOut(input: RoundRef & { at: string }): Promise<void> {
      await roundStep(input, 'archived', 'system', 'archived', async (row, trx) => ({
        writes: [statusChange(trx, input, input.at, 'archived', { archived_at: new Date(input.at) }), audit(trx, row, input.round, 'archived', { at: input.at, actor: 'system', role: 'system', action: 'incident.close_out_archived' })],
        result: undefined,
      }));
    },

    /** The incident reopened (the same symptom within 24 h): the round is superseded and nothing of it is chased any more. */
    async supersedeIncidentCloseOut(input: RoundRef & { at: string }): Promise<void> {
      await roundStep(input, 'superseded', 'system', 'superseded', async (row, trx) => ({
        // A round cancelled before its first step committed has no row: nothing to supersede but the record of it.
        writes: [
          ...(row.round === null ? [] : [statusChange(trx, input, input.at, 'superseded', { superseded_at: new Date(input.at) })]),
          audit(trx, row, input.round, 'superseded', { at: input.at, actor: 'system', role: 'system', action: 'incident.close_out_superseded' }),
        ],
        result: undefined,
      }));
    },
  };
}
