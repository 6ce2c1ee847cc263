import { sql } from 'kysely';
import type { UserRole } from '../../db/schema';
import { RECTIFICATION_RAISERS } from '../../workflows/rectification/definitions';
import type { Task, TaskSource } from '../me/tasks';

/** Who writes a customer's plan and timing (the sign-off's authors). */
const AGREEMENT_AUTHORS: readonly UserRole[] = ['engineer', 'senior_engineer', 'manager'];

/**
 * The campaign's part of GET /me/tasks: R&D and management submit the plan of a campaign raised and
 * not yet submitted; the authors write each started customer's plan and timing for them to sign. Their
 * later decisions and revisions come from the documents' own task source.
 */
export const rectificationCampaignTasks: TaskSource = async (db, actor) => {
  const tasks: Task[] = [];
  const noVersion = (column: 'r.plan_document_id' | 'rc.agreement_document_id') => sql<boolean>`not exists (select 1 from document_versions v where v.document_id = ${sql.ref(column)})`;
  if ((RECTIFICATION_RAISERS as readonly UserRole[]).includes(actor.role)) {
    const plans = await db
      .selectFrom('rectification_campaigns as r')
      .select(['r.case_number', 'r.title', 'r.device_count', 'r.created_at'])
      .where('r.status', '=', 'planning')
      .where(noVersion('r.plan_document_id'))
      .orderBy('r.created_at')
      .execute();
    for (const plan of plans) {
      tasks.push({
        kind: 'submit_rectification_plan',
        process: 'batch_rectification',
        caseNumber: plan.case_number,
        title: `Submit the rectification plan of ${plan.case_number} (${plan.title}, ${plan.device_count} devices) for approval`,
        waitingSince: new Date(plan.created_at).toISOString(),
        dueAt: null,
        href: `/rectification-campaigns/${plan.case_number}/plan`,
      });
    }
  }
  if (AGREEMENT_AUTHORS.includes(actor.role)) {
    const customers = await db
      .selectFrom('rectification_customers as rc')
      .innerJoin('rectification_campaigns as r', 'r.case_id', 'rc.campaign_case_id')
      .innerJoin('customers as c', 'c.id', 'rc.customer_id')
      .select(['r.case_number', 'c.name', 'rc.agreement_document_id', 'rc.updated_at'])
      .where('rc.status', '=', 'awaiting_agreement')
      .where('rc.agreement_document_id', 'is not', null)
      .where(noVersion('rc.agreement_document_id'))
      .orderBy('rc.updated_at')
      .limit(500)
      .execute();
    for (const customer of customers) {
      tasks.push({
        kind: 'write_rectification_agreement',
        process: 'batch_rectification',
        caseNumber: customer.case_number,
        title: `Write the rectification plan and timing for ${customer.name} to sign (${customer.case_number})`,
        waitingSince: new Date(customer.updated_at).toISOString(),
        dueAt: null,
        href: `/documents/${customer.agreement_document_id}/versions`,
      });
    }
  }
  return tasks;
};
