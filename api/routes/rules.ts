import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { appendAuditEvent } from '../../activities/shared/audit';
import type { Db } from '../../db';
import { findCalendarYear, listCalendarYears, replaceCalendarYear, type CalendarProvider, type CalendarYearRecord } from '../../db/repositories/calendar';
import { CALENDAR_DEADLINE_KINDS, listOpenCalendarDeadlines, ruleOfDeadline } from '../../db/repositories/recorded-deadlines';
import type { UserRole } from '../../db/schema';
import { CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR, validateCalendarYear } from '../../workflows/rules/calendar';
import { PACKAGING_DEFECTS, assessDoa, claimWindow, replacementWarranty } from '../../workflows/rules/goods';
import { PRODUCT_FAMILIES, SECURITY_INCIDENT_KINDS, gradeIncident, nextEscalation } from '../../workflows/rules/grading';
import { SEVERITIES, SLA_CLASSES, dueAt, responseTargets } from '../../workflows/rules/sla';
import { dayNumber, isIsoDate, isIsoInstant, shanghaiDate, weekdayOfDayNumber } from '../../workflows/rules/time';
import { ApiError, type FieldProblem } from '../errors';
import type { ApiRoutes } from '../route';
import { INT4_MAX, decimalInteger, requiredText, textField } from '../shared/schemas';

const ADMIN: readonly UserRole[] = ['admin'];
const ANY_USER: readonly UserRole[] = [];

const yearInRange = (date: string) => {
  const year = Number(date.slice(0, 4));
  return year >= CALENDAR_FIRST_YEAR && year <= CALENDAR_LAST_YEAR;
};
const calendarDate = z
  .string()
  .superRefine((value, ctx) => {
    if (!isIsoDate(value)) ctx.addIssue({ code: 'custom', message: 'must be a date YYYY-MM-DD' });
    else if (!yearInRange(value)) ctx.addIssue({ code: 'custom', message: `must be a date in ${CALENDAR_FIRST_YEAR}-${CALENDAR_LAST_YEAR}` });
  })
  .meta({ format: 'date', example: '2026-09-24' });
/** In a query string an unencoded '+' arrives as a space: '2026-10-01T09:00:00 08:00' is read as '+08:00'. */
const instant = z
  .string()
  .transform((value) => value.replace(/ (\d{2}:\d{2})$/, '+$1'))
  .superRefine((value, ctx) => {
    if (!isIsoInstant(value)) ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 instant with an offset, e.g. 2026-10-22T09:30:00+08:00' });
    else if (!yearInRange(value.slice(0, 10))) ctx.addIssue({ code: 'custom', message: `must be in ${CALENDAR_FIRST_YEAR}-${CALENDAR_LAST_YEAR}` });
  })
  .meta({ format: 'date-time', example: '2026-09-30T15:00:00+08:00' });
const bilingual = z.object({ en: z.string(), zh: z.string() });

const workingDayDeadlineSchema = z
  .object({ due: z.string(), dueAt: z.string(), provisional: z.boolean(), missingYears: z.array(z.number().int()) })
  .meta({ id: 'WorkingDayDeadline' });
const workingDayCountSchema = z
  .object({ count: z.number().int(), provisional: z.boolean(), missingYears: z.array(z.number().int()) })
  .meta({ id: 'WorkingDayCount' });

const calendarDayKind = z.enum(['holiday', 'adjusted_working_day']);
const calendarYearSchema = z
  .object({
    year: z.number().int(),
    source: z.string(),
    version: z.string(),
    revision: z.number().int(),
    loadedAt: z.date().transform((value) => value.toISOString()).or(z.string()),
    loadedBy: z.string(),
    holidays: z.number().int(),
    adjustedWorkingDays: z.number().int(),
  })
  .meta({ id: 'CalendarYear' });
const calendarDaySchema = z.object({ date: z.string(), kind: calendarDayKind, name: z.string().nullable() });
const toCalendarYearDto = (record: CalendarYearRecord): z.input<typeof calendarYearSchema> => ({ ...record });

