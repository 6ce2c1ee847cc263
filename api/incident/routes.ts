import type { UpdateDefinition } from '@temporalio/common';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../../activities/shared/clock';
import { PRODUCT_LINES, type UserRole } from '../../db/schema';
import { FAULT_SEVERITIES } from '../../workflows/fault-repair/definitions';
import {
  CUSTOMER_STATED_CAUSES,
  EXPERT_SPECIALTIES,
  INCIDENT_DUTIES,
  INCIDENT_OPEN_STATUSES,
  INCIDENT_STATUSES,
  PLAN_IMPLEMENTERS,
  arriveIncidentUpdate,
  declareNotAnIncidentUpdate,
  gradeIncidentUpdate,
  incidentWorkflowId,
  lendIncidentStandbyUnitUpdate,
  recordIncidentImplementationUpdate,
  restoreIncidentUpdate,
  setIncidentExpertGroupUpdate,
  startIncidentRecoveryPlanUpdate,
  switchBackIncidentStandbyUnitUpdate,
  type IncidentState,
} from '../../workflows/incident/definitions';
import { SECURITY_INCIDENT_KINDS } from '../../workflows/rules/grading';
import { ApiError } from '../errors';
import { registerFaultRepair } from '../fault-repair/registration';
import { pageOf, pageQuerySchema, type ApiRoutes } from '../route';
import { actorStamp as stamp, updateCase } from '../shared/process-updates';
import { INT4_MAX, isoInstantField, optionalNote, requiredText } from '../shared/schemas';
import { incidentSchema, loadIncident, type IncidentDto } from './read-model';
import { noticeSchema, registerIncident, type IncidentDependencies } from './registration';

const MANAGER: readonly UserRole[] = ['manager'];
const REPORTERS: readonly UserRole[] = ['service_desk', 'manager', 'engineer', 'senior_engineer'];
const ENGINEERS: readonly UserRole[] = ['engineer', 'senior_engineer', 'manager'];
const ANY_USER: readonly UserRole[] = [];
/** Who may be in an expert group. */
const EXPERT_ROLES: readonly UserRole[] = ['engineer', 'senior_engineer', 'manager', 'rd_reviewer'];

const caseParams = z.object({ caseNumber: z.string().regex(/^INC-\d{4}-\d{6}$/, 'must look like INC-2026-000042') });
const percent = z.number().min(0).max(100);
const hours = z.number().min(0).max(100_000);

const impactSchema = z
  .object({
    affectedUsers: z.number().int().min(0).max(INT4_MAX).optional().meta({ description: 'Network products: users affected, when it can be estimated (table 1)' }),
    serviceLostPercent: percent.optional().meta({ description: "Share of the system's service lost, 100 = total outage (tables 2-4)" }),
    serverChassisOrMultipleDevices: z.boolean().optional().meta({ description: 'Servers: a whole chassis or two or more devices failed' }),
    unrecoverableDataLoss: z.enum(['critical_database_or_financial', 'important_files']).nullable().optional(),
    nmsOutage: z
      .object({ allNmsDownHours: hours.optional(), elementMaintenanceDownPercent: percent.optional(), elementMaintenanceDownHours: hours.optional() })
      .nullable()
      .optional()
      .meta({ description: 'Network-management outage (E1/E2, table 6)' }),
    securityIncidents: z.array(z.enum(SECURITY_INCIDENT_KINDS)).max(SECURITY_INCIDENT_KINDS.length).optional().meta({ description: 'Customer-data security incidents' }),
    fire: z.enum(['box', 'chassis']).nullable().optional().meta({ description: 'Open fire in a box or a chassis device' }),
    customerStronglyDissatisfied: z.boolean().optional(),
  })
  .meta({ id: 'IncidentImpact' });

