import type { UpdateDefinition } from '@temporalio/common';
import type { Logger } from 'pino';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Clock } from '../../activities/shared/clock';
import type { UserRole } from '../../db/schema';
import {
  FAULT_REPAIR_STATUSES,
  type FaultRepairStatus,
  arriveFaultRepairUpdate,
  bookFaultRepairAppointmentUpdate,
  diagnoseFaultRepairUpdate,
  dispatchFaultRepairUpdate,
  faultRepairWorkflowId,
  finishFaultRepairWorkUpdate,
  recordFaultRepairMilestoneUpdate,
  recordFollowUpCallUpdate,
  reportFaultRepairOverrunImpactUpdate,
  reviseFaultRepairPlanUpdate,
  reviewWriteUpUpdate,
  startFaultRepairWorkUpdate,
  submitFaultReportUpdate,
  submitWriteUpUpdate,
  type FaultRepairState,
} from '../../workflows/fault-repair/definitions';
import { ApiError } from '../errors';
import { pageOf, pageQuerySchema, type ApiRoutes } from '../route';
import { actorStamp as stamp, updateCase } from '../shared/process-updates';
import { isoInstantField, optionalNote, requiredText } from '../shared/schemas';
import { WAITING_FOR, deviceHistorySchema, faultRepairSchema, loadDeviceHistory, loadFaultRepair, type FaultRepairDto, type WaitingFor } from './read-model';
import { registerFaultRepair, registrationSchema, type FaultRepairDependencies } from './registration';

const DESK: readonly UserRole[] = ['service_desk', 'manager'];
const MANAGER: readonly UserRole[] = ['manager'];
const ENGINEER: readonly UserRole[] = ['engineer', 'senior_engineer'];
const RESPONDERS: readonly UserRole[] = ['engineer', 'senior_engineer', 'service_desk', 'manager'];
const ANY_USER: readonly UserRole[] = [];

const caseParams = z.object({ caseNumber: z.string().regex(/^FR-\d{4}-\d{6}$/, 'must look like FR-2026-000042') });

const names = z.array(requiredText(200)).max(20);
/** The fault report's seven items [003 2.2.6]. */
export const faultReportSchema = z.object({
  reportedAt: isoInstantField().meta({ description: '1. When the customer reported the fault' }),
  remoteSupportAt: isoInstantField().nullable().default(null).meta({ description: '1. When remote support started (null: none)' }),
  onSiteAt: isoInstantField().nullable().default(null).meta({ description: '1. When the engineer was on site (null: solved remotely)' }),
  restoredAt: isoInstantField().meta({ description: '1. When service was restored' }),
  engineers: names.min(1).meta({ description: '2. Our support engineers' }),
  customerEngineers: names.default([]).meta({ description: "2. The customer's engineers who worked with them" }),
  symptomsAndImpact: requiredText(4000).meta({ description: '3. Symptoms and business impact' }),
  resolutionProcess: requiredText(4000).meta({ description: '4. What was done' }),
  rootCause: requiredText(4000).meta({ description: '5. Root cause analysis' }),
  solution: requiredText(4000).meta({ description: '6. The solution' }),
  preventionAdvice: requiredText(4000).meta({ description: '7. Advice to avoid it again' }),
});


/** An instant the caller says something happened at: not in the future (5 min of clock skew allowed). */
function notInFuture(clock: Clock, field: string, value: string | undefined): string | null {
  if (value === undefined) return null;
  if (Date.parse(value) > clock.now().getTime() + 5 * 60_000) throw ApiError.validation([{ in: 'body', field, message: 'is in the future' }]);
  return value;
}

async function update<Arg>(deps: FaultRepairDependencies, caseNumber: string, definition: UpdateDefinition<FaultRepairState, [Arg]>, arg: Arg): Promise<FaultRepairDto> {
  return updateCase(deps.temporal, (withTimeline) => loadFaultRepair(deps.db, caseNumber, withTimeline), faultRepairWorkflowId(caseNumber), definition, arg);
}

