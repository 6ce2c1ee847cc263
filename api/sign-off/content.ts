import { z } from 'zod';
import { HIGH_RISK_OPERATIONS } from '../../workflows/rules/high-risk';
import type { DocumentKind } from '../../workflows/sign-off/definitions';
import { incidentReportContent } from '../incident-close-out/content';
import { rectificationAgreementContent, rectificationPlanContent } from '../rectification/content';
import { INT4_MAX, isoInstantField, requiredText } from '../shared/schemas';

// What a version of each kind of document holds, validated before it is submitted.

export const repairPlanContent = z
  .object({
    summary: requiredText(2000),
    steps: z.array(requiredText(2000)).min(1).max(100),
    window: z
      .object({ start: isoInstantField(), end: isoInstantField() })
      .refine((window) => Date.parse(window.end) > Date.parse(window.start), { message: 'must end after it starts', path: ['end'] }),
    rollback: requiredText(4000),
    parts: z.array(z.object({ productCode: requiredText(64), quantity: z.number().int().min(1).max(INT4_MAX) })).max(100).default([]),
    highRiskOperations: z.array(z.enum(HIGH_RISK_OPERATIONS)).max(HIGH_RISK_OPERATIONS.length).default([]),
  })
  .meta({ id: 'RepairPlanContent' });

export const serviceReportContent = z
  .object({
    summary: requiredText(4000),
    workDone: requiredText(8000),
    partsUsed: z.array(z.object({ productCode: requiredText(64), serial: requiredText(64).nullable().default(null), quantity: z.number().int().min(1).max(INT4_MAX) })).max(100).default([]),
    restoredAt: isoInstantField().nullable().default(null),
  })
  .meta({ id: 'ServiceReportContent' });

const freeContent = z.record(z.string().max(100), z.unknown()).meta({ id: 'DocumentContent' });

export const DOCUMENT_CONTENT: Record<DocumentKind, z.ZodType<Record<string, unknown>>> = {
  repair_plan: repairPlanContent,
  service_report: serviceReportContent,
  fault_report: freeContent,
  recovery_plan: freeContent,
  implementation_plan: freeContent,
  write_up: freeContent,
  incident_report: incidentReportContent,
  rectification_plan: rectificationPlanContent,
  rectification_agreement: rectificationAgreementContent,
  rectification_report: freeContent,
};
