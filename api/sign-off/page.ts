import { SIGNATURE_LINK_TTL_HOURS, SIGN_DOCUMENT_ACTION, documentVersionScope } from '../../activities/sign-off/activities';
import type { SignedLinks } from '../../activities/shared/signed-links';
import type { Db } from '../../db';
import { HIGH_RISK_OPERATION_NAMES, type HighRiskOperation } from '../../workflows/rules/high-risk';
import { ApiError } from '../errors';
import { text, type LinkPage, type PageFact } from '../pages/link-page';
import { formatChinaTime } from '../pages/strings';
import { loadDocument, type DocumentDto } from './read-model';

/** `document:<id>:v<version>`, the subject of a signature link, back to its parts. */
export function parseDocumentVersionScope(subject: string): { documentId: string; version: number } | undefined {
  const match = /^document:([0-9a-f-]{36}):v(\d+)$/.exec(subject);
  return match ? { documentId: match[1]!, version: Number(match[2]) } : undefined;
}

const KIND_TITLES: Record<DocumentDto['kind'], ReturnType<typeof text>> = {
  repair_plan: text('Repair plan', '维修方案'),
  service_report: text('Service report', '服务报告'),
  fault_report: text('Fault report', '故障报告'),
  recovery_plan: text('Recovery plan', '恢复方案'),
  implementation_plan: text('Implementation plan', '实施方案'),
  write_up: text('Write-up', '案例总结'),
  incident_report: text('Incident report', '事故解决服务报告'),
  rectification_plan: text('Rectification plan', '整改方案'),
  rectification_agreement: text('Rectification plan and timing', '整改方案与时间安排'),
  rectification_report: text('Rectification report', '整改报告'),
};

const asText = (value: unknown): string => (typeof value === 'string' ? value : '');
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** What the customer reads before signing: the version's content, laid out per kind. */
function contentFacts(content: Record<string, unknown>, locale: 'en' | 'zh-CN'): PageFact[] {
  const facts: PageFact[] = [];
  if (content.summary) facts.push({ label: text('Summary', '概述'), value: asText(content.summary) });
  const steps = asList(content.steps).map(asText);
  if (steps.length > 0) facts.push({ label: text('Steps', '操作步骤'), value: steps.map((step, index) => `${index + 1}. ${step}`).join('\n') });
  const window = content.window as { start?: string; end?: string } | undefined;
  if (window?.start && window.end) {
    facts.push({ label: text('Time window (China time)', '实施时间（北京时间）'), value: `${formatChinaTime(new Date(window.start), locale)} – ${formatChinaTime(new Date(window.end), locale)}` });
  }
  if (typeof content.startsOn === 'string' && typeof content.endsOn === 'string') {
    facts.push({ label: text('Rectification period (China dates)', '整改时间（北京时间）'), value: `${content.startsOn} – ${content.endsOn}` });
  }
  if (content.rollback) facts.push({ label: text('Rollback', '回退方案'), value: asText(content.rollback) });
  const parts = asList(content.parts ?? content.partsUsed) as { productCode?: string; quantity?: number; serial?: string | null }[];
  if (parts.length > 0) facts.push({ label: text('Parts', '备件'), value: parts.map((part) => `${part.productCode ?? ''} × ${part.quantity ?? 1}${part.serial ? ` (${part.serial})` : ''}`).join('\n') });
  if (content.workDone) facts.push({ label: text('Work done', '处理过程'), value: asText(content.workDone) });
  // An incident report: the interruption and restoration times, what happened, what was done, the result and the cause.
  if (typeof content.interruptedAt === 'string' && typeof content.restoredAt === 'string') {
    facts.push({ label: text('Interrupted - restored (China time)', '中断时间 - 恢复时间（北京时间）'), value: `${formatChinaTime(new Date(content.interruptedAt), locale)} – ${formatChinaTime(new Date(content.restoredAt), locale)}` });
  }
  if (content.symptoms) facts.push({ label: text('What happened', '事故现象'), value: asText(content.symptoms) });
  if (content.actions) facts.push({ label: text('What was done', '处理过程'), value: asText(content.actions) });
  if (content.result) facts.push({ label: text('Result', '处理结果'), value: asText(content.result) });
  if (content.cause) facts.push({ label: text('Cause', '原因'), value: asText(content.cause) });
  return facts;
}