const yearParams = z.object({ year: decimalInteger(CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR) });

const calendarChangeSchema = z
  .object({
    date: z.string(),
    before: calendarDayKind.nullable().meta({ description: 'null: an ordinary day (Monday-Friday working, weekend not)' }),
    after: calendarDayKind.nullable(),
    nameBefore: z.string().nullable(),
    nameAfter: z.string().nullable(),
    workingBefore: z.boolean(),
    workingAfter: z.boolean(),
  })
  .meta({ id: 'CalendarDayChange' });
const calendarPreviewSchema = z
  .object({
    year: z.number().int(),
    provisional: z.boolean().meta({ description: 'The year has no published schedule yet: counts through it follow Monday-Friday and are provisional' }),
    changedDays: z.array(calendarChangeSchema),
    deadlinesNotMoved: z.array(
      z.object({
        caseNumber: z.string(),
        caseKind: z.string(),
        deadline: z.enum(CALENDAR_DEADLINE_KINDS),
        rule: bilingual,
        countedFrom: z.string(),
        dueAt: z.string(),
        changedDays: z.array(z.string()).meta({ description: 'The changed days (working <-> not) between the start of its count and its due date' }),
      }),
    ),
    note: bilingual,
  })
  .meta({ id: 'CalendarChangePreview' });

type DayEntry = { date: string; kind: 'holiday' | 'adjusted_working_day'; name?: string | undefined };
const workingWith = (date: string, kind: DayEntry['kind'] | undefined) => {
  if (kind === 'holiday') return false;
  if (kind === 'adjusted_working_day') return true;
  const weekday = weekdayOfDayNumber(dayNumber(date));
  return weekday !== 0 && weekday !== 6;
};

/** The days whose entry differs between two versions of one year (kind or name), in date order. */
function changedCalendarDays(before: readonly DayEntry[], after: readonly DayEntry[]): z.input<typeof calendarChangeSchema>[] {
  const was = new Map(before.map((day) => [day.date, day]));
  const will = new Map(after.map((day) => [day.date, day]));
  return [...new Set([...was.keys(), ...will.keys()])]
    .sort()
    .map((date) => ({ date, old: was.get(date), next: will.get(date) }))
    .filter(({ old, next }) => old?.kind !== next?.kind || (old?.name ?? null) !== (next?.name ?? null))
    .map(({ date, old, next }) => ({
      date,
      before: old?.kind ?? null,
      after: next?.kind ?? null,
      nameBefore: old?.name ?? null,
      nameAfter: next?.name ?? null,
      workingBefore: workingWith(date, old?.kind),
      workingAfter: workingWith(date, next?.kind),
    }));
}
const calendarYearBody = z.object({
  source: requiredText(500).meta({ description: 'Where the schedule comes from, e.g. the State Council notice and its URL' }),
  version: requiredText(100).meta({ description: 'Version or date of the source, e.g. 国办发明电〔2026〕1号' }),
  days: z
    .array(z.object({ date: z.iso.date({ message: 'must be a date YYYY-MM-DD' }), kind: calendarDayKind, name: textField({ max: 100 }).optional() }))
    .max(366),
});

const slaDeadlineSchema = z
  .object({
    slaClass: z.enum(SLA_CLASSES),
    start: z.string(),
    clockStartsAt: z.string(),
    dueAt: z.string(),
    provisional: z.boolean(),
    missingYears: z.array(z.number().int()),
    rule: bilingual,
  })
  .meta({ id: 'SlaDeadline' });
const namedDeadline = z.object({ dueAt: z.string().nullable(), rule: bilingual });
const responseTargetsSchema = z
  .object({
    severity: z.enum(SEVERITIES),
    start: z.string(),
    phoneResponse: namedDeadline,
    temporarySolution: namedDeadline,
    onSite: namedDeadline,
    faultReport: namedDeadline,
  })
  .meta({ id: 'ResponseTargets' });