const gradingSchema = z.discriminatedUnion('decision', [
  z.object({
    decision: z.literal('incident'),
    impact: impactSchema,
    customerStatedCause: z
      .object({ cause: z.enum(CUSTOMER_STATED_CAUSES), statement: requiredText(2000).meta({ description: "The customer's statement, recorded" }) })
      .nullable()
      .default(null)
      .meta({ description: 'A cause the customer states is theirs (power, air-conditioning, cable): the incident is reported from level 3' }),
  }),
  z.object({
    decision: z.literal('not_an_incident'),
    reason: requiredText(2000),
    faultRepair: z.object({ severity: z.enum(FAULT_SEVERITIES), actionsTaken: requiredText(4000), suspectedCause: requiredText(4000) }).meta({ description: 'The fault repair it goes on as' }),
  }),
]);

const when = isoInstantField();

export function registerIncidentRoutes(routes: ApiRoutes, deps: IncidentDependencies & { logger?: Pick<Logger, 'warn'> }): void {
  const tag = 'Emergency incidents';
  const response = { schema: incidentSchema };
  const transitionErrors = [404, 409, 422];

  const update = <Arg>(caseNumber: string, definition: UpdateDefinition<IncidentState, [Arg]>, arg: Arg): Promise<IncidentDto> =>
    updateCase(deps.temporal, (withTimeline) => loadIncident(deps.db, caseNumber, withTimeline), incidentWorkflowId(caseNumber), definition, arg);

  /** An instant the caller says something happened at: not in the future (5 min of clock skew allowed). */
  const notInFuture = (clock: Clock, field: string, value: string): string => {
    if (Date.parse(value) > clock.now().getTime() + 5 * 60_000) throw ApiError.validation([{ in: 'body', field, message: 'is in the future' }]);
    return value;
  };

  routes
    .add({
      method: 'post', path: '/incidents', tag,
      summary: "Emergency notice (desk or engineer): the customer's contact is told the case number, the managers are asked to grade it, and the escalation ladder starts; the same symptom within 24 h of a recovery is recorded on that incident (status continued), which reopens",
      access: { roles: REPORTERS },
      body: noticeSchema, response: { status: 201, schema: incidentSchema }, errors: [400],
      handler: async ({ body, actor }) => registerIncident(deps, body, stamp(actor!, deps.clock)),
    })
    .add({
      method: 'get', path: '/incidents', tag, summary: 'List incidents by level, status, customer; minLevel=N: graded at level N or more severe (level 1 is the most severe)', access: { roles: ANY_USER },
      query: pageQuerySchema.extend({
        status: z.enum([...INCIDENT_STATUSES, 'open']).optional().meta({ description: 'open: any status before closed, not_an_incident and continued' }),
        level: z.enum(['1', '2', '3']).optional(),
        minLevel: z.enum(['1', '2', '3']).optional().meta({ description: 'Graded at this level or a more severe one (1 is the most severe)' }),
        customerId: z.uuid().optional(),
      }),
      response: { schema: pageOf(incidentSchema) },
      handler: async ({ query }) => {
        let select = deps.db.selectFrom('incidents').select('case_number');
        if (query.status === 'open') select = select.where('status', 'in', [...INCIDENT_OPEN_STATUSES]);
        else if (query.status) select = select.where('status', '=', query.status);
        if (query.level) select = select.where('level', '=', Number(query.level));
        if (query.minLevel) select = select.where('level', '<=', Number(query.minLevel));
        if (query.customerId) select = select.where('customer_id', '=', query.customerId);
        const [numbers, count] = await Promise.all([
          select.orderBy('case_number', 'desc').limit(query.limit).offset(query.offset).execute(),
          select.clearSelect().select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
        ]);
        const items = await Promise.all(numbers.map((row) => loadIncident(deps.db, row.case_number, false)));
        return { items, total: Number(count.total), limit: query.limit, offset: query.offset };
      },
    })
    .add({
      method: 'get', path: '/incidents/:caseNumber', tag,
      summary: 'One incident: level and the grading rules that matched, ladder position with its times, expert group, plans with their decisions, standby unit, linked cases, close-out, timeline',
      access: { roles: ANY_USER },
      params: caseParams, response, errors: [404],
      handler: async ({ params }) => loadIncident(deps.db, params.caseNumber),
    })
    .add({
      method: 'post', path: '/incidents/:caseNumber/grading', tag,
      summary:
        "Grade the incident (technical manager): the level from the customer's class, the impact and the customer's history (repeat within 3 months +1; same symptom within 24 h of a recovery continues that incident; a third occurrence a level higher); never lowered (422 naming the rule). Or decide it is not an incident: it goes on as a fault repair, linked both ways",
      access: { roles: MANAGER },
      params: caseParams, body: gradingSchema, response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        const by = stamp(actor!, deps.clock);
        if (body.decision === 'incident') return update(params.caseNumber, gradeIncidentUpdate, { ...by, impact: body.impact, customerStatedCause: body.customerStatedCause });
        const incident = await loadIncident(deps.db, params.caseNumber, false);
        if (incident.status !== 'registered') {
          throw ApiError.conflict('invalid_transition', `cannot decide it is not an incident: incident ${params.caseNumber} is ${incident.status.replace(/_/g, ' ')}${incident.level ? ` at level ${incident.level}` : ''}`, { status: incident.status });
        }
        if (!incident.device) throw ApiError.validation([{ in: 'body', field: 'decision', message: 'the incident names no device: a fault repair needs one' }]);
        const faultRepair = await registerFaultRepair(
          deps,
          {
            customerId: incident.customerId,
            contactId: incident.contactId,
            deviceSerial: incident.device.serial,
            siteId: incident.siteId,
            symptoms: incident.symptom,
            actionsTaken: body.faultRepair.actionsTaken,
            suspectedCause: body.faultRepair.suspectedCause,
            severity: body.faultRepair.severity,
            reportedAt: incident.reportedAt,
          },
          by,
        );
        return update(params.caseNumber, declareNotAnIncidentUpdate, { ...by, reason: body.reason, faultRepairCaseId: faultRepair.caseId, faultRepairCaseNumber: faultRepair.caseNumber });
      },
    })
    .add({
      method: 'put', path: '/incidents/:caseNumber/expert-group', tag,
      summary: 'Form or change the expert group (technical manager): members with their specialty (host, network, database, application), exactly one coordinator who faces the customer; each added member is emailed, every change recorded',
      access: { roles: MANAGER },
      params: caseParams,
      body: z.object({
        members: z
          .array(z.object({ userId: z.uuid(), specialty: z.enum(EXPERT_SPECIALTIES), coordinator: z.boolean().default(false) }))
          .min(1)
          .max(30)
          .refine((members) => members.filter((member) => member.coordinator).length === 1, { message: 'exactly one member is the coordinator' })
          .refine((members) => new Set(members.map((member) => member.userId)).size === members.length, { message: 'a user is listed twice' }),
      }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => {
        const users = await deps.db.selectFrom('users').select(['id', 'role']).where('id', 'in', body.members.map((member) => member.userId)).where('disabled_at', 'is', null).execute();
        body.members.forEach((member, index) => {
          const user = users.find((candidate) => candidate.id === member.userId);
          if (!user || !EXPERT_ROLES.includes(user.role)) throw ApiError.validation([{ in: 'body', field: `members.${index}.userId`, message: 'is not an active engineer, senior engineer, manager or R&D reviewer' }]);
        });
        return update(params.caseNumber, setIncidentExpertGroupUpdate, { ...stamp(actor!, deps.clock), members: body.members });
      },
    })
    .add({
      method: 'post', path: '/incidents/:caseNumber/recovery-plans', tag,
      summary:
        "Start a recovery plan (technical manager): its versions go through the sign-off (POST /documents/{id}/versions): manager approval, the test when required (a failure sends it back to the group), then the customer's confirmation",
      access: { roles: MANAGER },
      params: caseParams,
      body: z.object({ title: requiredText(200), testRequired: z.boolean().meta({ description: 'The plan is tested before the customer confirms it' }) }),
      response: { status: 201, schema: incidentSchema }, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(params.caseNumber, startIncidentRecoveryPlanUpdate, { ...stamp(actor!, deps.clock), title: body.title, testRequired: body.testRequired }),
    })
    .add({
      method: 'post', path: '/incidents/:caseNumber/recovery-plans/:documentId/implementation', tag,
      summary: 'Record a signed recovery plan implemented, by our team or by the customer; not restored: the plan reopens for a new version through the whole sign-off',
      access: { roles: ENGINEERS },
      params: caseParams.extend({ documentId: z.uuid() }),
      body: z.object({ implementedBy: z.enum(PLAN_IMPLEMENTERS), implementedAt: when, restored: z.boolean(), note: optionalNote(4000) }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) =>
        update(params.caseNumber, recordIncidentImplementationUpdate, {
          ...stamp(actor!, deps.clock),
          documentId: params.documentId,
          implementedBy: body.implementedBy,
          implementedAt: notInFuture(deps.clock, 'implementedAt', body.implementedAt),
          restored: body.restored,
          note: body.note,
        }),
    })
    .add({
      method: 'post', path: '/incidents/:caseNumber/arrival', tag, summary: "Record the senior engineer's arrival on site: the ladder's 4 h clock to level 3 starts", access: { roles: ENGINEERS },
      params: caseParams, body: z.object({ arrivedAt: when }), response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(params.caseNumber, arriveIncidentUpdate, { ...stamp(actor!, deps.clock), arrivedAt: notInFuture(deps.clock, 'arrivedAt', body.arrivedAt) }),
    })
    .add({
      method: 'post', path: '/incidents/:caseNumber/standby-unit', tag, summary: 'Record the standby unit of the same class installed in place of the failed one; after restoration it is chased each working day until switched back', access: { roles: ENGINEERS },
      params: caseParams, body: z.object({ serial: requiredText(64), installedAt: when, note: optionalNote(2000) }), response, errors: transitionErrors,
      handler: async ({ params, body, actor }) => update(params.caseNumber, lendIncidentStandbyUnitUpdate, { ...stamp(actor!, deps.clock), serial: body.serial, installedAt: notInFuture(deps.clock, 'installedAt', body.installedAt), note: body.note }),
    })
    .add({
      method: 'post', path: '/incidents/:caseNumber/standby-unit/switch-back', tag, summary: 'Record the standby unit switched back after the fix', access: { roles: ENGINEERS },
      params: caseParams, body: z.object({ switchedBackAt: when, note: optionalNote(2000) }), response, errors: transitionErrors,
      handler: async ({ params, body, actor }) =>
        update(params.caseNumber, switchBackIncidentStandbyUnitUpdate, { ...stamp(actor!, deps.clock), switchedBackAt: notInFuture(deps.clock, 'switchedBackAt', body.switchedBackAt), note: body.note }),
    })
    .add({
      method: 'post', path: '/incidents/:caseNumber/restoration', tag,
      summary: 'Record the restoration (interrupted at, restored at): the ladder stops, the close-out starts, and for 24 h the same symptom reopens the incident',
      access: { roles: ENGINEERS },
      params: caseParams, body: z.object({ interruptedAt: when, restoredAt: when }).refine((b) => Date.parse(b.restoredAt) >= Date.parse(b.interruptedAt), { message: 'is before interruptedAt', path: ['restoredAt'] }),
      response, errors: transitionErrors,
      handler: async ({ params, body, actor }) =>
        update(params.caseNumber, restoreIncidentUpdate, {
          ...stamp(actor!, deps.clock),
          interruptedAt: notInFuture(deps.clock, 'interruptedAt', body.interruptedAt),
          restoredAt: notInFuture(deps.clock, 'restoredAt', body.restoredAt),
        }),
    });

  registerIncidentMasterDataRoutes(routes, deps);
}

