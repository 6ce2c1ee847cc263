import { ApplicationFailure } from '@temporalio/common';
import { sql, type Updateable } from 'kysely';
import type { Logger } from 'pino';
import type { Db, DbExecutor } from '../../db';
import { loadBusinessCalendar } from '../../db/repositories/calendar';
import { caseStatusUpdate } from '../../db/repositories/cases';
import { documentReopeningInsert, insertDocument } from '../../db/repositories/documents';
import { loadIncidentHistory, priorOccurrenceKeys } from '../../db/repositories/incidents';
import type { Database, Locale } from '../../db/schema';
import {
  INCIDENT_FINAL_STATUSES,
  STANDBY_CHASE_HOUR,
  type CustomerStatedCause,
  type ExpertGroupMemberInput,
  type GradingOutcome,
  type IncidentImpact,
  type IncidentStatus,
  type PlanImplementer,
  type RecurrenceNotice,
} from '../../workflows/incident/definitions';
import { ESCALATION_LADDER, gradeIncident, nextEscalation, type GradingRule, type IncidentLevel, type LadderLevel } from '../../workflows/rules/grading';
import { HOUR_MS, shanghaiDayNumber, shanghaiInstantMs } from '../../workflows/rules/time';
import { BUSINESS_RULE_VIOLATION, type ActorStamp } from '../../workflows/shared/definitions';
import type { SignOffStep } from '../../workflows/sign-off/definitions';
import { auditEventInsert } from '../shared/audit';
import { createCaseStepRunner, stepAuditInsert, type StepAudit, type StepEmail, type StepWrite } from '../shared/case-step';
import { chinaTime } from '../fault-repair/email-templates';
import type { IncidentEvent } from './email-templates';

export interface IncidentActivityDependencies {
  db: Db;
  emailsQueued?: () => void;
  logger: Pick<Logger, 'info'>;
}

async function incidentRow(executor: DbExecutor, caseId: string) {
  const row = await executor
    .selectFrom('incidents as i')
    .innerJoin('customers as c', 'c.id', 'i.customer_id')
    .innerJoin('contacts as k', 'k.id', 'i.contact_id')
    .leftJoin('devices as d', 'd.id', 'i.device_id')
    .leftJoin('products as p', 'p.id', 'i.product_id')
    .leftJoin('incidents as ci', 'ci.case_id', 'i.continues_case_id')
    .selectAll('i')
    .select([
      'c.name as customer_name',
      'c.customer_class',
      'k.email as contact_email',
      'k.locale as contact_locale',
      'k.name as contact_name',
      'd.serial as device_serial',
      'p.name as product_name',
      'p.product_line',
      'ci.case_number as continues_case_number',
    ])
    .where('i.case_id', '=', caseId)
    .executeTakeFirst();
  // Retryable: a case is committed before its workflow starts, but be patient with a lagging replica.
  if (!row) throw ApplicationFailure.retryable(`no incident for case ${caseId} (yet)`, 'IncidentNotFound');
  return row;
}
type IncidentRow = Awaited<ReturnType<typeof incidentRow>>;

interface Recipient {
  id: string;
  email: string;
  name: string;
}

async function usersWithRole(trx: DbExecutor, roles: ('manager' | 'senior_engineer')[]): Promise<Recipient[]> {
  return trx.selectFrom('users').select(['id', 'email', 'name']).where('role', 'in', roles).where('disabled_at', 'is', null).orderBy('email').execute();
}

async function dutyHolder(trx: DbExecutor, duty: 'chief_engineer' | 'technical_director'): Promise<Recipient[]> {
  return trx
    .selectFrom('incident_duties as d')
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .select(['u.id', 'u.email', 'u.name'])
    .where('d.duty', '=', duty)
    .where('u.disabled_at', 'is', null)
    .execute();
}

async function expertGroup(trx: DbExecutor, caseId: string) {
  return trx
    .selectFrom('incident_expert_group_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.user_id', 'm.specialty', 'm.coordinator', 'u.email', 'u.name'])
    .where('m.case_id', '=', caseId)
    .where('m.removed_at', 'is', null)
    .orderBy('u.email')
    .execute();
}

/** Each person once, in order. */
function distinct(recipients: Recipient[]): Recipient[] {
  const seen = new Set<string>();
  return recipients.filter((recipient) => !seen.has(recipient.email) && seen.add(recipient.email));
}

const STAFF_LOCALE: Locale = 'zh-CN';

function refuse(message: string, details: Record<string, unknown> = {}): never {
  throw ApplicationFailure.create({ type: BUSINESS_RULE_VIOLATION, message, nonRetryable: true, details: [details] });
}