/** The customer's signature page of one version of a document: sign, or object with a comment. */
export function signaturePage(deps: { db: Db; links: SignedLinks }): LinkPage {
  return {
    title: text('Please read and sign', '请审阅并签字确认'),
    submitLabel: text('Send my decision', '提交'),
    fields: [
      {
        name: 'decision', kind: 'choice', required: true, label: text('Your decision', '您的意见'),
        choices: [
          { value: 'signed', label: text('I agree and sign this version', '同意并签字确认本版本') },
          { value: 'objected', label: text('I object (please say why below)', '不同意（请在下方说明原因）') },
        ],
      },
      { name: 'comment', kind: 'textarea', required: false, maxLength: 4000, label: text('Comment', '意见'), hint: text('Required when you object.', '不同意时必填。') },
    ],
    async describe(claims) {
      const scope = parseDocumentVersionScope(claims.caseId);
      if (!scope) throw new ApiError(401, 'link_invalid', 'This link is not valid', { reason: 'not a document link' });
      const document = await loadDocument(deps.db, scope.documentId);
      const contact = await deps.db
        .selectFrom('documents as d')
        .innerJoin('contacts as k', 'k.id', 'd.contact_id')
        .select(['k.name', 'k.locale'])
        .where('d.id', '=', document.id)
        .executeTakeFirst();
      const locale = contact?.locale ?? 'zh-CN';
      const base = { locale, recipientName: contact?.name };
      const kindTitle = KIND_TITLES[document.kind];
      const heading: PageFact[] = [
        { label: text('Case', '工单'), value: document.caseNumber },
        { label: text('Document', '文件'), value: `${document.title} (${kindTitle[locale]})` },
        { label: text('Version', '版本'), value: String(scope.version) },
      ];
      if (document.currentVersion > scope.version) {
        const newer = text(`Version ${document.currentVersion} of this document replaces version ${scope.version}.`, `本文件已有第 ${document.currentVersion} 版，取代第 ${scope.version} 版。`);
        if (document.status === 'in_review' && document.waitingFor === 'customer_signature') {
          const link = deps.links.issue({ caseId: documentVersionScope(document.id, document.currentVersion), action: SIGN_DOCUMENT_ACTION, singleUse: false, ttlHours: SIGNATURE_LINK_TTL_HOURS });
          return { ...base, kind: 'superseded', message: newer, newerUrl: link.url, facts: heading };
        }
        return { ...base, kind: 'closed', message: text(`${newer.en} You will receive it by email when it is ready for your signature.`, `${newer['zh-CN']}新版本可供签字时，我们会通过邮件发送给您。`), facts: heading };
      }
      const version = document.versions.find((candidate) => candidate.version === scope.version);
      if (!version || document.status !== 'in_review' || document.waitingFor !== 'customer_signature') {
        const signed = version?.decisions.some((decision) => decision.step === 'customer_signature' && decision.decision === 'signed');
        return {
          ...base,
          kind: 'closed',
          message: signed ? text('This version is signed. Thank you.', '本版本已签字确认，谢谢。') : text('This version is not waiting for your signature.', '本版本当前无需您签字。'),
          facts: heading,
        };
      }
      const highRisk = asList(version.content.highRiskOperations) as HighRiskOperation[];
      const facts = [...heading, ...contentFacts(version.content, locale)];
      if (highRisk.length > 0) {
        facts.push({ label: text('High-risk operations', '高危操作'), value: highRisk.map((operation) => HIGH_RISK_OPERATION_NAMES[operation]?.[locale] ?? operation).join('\n') });
      }
      return {
        ...base,
        kind: 'form',
        intro: text('Please read this version. Sign it if you agree, or object with your comments and we will revise it.', '请审阅本版本。同意请签字确认；不同意请填写意见，我们将修改后再次发送。'),
        facts,
        notes:
          highRisk.length > 0
            ? [text('By signing you give your explicit written approval of each high-risk operation listed, to be carried out in the time window above.', '签字即表示您书面同意上述每一项高危操作在上述时间窗口内实施。')]
            : [],
      };
    },
    done(result) {
      const signed = result.status === 'signed' || result.status === 'in_review';
      return {
        message: signed ? text('Thank you: your signature is recorded.', '谢谢，您的签字已记录。') : text('Thank you: your objection is recorded. We will revise the document and send it again.', '谢谢，您的意见已记录。我们将修改后再次发送。'),
        facts: [
          { label: text('Case', '工单'), value: asText(result.caseNumber) },
          { label: text('Version', '版本'), value: typeof result.version === 'number' ? String(result.version) : '' },
        ],
      };
    },
  };
}