const contingencyPlanSchema = z
  .object({ id: z.uuid(), customerId: z.uuid(), siteId: z.uuid().nullable(), productId: z.uuid().nullable(), title: z.string(), steps: z.array(z.string()), ownerUserId: z.uuid(), createdBy: z.string(), createdAt: z.string() })
  .meta({ id: 'ContingencyPlan' });
const vendorContactSchema = z.object({ id: z.uuid(), productLine: z.enum(PRODUCT_LINES), name: z.string(), email: z.string(), createdAt: z.string() }).meta({ id: 'VendorContact' });
const dutySchema = z.object({ duty: z.enum(INCIDENT_DUTIES), userId: z.uuid(), name: z.string(), assignedBy: z.string(), assignedAt: z.string() }).meta({ id: 'IncidentDuty' });

/** What the incident needs as master data: contingency plans, vendor contacts per product line, the chief engineer and the technical director. */
function registerIncidentMasterDataRoutes(routes: ApiRoutes, deps: IncidentDependencies): void {
  const tag = 'Emergency incidents: master data';
  const STEWARDS: readonly UserRole[] = ['manager', 'admin'];
  const activeUser = async (userId: string, field: string) => {
    const user = await deps.db.selectFrom('users').select(['id', 'name']).where('id', '=', userId).where('disabled_at', 'is', null).executeTakeFirst();
    if (!user) throw ApiError.validation([{ in: 'body', field, message: 'is not an active user' }]);
    return user;
  };
  const toPlan = (row: { id: string; customer_id: string; site_id: string | null; product_id: string | null; title: string; steps: unknown; owner_user_id: string; created_by: string; created_at: Date }) => ({
    id: row.id,
    customerId: row.customer_id,
    siteId: row.site_id,
    productId: row.product_id,
    title: row.title,
    steps: row.steps as string[],
    ownerUserId: row.owner_user_id,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
  });

  routes
    .add({
      method: 'post', path: '/contingency-plans', tag,
      summary: "A customer's contingency plan, optionally for one site and one product: started, and emailed to everyone involved, when an incident of theirs matching it is graded",
      access: { roles: STEWARDS },
      body: z.object({
        customerId: z.uuid(),
        siteId: z.uuid().nullable().default(null),
        productId: z.uuid().nullable().default(null),
        title: requiredText(200),
        steps: z.array(requiredText(2000)).min(1).max(100),
        ownerUserId: z.uuid(),
      }),
      response: { status: 201, schema: contingencyPlanSchema }, errors: [400],
      handler: async ({ body, actor }) => {
        const customer = await deps.db.selectFrom('customers').select('id').where('id', '=', body.customerId).executeTakeFirst();
        if (!customer) throw ApiError.validation([{ in: 'body', field: 'customerId', message: `no customer with id ${body.customerId}` }]);
        if (body.siteId && !(await deps.db.selectFrom('sites').select('id').where('id', '=', body.siteId).where('customer_id', '=', body.customerId).executeTakeFirst())) {
          throw ApiError.validation([{ in: 'body', field: 'siteId', message: 'no such site for this customer' }]);
        }
        if (body.productId && !(await deps.db.selectFrom('products').select('id').where('id', '=', body.productId).executeTakeFirst())) {
          throw ApiError.validation([{ in: 'body', field: 'productId', message: `no product with id ${body.productId}` }]);
        }
        await activeUser(body.ownerUserId, 'ownerUserId');
        const row = await deps.db
          .insertInto('contingency_plans')
          .values({ customer_id: body.customerId, site_id: body.siteId, product_id: body.productId, title: body.title, steps: JSON.stringify(body.steps), owner_user_id: body.ownerUserId, created_by: actor!.name, created_at: deps.clock.now() })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toPlan(row);
      },
    })
    .add({
      method: 'get', path: '/contingency-plans', tag, summary: "Contingency plans, a customer's when customerId is given", access: { roles: ANY_USER },
      query: pageQuerySchema.extend({ customerId: z.uuid().optional() }),
      response: { schema: pageOf(contingencyPlanSchema) },
      handler: async ({ query }) => {
        let select = deps.db.selectFrom('contingency_plans').selectAll();
        if (query.customerId) select = select.where('customer_id', '=', query.customerId);
        const [rows, count] = await Promise.all([
          select.orderBy('created_at').orderBy('id').limit(query.limit).offset(query.offset).execute(),
          select.clearSelect().select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
        ]);
        return { items: rows.map(toPlan), total: Number(count.total), limit: query.limit, offset: query.offset };
      },
    })
    .add({
      method: 'post', path: '/vendor-contacts', tag, summary: "A vendor's contact for a product line: emailed the case summary when an incident of that line reaches ladder level 4", access: { roles: STEWARDS },
      body: z.object({ productLine: z.enum(PRODUCT_LINES), name: requiredText(200), email: z.email().max(320) }),
      response: { status: 201, schema: vendorContactSchema }, errors: [400, 409],
      handler: async ({ body, actor }) => {
        const row = await deps.db
          .insertInto('vendor_contacts')
          .values({ product_line: body.productLine, name: body.name, email: body.email, created_by: actor!.name, created_at: deps.clock.now() })
          .returningAll()
          .executeTakeFirstOrThrow();
        return { id: row.id, productLine: row.product_line, name: row.name, email: row.email, createdAt: row.created_at.toISOString() };
      },
    })
    .add({
      method: 'get', path: '/vendor-contacts', tag, summary: 'Vendor contacts, of one product line when given', access: { roles: ANY_USER },
      query: pageQuerySchema.extend({ productLine: z.enum(PRODUCT_LINES).optional() }),
      response: { schema: pageOf(vendorContactSchema) },
      handler: async ({ query }) => {
        let select = deps.db.selectFrom('vendor_contacts').selectAll();
        if (query.productLine) select = select.where('product_line', '=', query.productLine);
        const [rows, count] = await Promise.all([
          select.orderBy('product_line').orderBy('email').limit(query.limit).offset(query.offset).execute(),
          select.clearSelect().select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
        ]);
        return { items: rows.map((row) => ({ id: row.id, productLine: row.product_line, name: row.name, email: row.email, createdAt: row.created_at.toISOString() })), total: Number(count.total), limit: query.limit, offset: query.offset };
      },
    })
    .add({
      method: 'put', path: '/incident-duties/:duty', tag, summary: 'Who holds an incident duty: the chief engineer (informed at ladder level 3) or the technical director (level 4, chased for the standby switch-back)', access: { roles: STEWARDS },
      params: z.object({ duty: z.enum(INCIDENT_DUTIES) }), body: z.object({ userId: z.uuid() }),
      response: { schema: dutySchema }, errors: [400],
      handler: async ({ params, body, actor }) => {
        const user = await activeUser(body.userId, 'userId');
        const at = deps.clock.now();
        await deps.db
          .insertInto('incident_duties')
          .values({ duty: params.duty, user_id: user.id, assigned_by: actor!.name, assigned_at: at })
          .onConflict((oc) => oc.column('duty').doUpdateSet({ user_id: user.id, assigned_by: actor!.name, assigned_at: at }))
          .execute();
        return { duty: params.duty, userId: user.id, name: user.name, assignedBy: actor!.name, assignedAt: at.toISOString() };
      },
    })
    .add({
      method: 'get', path: '/incident-duties', tag, summary: 'The incident duties and who holds them', access: { roles: ANY_USER },
      response: { schema: z.object({ items: z.array(dutySchema) }) },
      handler: async () => {
        const rows = await deps.db.selectFrom('incident_duties as d').innerJoin('users as u', 'u.id', 'd.user_id').select(['d.duty', 'd.user_id', 'u.name', 'd.assigned_by', 'd.assigned_at']).orderBy('d.duty').execute();
        return { items: rows.map((row) => ({ duty: row.duty, userId: row.user_id, name: row.name, assignedBy: row.assigned_by, assignedAt: row.assigned_at.toISOString() })) };
      },
    });
}
