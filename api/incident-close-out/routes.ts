import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { z } from 'zod';
import type { Clock } from '../../activities/shared/clock';
import type { SignedLinks } from '../../activities/shared/signed-links';
import type { Db } from '../../db';
import type { UserRole } from '../../db/schema';
import {
  REVIEW_MEETING_DEFAULT_MINUTES,
  customiseIncidentSummaryReportUpdate,
  incidentCloseOutWorkflowId,
  recordIncidentFollowUpUpdate,
  recordIncidentMinutesUpdate,
  reviewIncidentSummaryReportUpdate,
  scheduleIncidentReviewMeetingUpdate,
  submitIncidentGroupSummaryUpdate,
  submitIncidentSummaryReportUpdate,
  type IncidentCloseOutState,
} from '../../workflows/incident-close-out/definitions';
import { ApiError } from '../errors';
import type { ApiRoutes } from '../route';
import { actorStamp as stamp, updateCase } from '../shared/process-updates';
import { isoInstantField, optionalNote, requiredText } from '../shared/schemas';
import { incidentCloseOutSchema, loadIncidentCloseOut, type IncidentCloseOutDto } from './read-model';

export interface IncidentCloseOutDependencies {
  db: Db;
  temporal: Client;
  taskQueue: string;
  clock: Clock;
  links: SignedLinks;
}

const MANAGER: readonly UserRole[] = ['manager'];
const WRITERS: readonly UserRole[] = ['engineer', 'senior_engineer', 'manager'];
const DESK: readonly UserRole[] = ['service_desk', 'manager'];
const ANY_USER: readonly UserRole[] = [];

const caseParams = z.object({ caseNumber: z.string().regex(/^INC-\d{4}-\d{6}$/, 'must look like INC-2026-000042') });

export const summaryReportContentSchema = z
  .object({
    impact: requiredText(4000).meta({ description: 'What happened and what it affected' }),
    process: requiredText(8000).meta({ description: 'How it was handled, in order' }),
    result: requiredText(4000).meta({ description: 'What was restored, and how' }),
    rootCause: requiredText(4000),
    recommendations: requiredText(4000).meta({ description: 'What is recommended to avoid it again' }),
  })
  .meta({ id: 'IncidentSummaryReportContent' });

const attendeeSchema = z.object({ name: requiredText(200), email: z.email().max(320) });

/** The incident's case id, or 404. */
async function incidentCaseId(db: Db, caseNumber: string): Promise<string> {
  const row = await db.selectFrom('cases').select('id').where('number', '=', caseNumber).where('kind', '=', 'incident').executeTakeFirst();
  if (!row) throw ApiError.notFound('incident', caseNumber);
  return row.id;
}

/** The incident's close-out as it is now; a 409 before the incident's first restoration. */
async function readCloseOut(db: Db, caseId: string, caseNumber: string): Promise<IncidentCloseOutDto> {
  const closeOut = await loadIncidentCloseOut(db, caseId);
  if (!closeOut) throw ApiError.conflict('invalid_transition', `incident ${caseNumber} is not restored yet: its close-out starts at restoration`);
  return closeOut;
}

/**
 * The close-out's steps (P2 "After restoration") under /incidents/:caseNumber/...: engineers and the
 * coordinator write, the manager reviews and customises the summary report, the desk records the
 * follow-up, schedules the review meeting and records its minutes. The incident report is written and
 * signed through /documents (its id is in `incidentReport.documentId`).
 */
