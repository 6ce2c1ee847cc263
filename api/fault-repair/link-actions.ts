import { z } from 'zod';
import { SURVEY_ACTION } from '../../activities/fault-repair/activities';
import { appendAuditEvent } from '../../activities/shared/audit';
import type { Clock } from '../../activities/shared/clock';
import type { Db } from '../../db';
import { ApiError } from '../errors';
import { text, type LinkPage } from '../pages/link-page';
import { formatChinaTime } from '../pages/strings';
import { defineLinkAction, type LinkAction } from '../routes/links';
import { optionalNote } from '../shared/schemas';

/** The satisfaction survey: a score 1-5 and a comment, answered once (409 afterwards). */
export const surveySchema = z.object({
  score: z.coerce.number().int().min(1).max(5).meta({ description: '1 (poor) to 5 (excellent)' }),
  comment: optionalNote(2000),
});

const SCORES = [5, 4, 3, 2, 1] as const;
const SCORE_WORDS: Record<(typeof SCORES)[number], ReturnType<typeof text>> = {
  5: text('5 - Excellent', '5 - 非常满意'),
  4: text('4 - Good', '4 - 满意'),
  3: text('3 - Fair', '3 - 一般'),
  2: text('2 - Poor', '2 - 不满意'),
  1: text('1 - Very poor', '1 - 非常不满意'),
};

async function caseOfLink(db: Db, caseId: string) {
  const row = z.uuid().safeParse(caseId).success
    ? await db
        .selectFrom('fault_repairs as f')
        .innerJoin('contacts as k', 'k.id', 'f.contact_id')
        .innerJoin('devices as d', 'd.id', 'f.device_id')
        .select(['f.case_id', 'f.case_number', 'f.survey_score', 'f.survey_answered_at', 'k.name', 'k.locale', 'd.serial'])
        .where('f.case_id', '=', caseId)
        .executeTakeFirst()
    : undefined;
  if (!row) throw new ApiError(401, 'link_invalid', 'This link is not valid', { reason: 'no fault repair for the case' });
  return row;
}

/** Fault repair's customer link actions: the satisfaction survey from the follow-up email. Registered in api/app.ts. */
export function faultRepairLinkActions(deps: { db: Db; clock: Clock }): LinkAction[] {
  return [
    defineLinkAction({
      action: SURVEY_ACTION,
      summary: 'Rate the service of a fault repair (score 1-5, comment); answered once',
      body: surveySchema,
      page: surveyPage(deps),
      perform: async ({ claims, body }) => {
        const repair = await caseOfLink(deps.db, claims.caseId);
        const at = deps.clock.now();
        const answered = await deps.db.transaction().execute(async (trx) => {
          const updated = await trx
            .updateTable('fault_repairs')
            .set({ survey_score: body.score, survey_comment: body.comment, survey_answered_at: at })
            .where('case_id', '=', repair.case_id)
            .where('survey_answered_at', 'is', null)
            .returning('case_id')
            .executeTakeFirst();
          if (!updated) return false;
          await appendAuditEvent(trx, {
            caseId: repair.case_id,
            occurredAt: at.toISOString(),
            actor: repair.name,
            actorRole: 'customer',
            action: 'fault_repair.survey_answered',
            comment: body.comment,
            data: { score: body.score },
            idempotencyKey: `${repair.case_number}/survey`,
          });
          return true;
        });
        if (!answered) throw ApiError.conflict('already_answered', `the survey of ${repair.case_number} was already answered`);
        return { caseNumber: repair.case_number, score: body.score };
      },
    }),
  ];
}

/** The survey page the customer opens from the follow-up email. */
function surveyPage(deps: { db: Db }): LinkPage {
  return {
    title: text('How did we do?', '服务满意度调查'),
    submitLabel: text('Send my rating', '提交评价'),
    fields: [
      { name: 'score', kind: 'choice', required: true, label: text('Your rating', '您的评分'), choices: SCORES.map((score) => ({ value: String(score), label: SCORE_WORDS[score] })) },
      { name: 'comment', kind: 'textarea', required: false, maxLength: 2000, label: text('Comment', '意见和建议'), hint: text('Anything we could do better.', '欢迎提出改进建议。') },
    ],
    async describe(claims) {
      const repair = await caseOfLink(deps.db, claims.caseId);
      const facts = [
        { label: text('Case', '工单'), value: repair.case_number },
        { label: text('Device', '设备'), value: repair.serial },
      ];
      const base = { locale: repair.locale, recipientName: repair.name };
      if (repair.survey_answered_at) {
        const when = new Date(repair.survey_answered_at);
        return {
          ...base,
          kind: 'closed',
          message: text(`You rated this service on ${formatChinaTime(when, 'en')} (China time). Thank you.`, `您已于 ${formatChinaTime(when, 'zh-CN')}（北京时间）完成评价，谢谢。`),
          facts,
        };
      }
      return {
        ...base,
        kind: 'form',
        intro: text('Your fault case is resolved. Please rate our service: it takes a minute.', '您的故障工单已处理完毕。请为我们的服务评分，只需一分钟。'),
        facts,
      };
    },
    done(result) {
      return {
        message: text('Thank you for your rating.', '感谢您的评价。'),
        facts: [
          { label: text('Case', '工单'), value: String(result.caseNumber) },
          { label: text('Your rating', '您的评分'), value: String(result.score) },
        ],
      };
    },
  };
}