const responseTargetsBody = z
  .object({
    severity: z.enum(SEVERITIES),
    start: instant,
    inServiceCity: z.boolean().default(false).meta({ description: 'The site is in the city of the service point (0.5 h on site)' }),
    distanceKm: z.number().min(0).max(20_000).optional().meta({ description: 'Distance from the service point; required unless inServiceCity' }),
    repairedAt: instant.optional(),
  })
  .refine((body) => body.inServiceCity || body.distanceKm !== undefined, { path: ['distanceKm'], message: 'is required unless inServiceCity is true' });

const level = z.union([z.literal(1), z.literal(2), z.literal(3)]);
const identifier = textField({ min: 1, max: 200, trim: false });
const symptom = textField({ min: 1, max: 2000, trim: false });
/** Hours of an outage: at most about a century. */
const outageHours = z.number().min(0).max(1_000_000);
const priorOccurrence = z.object({
  incidentId: identifier,
  customerId: identifier,
  siteId: identifier,
  productId: identifier,
  deviceId: identifier.optional(),
  symptom,
  occurredAt: instant,
  recoveredAt: instant.nullable().optional(),
  level,
});
const gradingBody = z
  .object({
    customerClass: z.enum(['A', 'B', 'C']),
    productFamily: z.enum(PRODUCT_FAMILIES),
    affectedUsers: z.number().int().min(0).max(INT4_MAX).optional(),
    serviceLostPercent: z.number().min(0).max(100).optional().meta({ description: '100 is a total outage' }),
    serverChassisOrMultipleDevices: z.boolean().optional(),
    unrecoverableDataLoss: z.enum(['critical_database_or_financial', 'important_files']).nullable().optional(),
    nmsOutage: z
      .object({
        allNmsDownHours: outageHours.optional(),
        elementMaintenanceDownPercent: z.number().min(0).max(100).optional(),
        elementMaintenanceDownHours: outageHours.optional(),
      })
      .nullable()
      .optional(),
    securityIncidents: z.array(z.enum(SECURITY_INCIDENT_KINDS)).optional(),
    fire: z.enum(['box', 'chassis']).nullable().optional(),
    customerStronglyDissatisfied: z.boolean().optional(),
    currentLevel: level.nullable().optional(),
    occurrence: z
      .object({
        customerId: identifier,
        siteId: identifier,
        productId: identifier,
        deviceId: identifier.optional(),
        symptom,
        occurredAt: instant,
      })
      .optional(),
    history: z.array(priorOccurrence).max(1000).optional(),
  })
  .meta({ id: 'IncidentGradingInput' });
const gradingResultSchema = z
  .object({
    isIncident: z.boolean(),
    level: level.nullable(),
    outcome: z.enum(['new', 'continuation', 'not_an_incident']),
    continuesIncidentId: z.string().nullable(),
    rules: z.array(z.object({ code: z.string(), level, en: z.string(), zh: z.string() })),
  })
  .meta({ id: 'IncidentGrade' });

const ladderLevel = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]);
const escalationBody = z.object({
  ladderLevel,
  levelEnteredAt: instant,
  arrivedOnSiteAt: instant.nullable().optional(),
  restored: z.boolean().optional(),
});
const ladderStep = z.object({ level: ladderLevel, who: bilingual, actions: z.array(z.string()) });
const escalationSchema = z
  .object({ current: ladderStep, next: ladderStep.nullable(), escalateAt: z.string().nullable(), provisional: z.boolean(), reason: bilingual })
  .meta({ id: 'EscalationDecision' });