export function registerIncidentCloseOutRoutes(routes: ApiRoutes, deps: IncidentCloseOutDependencies): void {
  const tag = 'Incident close-out';
  const response = { schema: incidentCloseOutSchema };
  const transitionErrors = [404, 409, 422];

  const update = async <Arg>(caseNumber: string, definition: UpdateDefinition<IncidentCloseOutState, [Arg]>, arg: Arg, check?: (closeOut: IncidentCloseOutDto, caseId: string) => Promise<void>): Promise<IncidentCloseOutDto> => {
    const caseId = await incidentCaseId(deps.db, caseNumber);
    if (check) await check(await readCloseOut(deps.db, caseId, caseNumber), caseId);
    return updateCase(deps.temporal, () => readCloseOut(deps.db, caseId, caseNumber), incidentCloseOutWorkflowId(caseNumber), definition, arg);
  };

  routes
    .add({
      method: 'get', path: '/incidents/:caseNumber/close-out', tag,
      summary: "The incident's close-out since its last restoration: incident report, summary report, follow-up, group summary, review meeting and minutes, each with its deadline; earlier superseded rounds listed",
      access: { roles: ANY_USER }, params: caseParams, response, errors: [404, 409],
      handler: async ({ params }) => readCloseOut(deps.db, await incidentCaseId(deps.db, params.caseNumber), params.caseNumber),
    })
    .add({
      method: 'post', path: '/incidents/:caseNumber/summary-report', tag,
      summary: "Submit a version of the emergency-recovery summary report for the manager's review (again after it was sent back); it must be reviewed and customised within 1 working day of restoration",
      access: { roles: WRITERS }, params: caseParams, body: summaryReportContentSchema, response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(params.caseNumber, submitIncidentSummaryReportUpdate, { ...stamp(actor!, deps.clock), userId: actor!.id, content: body }),
    })
    .add({
      method: 'post', path: '/incidents/:caseNumber/summary-report/review', tag,
      summary: 'Review the summary report from the technical side: approve it, or send it back to its writer with a comment (technical manager)',
      access: { roles: MANAGER }, params: caseParams,
      body: z
        .object({ decision: z.enum(['approved', 'returned']), comment: optionalNote(4000) })
        .refine((b) => b.decision === 'approved' || (b.comment ?? '').trim() !== '', { message: 'sending the report back needs a comment', path: ['comment'] }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(params.caseNumber, reviewIncidentSummaryReportUpdate, { ...stamp(actor!, deps.clock), decision: body.decision, comment: body.comment }),
    })
    .add({
      method: 'post', path: '/incidents/:caseNumber/summary-report/customisation', tag,
      summary: "Customise the approved summary report for the customer; it is emailed to the customer's supervisors (to the case contact, with the desk told, when none is on record) (technical manager)",
      access: { roles: MANAGER }, params: caseParams,
      body: z.object({ text: requiredText(20000).meta({ description: 'The report as the customer reads it' }) }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(params.caseNumber, customiseIncidentSummaryReportUpdate, { ...stamp(actor!, deps.clock), customised: { text: body.text } }),
    })
    .add({
      method: 'post', path: '/incidents/:caseNumber/follow-up', tag,
      summary: "Record the follow-up with the customer (due 2 days after restoration; the desk is chased at the deadline; 409 once recorded)",
      access: { roles: DESK }, params: caseParams, body: z.object({ reached: z.boolean(), notes: optionalNote(4000) }), response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(params.caseNumber, recordIncidentFollowUpUpdate, { ...stamp(actor!, deps.clock), reached: body.reached, notes: body.notes }),
    })
    .add({
      method: 'post', path: '/incidents/:caseNumber/group-summary', tag,
      summary: "Submit the expert group's written summary of the handling and the recovery plan (due a week after restoration; written by the group's coordinator, or by an engineer or manager when the group has none; 409 once submitted)",
      access: { roles: WRITERS }, params: caseParams,
      body: z.object({ summary: requiredText(20000), lessons: requiredText(8000) }),
      response, errors: [...transitionErrors, 403],
      handler: async ({ params, body, actor }) =>
        update(params.caseNumber, submitIncidentGroupSummaryUpdate, { ...stamp(actor!, deps.clock), userId: actor!.id, summary: body.summary, lessons: body.lessons }, async (_closeOut, caseId) => {
          if (actor!.role === 'manager') return;
          const coordinator = await deps.db
            .selectFrom('incident_expert_group_members as m')
            .innerJoin('users as u', 'u.id', 'm.user_id')
            .select(['u.id', 'u.name'])
            .where('m.case_id', '=', caseId)
            .where('m.coordinator', '=', true)
            .where('m.removed_at', 'is', null)
            .executeTakeFirst();
          if (coordinator && coordinator.id !== actor!.id) {
            throw new ApiError(403, 'forbidden', `the expert group's summary is written by its coordinator, ${coordinator.name}`, { coordinatorUserId: coordinator.id });
          }
        }),
    })
    .add({
      method: 'post', path: '/incidents/:caseNumber/review-meeting', tag,
      summary: 'Schedule (or reschedule) the review meeting; each attendee is emailed an iCalendar invitation, and a rescheduling updates the same calendar entry (service desk)',
      access: { roles: DESK }, params: caseParams,
      body: z
        .object({
          startsAt: isoInstantField(),
          endsAt: isoInstantField().optional().meta({ description: `Default: ${REVIEW_MEETING_DEFAULT_MINUTES} minutes after startsAt` }),
          location: requiredText(500),
          attendees: z.array(attendeeSchema).min(1).max(50),
        })
        .refine((b) => b.endsAt === undefined || Date.parse(b.endsAt) > Date.parse(b.startsAt), { message: 'must be after startsAt', path: ['endsAt'] })
        .refine((b) => new Set(b.attendees.map((a) => a.email.toLowerCase())).size === b.attendees.length, { message: 'lists an email twice', path: ['attendees'] }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        const endsAt = body.endsAt ?? new Date(Date.parse(body.startsAt) + REVIEW_MEETING_DEFAULT_MINUTES * 60_000).toISOString();
        return update(params.caseNumber, scheduleIncidentReviewMeetingUpdate, {
          ...stamp(actor!, deps.clock),
          startsAt: new Date(body.startsAt).toISOString(),
          endsAt: new Date(endsAt).toISOString(),
          location: body.location,
          attendees: body.attendees.map((attendee) => ({ name: attendee.name, email: attendee.email.toLowerCase() })),
        });
      },
    })
    .add({
      method: 'post', path: '/incidents/:caseNumber/review-meeting/minutes', tag,
      summary: "Record the review meeting's minutes once it has begun (409 before); with everything else in, the close-out is archived and the incident closes",
      access: { roles: DESK }, params: caseParams,
      body: z.object({ minutes: requiredText(20000), decisions: z.array(requiredText(2000)).max(100).default([]).meta({ description: 'What the meeting decided, one item each' }) }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(params.caseNumber, recordIncidentMinutesUpdate, { ...stamp(actor!, deps.clock), minutes: body.minutes, decisions: body.decisions }),
    });
}