/** The first working day's STANDBY_CHASE_HOUR (China time) strictly after `afterMs`. */
export function nextWorkingMorning(calendar: { firstWorkingDayFrom(dayNum: number): number }, afterMs: number): number {
  let day = shanghaiDayNumber(afterMs);
  if (shanghaiInstantMs(day, STANDBY_CHASE_HOUR * HOUR_MS) <= afterMs) day += 1;
  return shanghaiInstantMs(calendar.firstWorkingDayFrom(day), STANDBY_CHASE_HOUR * HOUR_MS);
}

export function createIncidentActivities({ db, emailsQueued, logger }: IncidentActivityDependencies) {
  const caseStep = createCaseStepRunner(
    { db, logger, emailsQueued },
    {
      process: 'incident',
      load: (trx, caseId) => incidentRow(trx, caseId),
      caseId: (row) => row.case_id,
      caseNumber: (row) => row.case_number,
      contact: (row) => ({ email: row.contact_email, locale: row.contact_locale }),
    },
  );

  const audit = (trx: DbExecutor, row: IncidentRow, key: string, entry: StepAudit) => stepAuditInsert(trx, { caseId: row.case_id, caseNumber: row.case_number }, key, entry);

  const statusWrites = (trx: DbExecutor, row: IncidentRow, status: IncidentStatus, at: Date, changes: Updateable<Database['incidents']> = {}): StepWrite[] => [
    trx
      .updateTable('incidents')
      .set({ ...changes, status, updated_at: at, ...(INCIDENT_FINAL_STATUSES.includes(status) ? { closed_at: at } : {}) })
      .where('case_id', '=', row.case_id),
    caseStatusUpdate(trx, row.case_id, status, at, INCIDENT_FINAL_STATUSES.includes(status)),
  ];

  const statusParams = (row: IncidentRow, event: IncidentEvent, detail: string, overrides: { level?: number | null; ladderLevel?: LadderLevel } = {}) => ({
    caseNumber: row.case_number,
    customerName: row.customer_name,
    event,
    level: overrides.level !== undefined ? overrides.level : row.level,
    ladderLevel: overrides.ladderLevel ?? (row.ladder_level as LadderLevel),
    symptom: row.symptom,
    detail,
  });
  /** The customer's contact is told the status. */
  const customerStatus = (row: IncidentRow, key: string, event: IncidentEvent, detail: string, overrides: { level?: number | null; ladderLevel?: LadderLevel } = {}): StepEmail => ({
    key: `${key}/customer`,
    content: { template: 'incident_customer_status', params: statusParams(row, event, detail, overrides) },
  });
  /** Staff are told, each once. */
  const staffNotice = (row: IncidentRow, key: string, recipients: Recipient[], event: IncidentEvent, detail: string, overrides: { level?: number | null; ladderLevel?: LadderLevel } = {}): StepEmail[] =>
    distinct(recipients).map((user) => ({
      key: `${key}/${user.id}`,
      content: { template: 'incident_staff_notice', params: statusParams(row, event, detail, overrides) },
      to: { email: user.email, locale: STAFF_LOCALE },
    }));

  /** The ladder so far, for the vendor's summary. */
  const ladderSummary = (row: IncidentRow, ladder: unknown[]): string => {
    const history = ladder as { level: number; enteredAt: string }[];
    return [
      `reported ${chinaTime(row.reported_at.toISOString())}`,
      ...history.map((entry) => `ladder level ${entry.level} (${ESCALATION_LADDER[entry.level as LadderLevel].who.en}) from ${chinaTime(entry.enteredAt)}`),
      row.arrived_on_site_at ? `senior engineer on site since ${chinaTime(row.arrived_on_site_at.toISOString())}` : null,
    ]
      .filter((line): line is string => line !== null)
      .join('\n');
  };

  return {
    /**
     * The notice's first step: a continuation (recorded at registration) is reported back with the
     * incident it continues; otherwise the customer's contact is told the case number and the managers
     * are asked to grade it, and the ladder's first level is recorded.
     */
    async openIncident(input: { caseId: string; at: string }): Promise<{ status: IncidentStatus; continuesCaseNumber: string | null; ladderEnteredAt: string; occurredAt: string }> {
      return caseStep(input.caseId, { step: 'opened', actorRole: 'system', key: 'opened' }, async (row, trx) => {
        const result = { status: row.status as IncidentStatus, continuesCaseNumber: row.continues_case_number, ladderEnteredAt: row.ladder_entered_at.toISOString(), occurredAt: row.started_at.toISOString() };
        if (row.status === 'continued') {
          // Recorded on the incident it continues: this case is done (closed) from the start.
          return {
            writes: [
              ...statusWrites(trx, row, 'continued', row.reported_at),
              audit(trx, row, 'opened', { at: input.at, actor: 'system', role: 'system', action: 'incident.continues', data: { continuesCaseNumber: row.continues_case_number } }),
            ],
            result,
          };
        }
        const managers = await usersWithRole(trx, ['manager']);
        const origin = row.origin_case_id ? await trx.selectFrom('cases').select('number').where('id', '=', row.origin_case_id).executeTakeFirst() : undefined;
        const detail = origin ? `From ${origin.number} (${row.origin.replace(/_/g, ' ')}).` : '';
        const history = [{ level: 1, enteredAt: result.ladderEnteredAt, reason: 'registered' }];
        return {
          writes: [
            trx
              .updateTable('incidents')
              .set({ ladder_history: JSON.stringify(history) as never })
              .where('case_id', '=', row.case_id)
              .where(sql<boolean>`jsonb_array_length(ladder_history) = 0`),
          ],
          emails: [customerStatus(row, 'registered', 'registered', ''), ...staffNotice(row, 'registered', managers, 'registered', `${detail} Please grade it.`.trim())],
          result,
        };
      });
    },

    /** When the ladder moves up if still not restored (nextEscalation from the calendar in force), recorded on the case. */
    async scheduleIncidentEscalation(input: { caseId: string; ladderLevel: LadderLevel; enteredAt: string; arrivedOnSiteAt: string | null }): Promise<{ escalateAt: string | null; provisional: boolean; reason: string }> {
      const calendar = await loadBusinessCalendar(db);
      const decision = nextEscalation(calendar, { ladderLevel: input.ladderLevel, levelEnteredAt: input.enteredAt, arrivedOnSiteAt: input.arrivedOnSiteAt });
      const escalateAt = decision.escalateAt ? new Date(Date.parse(decision.escalateAt)).toISOString() : null;
      await db
        .updateTable('incidents')
        .set({ next_escalation_at: escalateAt ? new Date(escalateAt) : null })
        .where('case_id', '=', input.caseId)
        .execute();
      return { escalateAt, provisional: decision.provisional, reason: decision.reason.en };
    },

    /**
     * One step up the ladder: recorded with its reason; the people of the new level and the managers are
     * told, and the customer's contact gets the status. Level 3 informs the chief engineer and the expert
     * group; level 4 the technical director and, with the case summary, the vendor contacts of the
     * product's line (a standby unit of the same class is to be lent).
     */
    async escalateIncident(input: { caseId: string; to: LadderLevel; at: string; reason: string }): Promise<void> {
      const key = `escalated/${input.to}`;
      await caseStep(input.caseId, { step: `escalated to ladder level ${input.to}`, actorRole: 'system', key }, async (row, trx) => {
        const history: unknown[] = [...((Array.isArray(row.ladder_history) ? row.ladder_history : []) as unknown[]), { level: input.to, enteredAt: input.at, reason: input.reason }];
        const managers = await usersWithRole(trx, ['manager']);
        const group = (await expertGroup(trx, row.case_id)).map((member) => ({ id: member.user_id, email: member.email, name: member.name }));
        let levelPeople: Recipient[] = [];
        const emails: StepEmail[] = [];
        if (input.to === 2) levelPeople = await usersWithRole(trx, ['senior_engineer']);
        if (input.to === 3) levelPeople = [...group, ...(await dutyHolder(trx, 'chief_engineer'))];
        if (input.to === 4) {
          levelPeople = [...(await dutyHolder(trx, 'technical_director')), ...group];
          const vendors = row.product_line
            ? await trx.selectFrom('vendor_contacts').select(['id', 'name', 'email']).where('product_line', '=', row.product_line).orderBy('email').execute()
            : [];
          const summary = ladderSummary(row, history);
          for (const vendor of vendors) {
            emails.push({
              key: `${key}/vendor/${vendor.id}`,
              content: {
                template: 'incident_vendor_escalation',
                params: {
                  caseNumber: row.case_number,
                  vendorName: vendor.name,
                  customerName: row.customer_name,
                  productName: row.product_name ?? '',
                  deviceSerial: row.device_serial ?? '',
                  level: row.level,
                  symptom: row.symptom,
                  startedAt: row.started_at.toISOString(),
                  summary,
                },
              },
              to: { email: vendor.email, locale: 'en' },
            });
          }
        }
        const detail = `${input.reason}. Now: ${ESCALATION_LADDER[input.to].who.en}.`;
        emails.push(...staffNotice(row, key, [...levelPeople, ...managers], 'escalated', detail, { ladderLevel: input.to }), customerStatus(row, key, 'escalated', '', { ladderLevel: input.to }));
        return {
          writes: [
            trx
              .updateTable('incidents')
              .set({ ladder_level: input.to, ladder_entered_at: new Date(input.at), next_escalation_at: null, ladder_history: JSON.stringify(history) as never, updated_at: new Date(input.at) })
              .where('case_id', '=', row.case_id),
            audit(trx, row, key, { at: input.at, actor: 'system', role: 'system', action: 'incident.escalated', comment: input.reason, data: { ladderLevel: input.to } }),
          ],
          emails,
          result: undefined,
        };
      });
    },

    /**
     * The manager's grading: gradeIncident from the customer's class, the product's line, the impact and
     * the customer's incident history (repeats within 3 months raise it; the same symptom within 24 h
     * of a recovery continues that incident; a third occurrence is a new incident a level higher). A
     * lower level than the one given is refused naming the rule; a cause the customer states is theirs
     * reports it from level 3. The first grading starts every matching contingency plan.
     */
    async gradeIncidentCase(input: { caseId: string; stamp: ActorStamp; impact: IncidentImpact; customerStatedCause: { cause: CustomerStatedCause; statement: string } | null }): Promise<GradingOutcome> {
      const { stamp } = input;
      const key = `graded/${stamp.at}`;
      return caseStep<GradingOutcome>(input.caseId, { step: 'graded', actorRole: stamp.role, key }, async (row, trx) => {
        if (!row.product_line || !row.product_id) refuse('cannot grade: the incident names no device in the installed base, so its product line is unknown', { field: 'deviceId' });
        const history = await loadIncidentHistory(trx, row.customer_id, row.case_number);
        const { siteId, productId } = priorOccurrenceKeys(row);
        const byRules = gradeIncident({
          customerClass: row.customer_class,
          productFamily: row.product_line,
          ...input.impact,
          occurrence: { customerId: row.customer_id, siteId, productId, deviceId: row.device_id ?? undefined, symptom: row.symptom_code, occurredAt: row.started_at.toISOString() },
          history,
        });
        if (byRules.outcome === 'continuation' && byRules.continuesIncidentId) {
          const continued = await trx.selectFrom('incidents').select('case_id').where('case_number', '=', byRules.continuesIncidentId).executeTakeFirstOrThrow();
          return {
            writes: [
              ...statusWrites(trx, row, 'continued', new Date(stamp.at), { continues_case_id: continued.case_id, grading_rules: JSON.stringify(byRules.rules), impact: JSON.stringify(input.impact), graded_at: new Date(stamp.at), graded_by: stamp.actor }),
              audit(trx, row, key, { ...stamp, action: 'incident.continues', data: { continuesCaseNumber: byRules.continuesIncidentId, rules: byRules.rules } }),
            ],
            result: { level: byRules.level!, rulesLevel: byRules.level!, rules: byRules.rules, continuesCaseNumber: byRules.continuesIncidentId, gradedAt: stamp.at },
          };
        }
        if (byRules.level === null) {
          refuse('no grading rule matches this impact: give the impact that makes it an incident, or decide it is not an incident', { field: 'impact' });
        }
        const currentLevel = row.level as IncidentLevel | null;
        let level: IncidentLevel = byRules.level;
        const rules: GradingRule[] = [...byRules.rules];
        if (input.customerStatedCause && level < 3) {
          level = 3;
          rules.push({
            code: 'customer_stated_cause',
            level: 3,
            en: `the customer states the cause is theirs (${input.customerStatedCause.cause.replace(/_/g, ' ')}): reported from level 3`,
            zh: `客户声明属客户原因（${{ power: '电源', air_conditioning: '空调', cable: '线缆' }[input.customerStatedCause.cause]}）：按三级事故上报`,
          });
        }
        if (currentLevel !== null && level > currentLevel) {
          const neverLowered = gradeIncident({ customerClass: row.customer_class, productFamily: row.product_line, currentLevel }).rules.at(-1)!;
          refuse(`cannot grade it level ${level}: ${neverLowered.en} (${neverLowered.zh})`, { rule: neverLowered.code, currentLevel, proposedLevel: level });
        }
        const first = currentLevel === null;
        const status: IncidentStatus = row.status === 'registered' ? 'in_recovery' : (row.status as IncidentStatus);
        const emails: StepEmail[] = [];
        const writes: StepWrite[] = [
          ...statusWrites(trx, row, status, new Date(stamp.at), {
            level,
            rules_level: byRules.level,
            grading_rules: JSON.stringify(rules),
            impact: JSON.stringify(input.impact),
            graded_at: new Date(stamp.at),
            graded_by: stamp.actor,
            ...(input.customerStatedCause ? { customer_stated_cause: input.customerStatedCause.cause, customer_cause_statement: input.customerStatedCause.statement } : {}),
          }),
          audit(trx, row, key, { ...stamp, action: 'incident.graded', comment: input.customerStatedCause?.statement ?? null, data: { level, rulesLevel: byRules.level, rules: rules.map((rule) => rule.code), previousLevel: currentLevel } }),
        ];
        const managers = await usersWithRole(trx, ['manager']);
        if (first) {
          const plans = await trx
            .selectFrom('contingency_plans as p')
            .innerJoin('users as o', 'o.id', 'p.owner_user_id')
            .select(['p.id', 'p.title', 'p.steps', 'o.id as owner_id', 'o.email as owner_email', 'o.name as owner_name'])
            .where('p.customer_id', '=', row.customer_id)
            .where((eb) => eb.or([eb('p.site_id', 'is', null), eb('p.site_id', '=', row.site_id)]))
            .where((eb) => eb.or([eb('p.product_id', 'is', null), eb('p.product_id', '=', row.product_id)]))
            .orderBy('p.created_at')
            .execute();
          const group = (await expertGroup(trx, row.case_id)).map((member) => ({ id: member.user_id, email: member.email, name: member.name }));
          for (const plan of plans) {
            writes.push(
              trx.insertInto('incident_contingency_plans').values({ case_id: row.case_id, contingency_plan_id: plan.id, started_at: new Date(stamp.at) }).onConflict((oc) => oc.columns(['case_id', 'contingency_plan_id']).doNothing()),
              audit(trx, row, `contingency/${plan.id}`, { ...stamp, action: 'incident.contingency_plan_started', comment: plan.title, data: { contingencyPlanId: plan.id } }),
            );
            const params = { caseNumber: row.case_number, customerName: row.customer_name, title: plan.title, steps: plan.steps as string[], symptom: row.symptom };
            for (const person of distinct([{ id: plan.owner_id, email: plan.owner_email, name: plan.owner_name }, ...group, ...managers])) {
              emails.push({ key: `contingency/${plan.id}/${person.id}`, content: { template: 'incident_contingency_plan', params }, to: { email: person.email, locale: STAFF_LOCALE } });
            }
            emails.push({ key: `contingency/${plan.id}/customer`, content: { template: 'incident_contingency_plan', params } });
          }
        }
        const ruleText = rules.map((rule) => `- ${rule.en}`).join('\n');
        emails.push(customerStatus(row, key, 'graded', '', { level }), ...staffNotice(row, key, managers, 'graded', ruleText, { level }));
        return { writes, emails, result: { level, rulesLevel: byRules.level, rules, continuesCaseNumber: null, gradedAt: stamp.at } };
      });
    },

    /** The manager decided it is not an incident: it goes on as the fault repair registered for it, linked both ways. */
    async declareNotAnIncident(input: { caseId: string; stamp: ActorStamp; reason: string; faultRepairCaseId: string; faultRepairCaseNumber: string }): Promise<void> {
      const { stamp } = input;
      await caseStep(input.caseId, { step: 'not an incident', actorRole: stamp.role, key: 'not-an-incident' }, async (row, trx) => ({
        writes: [
          ...statusWrites(trx, row, 'not_an_incident', new Date(stamp.at), { fault_repair_case_id: input.faultRepairCaseId, not_an_incident_reason: input.reason, next_escalation_at: null }),
          audit(trx, row, 'not-an-incident', { ...stamp, action: 'incident.not_an_incident', comment: input.reason, data: { faultRepairCaseNumber: input.faultRepairCaseNumber } }),
          auditEventInsert(trx, {
            caseId: input.faultRepairCaseId,
            occurredAt: stamp.at,
            actor: stamp.actor,
            actorRole: stamp.role,
            action: 'fault_repair.from_incident',
            comment: input.reason,
            data: { incidentCaseNumber: row.case_number },
            idempotencyKey: `${input.faultRepairCaseNumber}/from-incident`,
          }),
        ],
        emails: [customerStatus(row, 'not-an-incident', 'not_an_incident', `${input.reason} (${input.faultRepairCaseNumber})`)],
        result: undefined,
      }));
    },

    /** The expert group as the manager sets it: removed and changed memberships end, new ones start; each added member is told. */
    async setIncidentExpertGroup(input: { caseId: string; stamp: ActorStamp; members: ExpertGroupMemberInput[] }): Promise<{ added: string[]; removed: string[] }> {
      const { stamp } = input;
      const key = `expert-group/${stamp.at}`;
      return caseStep(input.caseId, { step: 'expert group set', actorRole: stamp.role, key }, async (row, trx) => {
        const current = await expertGroup(trx, row.case_id);
        const wanted = new Map(input.members.map((member) => [member.userId, member]));
        const ending = current.filter((member) => {
          const next = wanted.get(member.user_id);
          return !next || next.specialty !== member.specialty || next.coordinator !== member.coordinator;
        });
        const endingIds = new Set(ending.map((member) => member.user_id));
        const currentIds = new Set(current.map((member) => member.user_id));
        const starting = input.members.filter((member) => !currentIds.has(member.userId) || endingIds.has(member.userId));
        const newcomers = input.members.filter((member) => !currentIds.has(member.userId));
        const users = newcomers.length > 0 ? await trx.selectFrom('users').select(['id', 'email', 'name']).where('id', 'in', newcomers.map((member) => member.userId)).execute() : [];
        const writes: StepWrite[] = [];
        if (ending.length > 0) {
          writes.push(
            trx
              .updateTable('incident_expert_group_members')
              .set({ removed_at: new Date(stamp.at), removed_by: stamp.actor })
              .where('case_id', '=', row.case_id)
              .where('removed_at', 'is', null)
              .where('user_id', 'in', [...endingIds]),
          );
        }
        if (starting.length > 0) {
          writes.push(
            trx.insertInto('incident_expert_group_members').values(
              starting.map((member) => ({ case_id: row.case_id, user_id: member.userId, specialty: member.specialty, coordinator: member.coordinator, added_at: new Date(stamp.at), added_by: stamp.actor })),
            ),
          );
        }
        const removed = current.filter((member) => !wanted.has(member.user_id)).map((member) => member.user_id);
        writes.push(
          audit(trx, row, key, {
            ...stamp,
            action: 'incident.expert_group_changed',
            data: {
              before: current.map((member) => ({ userId: member.user_id, specialty: member.specialty, coordinator: member.coordinator })),
              after: input.members,
              added: newcomers.map((member) => member.userId),
              removed,
            },
          }),
        );
        const emails: StepEmail[] = newcomers.flatMap((member) => {
          const user = users.find((candidate) => candidate.id === member.userId);
          if (!user) return [];
          return [
            {
              key: `${key}/${user.id}`,
              content: {
                template: 'incident_expert_group_member' as const,
                params: { caseNumber: row.case_number, customerName: row.customer_name, memberName: user.name, specialty: member.specialty, coordinator: member.coordinator, symptom: row.symptom, level: row.level },
              },
              to: { email: user.email, locale: STAFF_LOCALE },
            },
          ];
        });
        return { writes, emails, result: { added: newcomers.map((member) => member.userId), removed } };
      });
    },

    /** A recovery plan: a document signed off by the manager, the test when required, then the customer. */
    async startIncidentRecoveryPlan(input: { caseId: string; stamp: ActorStamp; documentId: string; title: string; testRequired: boolean; steps: SignOffStep[] }): Promise<void> {
      const { stamp } = input;
      const key = `recovery-plan/${input.documentId}`;
      await caseStep(input.caseId, { step: 'recovery plan started', actorRole: stamp.role, key }, async (row, trx) => ({
        writes: [
          { execute: () => insertDocument(trx, { id: input.documentId, caseId: row.case_id, kind: 'recovery_plan', title: input.title, steps: input.steps, contactId: row.contact_id, createdBy: stamp.actor }) },
          trx
            .insertInto('incident_recovery_plans')
            .values({ document_id: input.documentId, case_id: row.case_id, test_required: input.testRequired, started_by: stamp.actor, started_at: new Date(stamp.at) })
            .onConflict((oc) => oc.column('document_id').doNothing()),
          audit(trx, row, key, { ...stamp, action: 'incident.recovery_plan_started', comment: input.title, data: { documentId: input.documentId, testRequired: input.testRequired } }),
        ],
        result: undefined,
      }));
    },

    /** A signed plan implemented, by us or by the customer; not restored: the plan reopens for a new version. */
    async recordIncidentImplementation(input: { caseId: string; stamp: ActorStamp; documentId: string; version: number; implementedBy: PlanImplementer; implementedAt: string; restored: boolean; note: string | null }): Promise<void> {
      const { stamp } = input;
      const key = `implemented/${input.documentId}/v${input.version}`;
      await caseStep(input.caseId, { step: 'recovery plan implemented', actorRole: stamp.role, key }, async (row, trx) => ({
        writes: [
          trx
            .insertInto('incident_plan_implementations')
            .values({
              case_id: row.case_id,
              document_id: input.documentId,
              version: input.version,
              implemented_by: input.implementedBy,
              implemented_at: new Date(input.implementedAt),
              restored: input.restored,
              note: input.note,
              recorded_by: stamp.actor,
              recorded_at: new Date(stamp.at),
            })
            .onConflict((oc) => oc.columns(['document_id', 'version']).doNothing()),
          ...(input.restored
            ? []
            : [documentReopeningInsert(trx, { documentId: input.documentId, signedVersion: input.version, reason: input.note ?? 'implemented, service not restored: a new version is needed', by: stamp.actor, role: stamp.role, at: stamp.at })]),
          audit(trx, row, key, { ...stamp, action: 'incident.recovery_plan_implemented', comment: input.note, data: { documentId: input.documentId, version: input.version, implementedBy: input.implementedBy, implementedAt: input.implementedAt, restored: input.restored } }),
        ],
        result: undefined,
      }));
    },

    async recordIncidentArrival(input: { caseId: string; stamp: ActorStamp; arrivedAt: string }): Promise<void> {
      const { stamp } = input;
      await caseStep(input.caseId, { step: 'arrived on site', actorRole: stamp.role, key: `arrival/${input.arrivedAt}` }, async (row, trx) => ({
        writes: [
          trx.updateTable('incidents').set({ arrived_on_site_at: new Date(input.arrivedAt), updated_at: new Date(stamp.at) }).where('case_id', '=', row.case_id),
          audit(trx, row, `arrival/${input.arrivedAt}`, { ...stamp, action: 'incident.arrived_on_site', data: { arrivedAt: input.arrivedAt } }),
        ],
        result: undefined,
      }));
    },

    async recordIncidentStandbyUnit(input: { caseId: string; stamp: ActorStamp; serial: string; installedAt: string; note: string | null }): Promise<void> {
      const { stamp } = input;
      await caseStep(input.caseId, { step: 'standby unit installed', actorRole: stamp.role, key: 'standby-lent' }, async (row, trx) => {
        const managers = await usersWithRole(trx, ['manager']);
        const detail = `Standby unit ${input.serial} installed ${chinaTime(input.installedAt)}; it is switched back after the fix.`;
        return {
          writes: [
            trx.updateTable('incidents').set({ standby_serial: input.serial, standby_installed_at: new Date(input.installedAt), updated_at: new Date(stamp.at) }).where('case_id', '=', row.case_id),
            audit(trx, row, 'standby-lent', { ...stamp, action: 'incident.standby_unit_installed', comment: input.note, data: { serial: input.serial, installedAt: input.installedAt } }),
          ],
          emails: [customerStatus(row, 'standby-lent', 'standby_lent', detail), ...staffNotice(row, 'standby-lent', managers, 'standby_lent', detail)],
          result: undefined,
        };
      });
    },

    /** Service restored: the ladder stops; the close-out round starts (the workflow's child). */
    async recordIncidentRestoration(input: { caseId: string; stamp: ActorStamp; interruptedAt: string; restoredAt: string; round: number }): Promise<void> {
      const { stamp } = input;
      const key = `restored/${input.round}`;
      await caseStep(input.caseId, { step: `restored (round ${input.round})`, actorRole: stamp.role, key }, async (row, trx) => {
        const managers = await usersWithRole(trx, ['manager']);
        const standbyDetail = row.standby_serial && !row.standby_switched_back_at ? ` Standby unit ${row.standby_serial} is to be switched back.` : '';
        const detail = `Interrupted ${chinaTime(input.interruptedAt)}, restored ${chinaTime(input.restoredAt)}.${standbyDetail}`;
        return {
          writes: [
            ...statusWrites(trx, row, 'restored', new Date(stamp.at), { interrupted_at: new Date(input.interruptedAt), restored_at: new Date(input.restoredAt), close_out_round: input.round, next_escalation_at: null }),
            audit(trx, row, key, { ...stamp, action: 'incident.restored', data: { interruptedAt: input.interruptedAt, restoredAt: input.restoredAt, round: input.round } }),
          ],
          emails: [customerStatus(row, key, 'restored', detail), ...staffNotice(row, key, managers, 'restored', detail)],
          result: undefined,
        };
      });
    },

    /** The next chase of the standby unit's switch-back: the first working day's 09:00 (China time) after `after`. */
    async scheduleIncidentStandbyChase(input: { after: string }): Promise<{ chaseAt: string }> {
      const calendar = await loadBusinessCalendar(db);
      return { chaseAt: new Date(nextWorkingMorning(calendar, Date.parse(input.after))).toISOString() };
    },

    /** The standby unit is still in after restoration: the technical director and the managers are chased. */
    async chaseIncidentStandbySwitchBack(input: { caseId: string; chase: number; at: string }): Promise<void> {
      const key = `standby-chase/${input.chase}`;
      await caseStep(input.caseId, { step: `standby switch-back chased (${input.chase})`, actorRole: 'system', key }, async (row, trx) => {
        const people = [...(await dutyHolder(trx, 'technical_director')), ...(await usersWithRole(trx, ['manager']))];
        const detail = `Standby unit ${row.standby_serial ?? ''} installed ${row.standby_installed_at ? chinaTime(row.standby_installed_at.toISOString()) : ''} is still to be switched back (chase ${input.chase}).`;
        return {
          writes: [
            trx.updateTable('incidents').set({ standby_chase_count: input.chase, standby_last_chased_at: new Date(input.at) }).where('case_id', '=', row.case_id),
            audit(trx, row, key, { at: input.at, actor: 'system', role: 'system', action: 'incident.standby_switch_back_chased', data: { chase: input.chase } }),
          ],
          emails: staffNotice(row, key, people, 'switch_back_chase', detail),
          result: undefined,
        };
      });
    },

    async recordIncidentStandbySwitchBack(input: { caseId: string; stamp: ActorStamp; switchedBackAt: string; note: string | null }): Promise<void> {
      const { stamp } = input;
      await caseStep(input.caseId, { step: 'standby unit switched back', actorRole: stamp.role, key: 'standby-switched-back' }, async (row, trx) => {
        const managers = await usersWithRole(trx, ['manager']);
        const detail = `Standby unit ${row.standby_serial ?? ''} switched back ${chinaTime(input.switchedBackAt)}.`;
        return {
          writes: [
            trx.updateTable('incidents').set({ standby_switched_back_at: new Date(input.switchedBackAt), updated_at: new Date(stamp.at) }).where('case_id', '=', row.case_id),
            audit(trx, row, 'standby-switched-back', { ...stamp, action: 'incident.standby_unit_switched_back', comment: input.note, data: { switchedBackAt: input.switchedBackAt } }),
          ],
          emails: [customerStatus(row, 'standby-switched-back', 'switched_back', detail), ...staffNotice(row, 'standby-switched-back', managers, 'switched_back', detail)],
          result: undefined,
        };
      });
    },

    /**
     * A later notice continues this incident (same symptom within 24 h of its recovery): recorded; when
     * restored, the incident reopens: back to recovery at its ladder level, which counts again from now.
     */
    async recordIncidentRecurrence(input: { caseId: string; notice: RecurrenceNotice; reopen: boolean; at: string }): Promise<void> {
      const key = `recurrence/${input.notice.caseNumber}`;
      await caseStep(input.caseId, { step: `recurrence ${input.notice.caseNumber}`, actorRole: 'system', key }, async (row, trx) => {
        const writes: StepWrite[] = [
          audit(trx, row, key, { at: input.at, actor: 'system', role: 'system', action: input.reopen ? 'incident.reopened' : 'incident.recurrence_recorded', data: { continuationCaseNumber: input.notice.caseNumber, occurredAt: input.notice.occurredAt } }),
        ];
        if (!input.reopen) return { writes, result: undefined };
        const managers = await usersWithRole(trx, ['manager']);
        const detail = `The same symptom recurred at ${chinaTime(input.notice.occurredAt)} (notice ${input.notice.caseNumber}), within 24 h of the recovery.`;
        writes.push(
          ...statusWrites(trx, row, 'in_recovery', new Date(input.at), { restored_at: null, reopened_count: row.reopened_count + 1, ladder_entered_at: new Date(input.at), arrived_on_site_at: null, closed_at: null }),
          trx.updateTable('cases').set({ closed_at: null }).where('id', '=', row.case_id),
        );
        return { writes, emails: [customerStatus(row, key, 'reopened', detail), ...staffNotice(row, key, managers, 'reopened', detail)], result: undefined };
      });
    },

    /** The close-out archived the round: the incident is closed. */
    async archiveIncident(input: { caseId: string; archivedAt: string; round: number }): Promise<void> {
      const key = `archived/${input.round}`;
      await caseStep(input.caseId, { step: 'archived', actorRole: 'system', key }, async (row, trx) => ({
        writes: [...statusWrites(trx, row, 'closed', new Date(input.archivedAt)), audit(trx, row, key, { at: input.archivedAt, actor: 'system', role: 'system', action: 'incident.archived', data: { round: input.round } })],
        result: undefined,
      }));
    },
  };
}