/** The statuses in which a case can wait for each role (waitingForOf decides within them). */
const STATUSES_THAT_MAY_WAIT_FOR: Record<WaitingFor, readonly FaultRepairStatus[]> = {
  engineer: ['diagnosis', 'planning', 'dispatched', 'on_site', 'in_progress', 'reporting', 'follow_up'],
  manager: ['planning', 'awaiting_dispatch', 'escalated', 'reporting', 'follow_up'],
  service_desk: ['follow_up'],
  customer: ['planning', 'reporting'],
};

export function registerFaultRepairRoutes(routes: ApiRoutes, deps: FaultRepairDependencies & { logger?: Pick<Logger, 'warn'> }): void {
  const tag = 'Fault repair';
  const response = { schema: faultRepairSchema };
  const transitionErrors = [404, 409, 422];
  const when = isoInstantField();

  routes
    .add({
      method: 'post', path: '/fault-repairs', tag, summary: 'Register a fault; the customer is emailed the case number and the SLA targets, whose clocks start running', access: { roles: DESK },
      body: registrationSchema, response: { status: 201, schema: faultRepairSchema }, errors: [400],
      handler: async ({ body, actor }) => registerFaultRepair(deps, body, stamp(actor!, deps.clock)),
    })
    .add({
      method: 'get', path: '/fault-repairs', tag, summary: 'List fault repairs by status, customer, engineer, who they wait for, and breached SLA targets', access: { roles: ANY_USER },
      query: pageQuerySchema.extend({
        status: z.enum(FAULT_REPAIR_STATUSES).optional(),
        customerId: z.uuid().optional(),
        engineerId: z.uuid().optional().meta({ description: 'The engineer the work order is dispatched to' }),
        waitingFor: z.enum(WAITING_FOR).optional(),
        slaBreached: z.enum(['true', 'false']).optional().meta({ description: 'true: at least one SLA target missed; false: none missed' }),
      }),
      response: { schema: pageOf(faultRepairSchema) },
      handler: async ({ query }) => {
        let select = deps.db.selectFrom('fault_repairs').select('case_number');
        if (query.customerId) select = select.where('customer_id', '=', query.customerId);
        if (query.status) select = select.where('status', '=', query.status);
        if (query.engineerId) select = select.where('engineer_user_id', '=', query.engineerId);
        if (query.slaBreached) {
          const missed = sql<boolean>`coalesce(sla_targets, '[]'::jsonb) @> '[{"state":"missed"}]'::jsonb`;
          select = select.where(query.slaBreached === 'true' ? missed : sql<boolean>`not ${missed}`);
        }
        if (!query.waitingFor) {
          const [numbers, count] = await Promise.all([
            select.orderBy('case_number', 'desc').limit(query.limit).offset(query.offset).execute(),
            select.clearSelect().select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
          ]);
          const items = await Promise.all(numbers.map((row) => loadFaultRepair(deps.db, row.case_number, false)));
          return { items, total: Number(count.total), limit: query.limit, offset: query.offset };
        }
        // Who a case waits for depends on its documents' sign-off: narrowed by status in SQL, decided per case.
        const waitingFor = query.waitingFor;
        const numbers = await select.where('status', 'in', STATUSES_THAT_MAY_WAIT_FOR[waitingFor]).orderBy('case_number', 'desc').execute();
        const candidates = await Promise.all(numbers.map((row) => loadFaultRepair(deps.db, row.case_number, false)));
        const matching = candidates.filter((repair) => repair.waitingFor.includes(waitingFor));
        return { items: matching.slice(query.offset, query.offset + query.limit), total: matching.length, limit: query.limit, offset: query.offset };
      },
    })
    .add({
      method: 'get', path: '/fault-repairs/:caseNumber', tag, summary: 'One fault repair: status, SLA targets met or missed with their margins, plan and service report, engineer, timeline', access: { roles: ANY_USER },
      params: caseParams, response, errors: [404],
      handler: async ({ params }) => loadFaultRepair(deps.db, params.caseNumber),
    })
    .add({
      method: 'post', path: '/fault-repairs/:caseNumber/milestones', tag, summary: 'Record the first (phone) response or the temporary solution; marks its SLA target met or missed', access: { roles: RESPONDERS },
      params: caseParams,
      body: z.object({ milestone: z.enum(['first_response', 'temporary_solution']), occurredAt: when.optional(), note: optionalNote(2000) }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) =>
        update(deps, params.caseNumber, recordFaultRepairMilestoneUpdate, { ...stamp(actor!, deps.clock), milestone: body.milestone, occurredAt: notInFuture(deps.clock, 'occurredAt', body.occurredAt), note: body.note }),
    })
    .add({
      method: 'post', path: '/fault-repairs/:caseNumber/diagnosis', tag, summary: 'Record the remote diagnosis: solved remotely (restored; the service report follows) or a repair plan is needed (the plan document is created)', access: { roles: ENGINEER },
      params: caseParams,
      body: z.object({ outcome: z.enum(['solved_remotely', 'needs_plan']), findings: requiredText(4000), restoredAt: when.optional() }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) =>
        update(deps, params.caseNumber, diagnoseFaultRepairUpdate, {
          ...stamp(actor!, deps.clock),
          outcome: body.outcome,
          findings: body.findings,
          restoredAt: notInFuture(deps.clock, 'restoredAt', body.restoredAt),
          engineerUserId: actor!.id,
        }),
    })
    .add({
      method: 'post', path: '/fault-repairs/:caseNumber/dispatch', tag, summary: 'Dispatch the work order to an engineer with the appointment; the customer is emailed (technical manager)', access: { roles: MANAGER },
      params: caseParams, body: z.object({ engineerUserId: z.uuid(), appointmentAt: when }), response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        const engineer = await deps.db.selectFrom('users').select(['id', 'name']).where('id', '=', body.engineerUserId).where('role', 'in', ENGINEER).where('disabled_at', 'is', null).executeTakeFirst();
        if (!engineer) throw ApiError.validation([{ in: 'body', field: 'engineerUserId', message: 'is not an active engineer' }]);
        return update(deps, params.caseNumber, dispatchFaultRepairUpdate, { ...stamp(actor!, deps.clock), engineerUserId: engineer.id, engineerName: engineer.name, appointmentAt: body.appointmentAt });
      },
    })
    .add({
      method: 'post', path: '/fault-repairs/:caseNumber/appointment', tag, summary: "Book (or re-book) the engineer's visit before arrival; the customer is emailed again, and the calendar invitation updates the same entry", access: { roles: DESK },
      params: caseParams, body: z.object({ appointmentAt: when }), response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.caseNumber, bookFaultRepairAppointmentUpdate, { ...stamp(actor!, deps.clock), appointmentAt: body.appointmentAt }),
    })
    .add({
      method: 'post', path: '/fault-repairs/:caseNumber/plan/revise', tag,
      summary: 'On site, before work starts: reopen the signed plan; the case goes back to planning until a new version (submitted at POST /documents/{id}/versions) is approved and signed again',
      access: { roles: ENGINEER },
      params: caseParams, body: z.object({ reason: requiredText(2000).meta({ description: 'Why the plan changes' }) }), response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.caseNumber, reviseFaultRepairPlanUpdate, { ...stamp(actor!, deps.clock), reason: body.reason }),
    })
    .add({
      method: 'post', path: '/fault-repairs/:caseNumber/arrival', tag, summary: 'Record the arrival on site; marks the on-site target met or missed', access: { roles: ENGINEER },
      params: caseParams, body: z.object({ arrivedAt: when.optional() }), response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.caseNumber, arriveFaultRepairUpdate, { ...stamp(actor!, deps.clock), arrivedAt: notInFuture(deps.clock, 'arrivedAt', body.arrivedAt) }),
    })
    .add({
      method: 'post', path: '/fault-repairs/:caseNumber/work/start', tag, summary: 'Start work; a plan with high-risk operations starts only inside the maintenance window 00:00-05:00 Asia/Shanghai (409 naming the next one)', access: { roles: ENGINEER },
      params: caseParams, body: z.object({}), response, errors: transitionErrors,
      handler: async ({ params, actor }) => update(deps, params.caseNumber, startFaultRepairWorkUpdate, stamp(actor!, deps.clock)),
    })
    .add({
      method: 'post', path: '/fault-repairs/:caseNumber/work/finish', tag, summary: 'Finish work: fixed (restored; the service report follows) or not fixed (escalated)', access: { roles: ENGINEER },
      params: caseParams, body: z.object({ fixed: z.boolean(), result: requiredText(4000), restoredAt: when.optional() }), response, errors: transitionErrors,
      handler: async ({ params, body, actor }) =>
        update(deps, params.caseNumber, finishFaultRepairWorkUpdate, { ...stamp(actor!, deps.clock), fixed: body.fixed, result: body.result, restoredAt: notInFuture(deps.clock, 'restoredAt', body.restoredAt) }),
    })
    .add({
      method: 'post', path: '/fault-repairs/:caseNumber/fault-report', tag, summary: 'Submit the fault report (seven items), due 24 h after restoration; the customer is emailed it (409 once submitted)', access: { roles: ENGINEER },
      params: caseParams, body: faultReportSchema, response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        if (Date.parse(body.restoredAt) < Date.parse(body.reportedAt)) throw ApiError.validation([{ in: 'body', field: 'restoredAt', message: 'is before reportedAt' }]);
        for (const field of ['reportedAt', 'remoteSupportAt', 'onSiteAt', 'restoredAt'] as const) notInFuture(deps.clock, field, body[field] ?? undefined);
        return update(deps, params.caseNumber, submitFaultReportUpdate, { ...stamp(actor!, deps.clock), report: body });
      },
    })
    .add({
      method: 'post', path: '/fault-repairs/:caseNumber/follow-up-call', tag, summary: "Record the follow-up call's outcome (due 2 days after the service report was signed; 409 once recorded)", access: { roles: DESK },
      params: caseParams, body: z.object({ reached: z.boolean(), notes: optionalNote(4000) }), response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.caseNumber, recordFollowUpCallUpdate, { ...stamp(actor!, deps.clock), reached: body.reached, notes: body.notes }),
    })
    .add({
      method: 'post', path: '/fault-repairs/:caseNumber/write-up', tag, summary: "Submit the engineer's write-up (due a week after restoration) for the manager's review; again after it was sent back", access: { roles: ENGINEER },
      params: caseParams, body: z.object({ summary: requiredText(4000), lessons: requiredText(4000) }), response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.caseNumber, submitWriteUpUpdate, { ...stamp(actor!, deps.clock), summary: body.summary, lessons: body.lessons }),
    })
    .add({
      method: 'post', path: '/fault-repairs/:caseNumber/write-up/review', tag, summary: 'Approve the write-up, or send it back with a comment (technical manager); with the fault report in and the call recorded, approval archives the case', access: { roles: MANAGER },
      params: caseParams,
      body: z
        .object({ decision: z.enum(['approved', 'returned']), comment: optionalNote(4000) })
        .refine((b) => b.decision === 'approved' || (b.comment ?? '').trim() !== '', { message: 'sending the write-up back needs a comment', path: ['comment'] }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.caseNumber, reviewWriteUpUpdate, { ...stamp(actor!, deps.clock), decision: body.decision, comment: body.comment }),
    })
    .add({
      method: 'post', path: '/fault-repairs/:caseNumber/overrun-impact', tag,
      summary: "After high-risk work overran its maintenance window: record whether users were affected; if they were, an emergency incident starts, dated at the window's end and linked to the case (once)",
      access: { roles: [...ENGINEER, ...MANAGER] },
      params: caseParams, body: z.object({ usersAffected: z.boolean(), note: optionalNote(2000) }), response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(deps, params.caseNumber, reportFaultRepairOverrunImpactUpdate, { ...stamp(actor!, deps.clock), usersAffected: body.usersAffected, note: body.note }),
    })
    .add({
      method: 'get', path: '/devices/:id/history', tag, summary: "A device's history: the fault, repair and parts of each archived case (append-only)", access: { roles: ANY_USER },
      params: z.object({ id: z.uuid() }), response: { schema: deviceHistorySchema }, errors: [404],
      handler: async ({ params }) => loadDeviceHistory(deps.db, params.id),
    });
}