const doaBody = z.object({
  firstPowerOnAt: instant,
  failedAt: instant,
  appliedByEndUser: z.boolean(),
  applicationFormProvided: z.boolean(),
  photosProvided: z.boolean(),
  isTestProductOrSample: z.boolean(),
  originalPackagingProvided: z.boolean(),
  packagingDefects: z.array(z.enum(PACKAGING_DEFECTS)).default([]),
  packingMaterialsComplete: z.boolean(),
  accessoriesCompleteAgainstPackingList: z.boolean(),
  physicalDamage: z.boolean(),
  sealsUnbroken: z.boolean(),
  labelsComplete: z.boolean(),
  originalHardwareAndPreinstalledSoftware: z.boolean(),
});
const doaSchema = z
  .object({
    eligible: z.boolean(),
    failedConditions: z.array(z.object({ code: z.string(), en: z.string(), zh: z.string() })),
    remedy: z.enum(['replace_with_new_unit', 'offer_rma_repair']),
    carrierClaimAdvised: z.boolean(),
    hoursFromPowerOnToFailure: z.number(),
  })
  .meta({ id: 'DoaDecision' });
const claimWindowSchema = z
  .object({
    kind: z.enum(['transport_damage', 'wrong_missing_extra']),
    arrivedOn: z.string(),
    lastDay: z.string(),
    deadlineAt: z.string(),
    dayOfClaim: z.number().int(),
    withinWindow: z.boolean(),
    requiredEvidence: z.array(z.string()),
    rule: bilingual,
  })
  .meta({ id: 'ClaimWindow' });
const warrantySchema = z
  .object({
    endsOn: z.string(),
    basis: z.enum(['ninety_days_from_shipping', 'rest_of_original_warranty']),
    ninetyDaysEndOn: z.string(),
    originalWarrantyEndsOn: z.string().nullable(),
    rule: bilingual,
  })
  .meta({ id: 'ReplacementWarranty' });

/** A RangeError from a rule (e.g. a count running past the calendar's last year) is the caller's input: a 400 naming it. */
function asFieldError<T>(location: FieldProblem['in'], field: string, compute: () => T): T {
  try {
    return compute();
  } catch (error) {
    if (error instanceof RangeError) throw ApiError.validation([{ in: location, field, message: error.message }]);
    throw error;
  }
}

export interface RulesRouteDependencies {
  db: Db;
  calendar: CalendarProvider;
}

