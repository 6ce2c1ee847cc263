import { z } from 'zod';
import { isoInstantField, requiredText } from '../shared/schemas';

/**
 * The incident report the customer signs (事故解决服务报告, 003 2.2 steps 8-9): the interruption and
 * restoration times, what happened, what was done, the result and the cause. Validated when a version
 * is submitted at POST /documents/:id/versions.
 */
export const incidentReportContent = z
  .object({
    interruptedAt: isoInstantField().meta({ description: 'When the service was interrupted' }),
    restoredAt: isoInstantField().meta({ description: 'When the service was restored' }),
    symptoms: requiredText(4000).meta({ description: 'What happened and what it affected' }),
    actions: requiredText(8000).meta({ description: 'What was done, in order' }),
    result: requiredText(4000).meta({ description: 'The result as the customer confirms it' }),
    cause: requiredText(4000).meta({ description: 'The cause, as far as it is known' }),
    engineers: z.array(requiredText(200)).min(1).max(50).meta({ description: 'Who worked on it' }),
  })
  .refine((report) => Date.parse(report.restoredAt) >= Date.parse(report.interruptedAt), { message: 'must not be before interruptedAt', path: ['restoredAt'] })
  .meta({ id: 'IncidentReportContent' });
