import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { SOFTWARE_APPLY_ACTION } from '../../activities/rectification/campaign-activities';
import type { Clock } from '../../activities/shared/clock';
import type { Db } from '../../db';
import { confirmRectificationDevicesUpdate, customerWorkflowId } from '../../workflows/rectification/definitions';
import { ApiError } from '../errors';
import { text, type LinkPage } from '../pages/link-page';
import { defineLinkAction, type LinkAction } from '../routes/links';
import { executeProcessUpdate } from '../shared/process-updates';
import { optionalNote, requiredText } from '../shared/schemas';
import { deviceIdsOf } from './routes';

/** One device at a time, as the customer works through them: applied, or an engineer wanted. */
export const softwareApplySchema = z.object({
  serial: requiredText(64).meta({ description: 'The device the fix was applied on (or that needs an engineer)' }),
  outcome: z.enum(['applied', 'engineer_requested']),
  note: optionalNote(2000),
});

/** The customer of a software-apply link: the link names the customer's agreement document of the campaign. */
async function customerOfLink(db: Db, documentId: string) {
  const row = z.uuid().safeParse(documentId).success
    ? await db
        .selectFrom('rectification_customers as rc')
        .innerJoin('rectification_campaigns as r', 'r.case_id', 'rc.campaign_case_id')
        .innerJoin('documents as doc', 'doc.id', 'rc.agreement_document_id')
        .leftJoin('contacts as k', 'k.id', 'doc.contact_id')
        .select(['r.case_id', 'r.case_number', 'r.title', 'r.solution', 'rc.customer_id', 'rc.status', 'k.name as contact_name', 'k.locale'])
        .where('rc.agreement_document_id', '=', documentId)
        .executeTakeFirst()
    : undefined;
  if (!row) throw new ApiError(401, 'link_invalid', 'This link is not valid', { reason: 'no rectification customer for the link' });
  return row;
}

async function devicesOfLink(db: Db, caseId: string, customerId: string) {
  return db
    .selectFrom('rectification_devices as rd')
    .innerJoin('devices as d', 'd.id', 'rd.device_id')
    .select(['d.serial', 'rd.status'])
    .where('rd.campaign_case_id', '=', caseId)
    .where('rd.customer_id', '=', customerId)
    .orderBy('d.serial')
    .execute();
}

/** Rectification's customer link actions: the software fix confirmed device by device. Registered in api/app.ts. */
export function rectificationCampaignLinkActions(deps: { db: Db; temporal: Client; clock: Clock }): LinkAction[] {
  return [
    defineLinkAction({
      action: SOFTWARE_APPLY_ACTION,
      summary: 'Software rectification: confirm one device the fix was applied on, or ask for an engineer (a site visit)',
      body: softwareApplySchema,
      page: softwareApplyPage(deps),
      perform: async ({ claims, body }) => {
        const customer = await customerOfLink(deps.db, claims.caseId);
        const [deviceId] = await deviceIdsOf(deps.db, customer.case_id, customer.customer_id, [body.serial], 'serial').catch((error: unknown) => {
          if (error instanceof ApiError && error.status === 400) throw ApiError.validation([{ in: 'body', field: 'serial', message: `no device ${body.serial} of yours in this rectification` }]);
          throw error;
        });
        await executeProcessUpdate(deps.temporal, customerWorkflowId(customer.case_number, customer.customer_id), confirmRectificationDevicesUpdate, {
          actor: customer.contact_name ?? 'customer',
          role: 'customer',
          at: deps.clock.now().toISOString(),
          deviceIds: [deviceId!],
          outcome: body.outcome,
          note: body.note,
        });
        const devices = await devicesOfLink(deps.db, customer.case_id, customer.customer_id);
        return { caseNumber: customer.case_number, serial: body.serial, outcome: body.outcome, remaining: devices.filter((device) => device.status === 'awaiting_customer_apply').length };
      },
    }),
  ];
}

function softwareApplyPage(deps: { db: Db }): LinkPage {
  return {
    title: text('Software rectification', '软件整改确认'),
    submitLabel: text('Confirm this device', '确认该设备'),
    fields: [
      { name: 'serial', kind: 'text', required: true, maxLength: 64, label: text('Device serial number', '设备序列号'), hint: text('One of the devices listed above that still waits.', '请填写上方列表中待确认的设备。') },
      {
        name: 'outcome',
        kind: 'choice',
        required: true,
        label: text('What happened', '处理结果'),
        choices: [
          { value: 'applied', label: text('We applied the fix on this device', '我方已完成该设备的升级') },
          { value: 'engineer_requested', label: text('Please send an engineer to this device’s site', '请派工程师到该设备所在站点处理') },
        ],
      },
      { name: 'note', kind: 'textarea', required: false, maxLength: 2000, label: text('Note', '备注') },
    ],
    async describe(claims) {
      const customer = await customerOfLink(deps.db, claims.caseId);
      const devices = await devicesOfLink(deps.db, customer.case_id, customer.customer_id);
      const waiting = devices.filter((device) => device.status === 'awaiting_customer_apply').map((device) => device.serial);
      const done = devices.filter((device) => device.status === 'rectified').map((device) => device.serial);
      const solution = customer.solution as { version?: string; patch?: string | null; guide?: string };
      const facts = [
        { label: text('Rectification', '整改'), value: `${customer.case_number} ${customer.title}` },
        { label: text('Version', '版本'), value: `${solution.version ?? ''}${solution.patch ? ` / ${solution.patch}` : ''}` },
        { label: text('Guide', '操作指导'), value: solution.guide ?? '' },
        { label: text('Devices still waiting', '待确认设备'), value: waiting.length > 0 ? waiting.join(', ') : '-' },
        { label: text('Devices done', '已完成设备'), value: done.length > 0 ? done.join(', ') : '-' },
      ];
      const base = { locale: customer.locale ?? ('zh-CN' as const), ...(customer.contact_name ? { recipientName: customer.contact_name } : {}) };
      if (customer.status !== 'in_progress' || waiting.length === 0) {
        return { ...base, kind: 'closed', message: text('Nothing is left to confirm here. Thank you.', '已无待确认的设备，谢谢。'), facts };
      }
      return {
        ...base,
        kind: 'form',
        intro: text('Confirm each device once the fix is applied on it, or ask for one of our engineers to do it on site.', '每台设备完成升级后请逐台确认；如需我方工程师上门处理，也可在此提出。'),
        facts,
      };
    },
    done(result) {
      return {
        message:
          result.outcome === 'applied'
            ? text('Thank you: the device is recorded as rectified.', '谢谢，该设备已登记为整改完成。')
            : text('Thank you: an engineer will contact you to agree a visit.', '谢谢，我方工程师将与您联系安排上门。'),
        facts: [
          { label: text('Device', '设备'), value: String(result.serial) },
          { label: text('Devices still waiting', '待确认设备数'), value: String(result.remaining) },
        ],
      };
    },
  };
}