/** The business calendar (data and arithmetic) and the read-only rule endpoints: SLA, incident grading, goods. */
export function registerRulesRoutes(routes: ApiRoutes, deps: RulesRouteDependencies): void {
  const calendarTag = 'Business calendar';
  const rulesTag = 'Rules';

  routes.add({
    method: 'put', path: '/admin/calendar/:year', tag: calendarTag, access: { roles: ADMIN },
    summary: 'Load or replace one year of the calendar (holidays and adjusted working days), in one transaction, audited',
    params: yearParams, body: calendarYearBody,
    response: { schema: calendarYearSchema },
    handler: async ({ params, body, actor }) => {
      const problems: FieldProblem[] = validateCalendarYear(params.year, body.days).map((problem) => ({
        in: problem.index === null ? 'path' : 'body',
        field: problem.index === null ? 'year' : `days.${problem.index}.date`,
        message: problem.message,
      }));
      if (problems.length > 0) throw ApiError.validation(problems);
      const at = new Date();
      const saved = await deps.db.transaction().execute(async (trx) => {
        const previous = await findCalendarYear(trx, params.year);
        const record = await replaceCalendarYear(trx, { year: params.year, days: body.days, source: body.source, version: body.version, loadedBy: actor!.name, at });
        await appendAuditEvent(trx, {
          caseId: null,
          occurredAt: at.toISOString(),
          actor: actor!.name,
          actorRole: actor!.role,
          action: 'calendar.year_replaced',
          comment: `${params.year}: ${body.source} (${body.version})`,
          data: {
            year: params.year,
            source: body.source,
            version: body.version,
            revision: record.revision,
            days: body.days,
            previous: previous ? { source: previous.record.source, version: previous.record.version, revision: previous.record.revision, days: previous.days } : null,
          },
          idempotencyKey: `calendar.year_replaced:${params.year}:${randomUUID()}`,
        });
        return record;
      });
      deps.calendar.invalidate();
      return toCalendarYearDto(saved);
    },
  });

  routes.add({
    method: 'post', path: '/admin/calendar/:year/preview', tag: calendarTag, access: { roles: ADMIN }, readOnly: true,
    summary: "What replacing a year's days would change, and the open deadlines recorded on cases that it would not move (deadlines are computed once and recorded); saves nothing",
    params: yearParams, body: calendarYearBody.pick({ days: true }),
    response: { schema: calendarPreviewSchema },
    handler: async ({ params, body }) => {
      const problems: FieldProblem[] = validateCalendarYear(params.year, body.days).map((problem) => ({
        in: problem.index === null ? 'path' : 'body',
        field: problem.index === null ? 'year' : `days.${problem.index}.date`,
        message: problem.message,
      }));
      if (problems.length > 0) throw ApiError.validation(problems);
      const [current, deadlines] = await Promise.all([findCalendarYear(deps.db, params.year), listOpenCalendarDeadlines(deps.db)]);
      const changedDays = changedCalendarDays(current?.days ?? [], body.days);
      const flipped = changedDays.filter((day) => day.workingBefore !== day.workingAfter).map((day) => day.date);
      const notMoved = deadlines.flatMap((deadline) => {
        const from = shanghaiDate(deadline.countedFrom.getTime());
        const due = shanghaiDate(deadline.dueAt.getTime());
        const within = flipped.filter((date) => date >= from && date <= due);
        if (within.length === 0) return [];
        return [{
          caseNumber: deadline.caseNumber,
          caseKind: deadline.caseKind,
          deadline: deadline.kind,
          rule: ruleOfDeadline(deadline.kind),
          countedFrom: deadline.countedFrom.toISOString(),
          dueAt: deadline.dueAt.toISOString(),
          changedDays: within,
        }];
      });
      return {
        year: params.year,
        provisional: current === undefined,
        changedDays,
        deadlinesNotMoved: notMoved,
        note: {
          en: 'Deadlines are computed once, when their clock starts, from the calendar then in force, and recorded on the case: this change does not move the deadlines listed, although changed days fall between their start and their due date. Deadlines started after the change use the new calendar.',
          zh: '期限在计时开始时按当时的日历计算一次并记录在案件上：此次修改不会移动下列期限，尽管修改的日期落在其开始与到期之间。修改之后开始计时的期限将使用新日历。',
        },
      };
    },
  });

  routes.add({
    method: 'get', path: '/calendar/years', tag: calendarTag, access: { roles: ANY_USER },
    summary: 'The published years the calendar holds, each with its source and version',
    response: { schema: z.object({ items: z.array(calendarYearSchema) }) },
    handler: async () => ({ items: (await listCalendarYears(deps.db)).map(toCalendarYearDto) }),
  });

  routes.add({
    method: 'get', path: '/calendar/years/:year', tag: calendarTag, access: { roles: ANY_USER }, errors: [404],
    summary: "One year's holidays and adjusted working days",
    params: yearParams,
    response: { schema: calendarYearSchema.extend({ days: z.array(calendarDaySchema) }) },
    handler: async ({ params }) => {
      const found = await findCalendarYear(deps.db, params.year);
      if (!found) throw ApiError.notFound('Calendar year', String(params.year));
      return { ...toCalendarYearDto(found.record), days: found.days.map((day) => ({ date: day.date, kind: day.kind, name: day.name ?? null })) };
    },
  });

  routes.add({
    method: 'get', path: '/calendar/working-days/add', tag: calendarTag, access: { roles: ANY_USER },
    summary: '"N working days after D": counting starts the day after D; due at 23:59:59 Asia/Shanghai of the N-th working day',
    query: z.object({ from: calendarDate, days: decimalInteger(0, 5000) }),
    response: { schema: workingDayDeadlineSchema },
    handler: async ({ query }) => {
      const calendar = await deps.calendar();
      return asFieldError('query', 'days', () => calendar.addWorkingDays(query.from, query.days));
    },
  });

  routes.add({
    method: 'get', path: '/calendar/working-days/count', tag: calendarTag, access: { roles: ANY_USER },
    summary: 'Working days d with from < d <= to (negative when to is before from)',
    query: z.object({ from: calendarDate, to: calendarDate }),
    response: { schema: workingDayCountSchema },
    handler: async ({ query }) => (await deps.calendar()).countWorkingDays(query.from, query.to),
  });

  routes.add({
    method: 'get', path: '/sla/due', tag: rulesTag, access: { roles: ANY_USER },
    summary: 'When an SLA class is due for a request registered at `start`',
    query: z.object({ start: instant, class: z.enum(SLA_CLASSES) }),
    response: { schema: slaDeadlineSchema },
    handler: async ({ query }) => {
      const calendar = await deps.calendar();
      // A start near the calendar's end can have its deadline past it (a request on 31 December 2099).
      return asFieldError('query', 'start', () => dueAt(calendar, query.start, query.class));
    },
  });

  routes.add({
    method: 'post', path: '/sla/response-targets', tag: rulesTag, access: { roles: ANY_USER }, readOnly: true,
    summary: 'Phone response, temporary solution, on-site and fault-report deadlines for a fault of a given severity',
    body: responseTargetsBody,
    response: { schema: responseTargetsSchema },
    handler: async ({ body }) => responseTargets(body.severity, body.inServiceCity ? 'city' : body.distanceKm!, body.start, body.repairedAt ?? null),
  });

  routes.add({
    method: 'post', path: '/incidents/grade', tag: rulesTag, access: { roles: ANY_USER }, readOnly: true,
    summary: 'Grade an incident (P2) and say which rules decided it; creates nothing',
    body: gradingBody,
    response: { schema: gradingResultSchema },
    handler: async ({ body }) => gradeIncident(body),
  });

  routes.add({
    method: 'post', path: '/incidents/next-escalation', tag: rulesTag, access: { roles: ANY_USER }, readOnly: true,
    summary: 'When an unrestored case moves up the escalation ladder, and who comes in next',
    body: escalationBody,
    response: { schema: escalationSchema },
    handler: async ({ body }) => {
      const calendar = await deps.calendar();
      return asFieldError('body', 'levelEnteredAt', () => nextEscalation(calendar, body));
    },
  });

  routes.add({
    method: 'post', path: '/goods/doa-assessment', tag: rulesTag, access: { roles: ANY_USER }, readOnly: true,
    summary: 'Whether a dead-on-arrival application is accepted, with every failed condition',
    body: doaBody,
    response: { schema: doaSchema },
    handler: async ({ body }) => assessDoa(body),
  });

  routes.add({
    method: 'get', path: '/goods/claim-window', tag: rulesTag, access: { roles: ANY_USER },
    summary: 'Whether a transport-damage (14 days) or wrong/missing/extra goods (30 days) claim is in time',
    query: z.object({ kind: z.enum(['transport_damage', 'wrong_missing_extra']), arrivedOn: calendarDate, claimedAt: instant }),
    response: { schema: claimWindowSchema },
    handler: async ({ query }) => claimWindow(query.kind, query.arrivedOn, query.claimedAt),
  });

  routes.add({
    method: 'get', path: '/warranty/replacement', tag: rulesTag, access: { roles: ANY_USER },
    summary: 'Warranty end of a replaced part: 90 days from shipping or the rest of the original warranty, whichever is longer',
    query: z.object({ shippedOn: calendarDate, originalWarrantyEndsOn: calendarDate.optional() }),
    response: { schema: warrantySchema },
    handler: async ({ query }) => replacementWarranty(query.shippedOn, query.originalWarrantyEndsOn ?? null),
  });
}
