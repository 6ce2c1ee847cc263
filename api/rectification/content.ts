import { z } from 'zod';
import { isoDateField, requiredText } from '../shared/schemas';

// What a version of the campaign's documents holds. The totals of the plan are computed from the
// installed base and added by the campaign's plan route; the author writes the schedule and summary.

const schedule = {
  summary: requiredText(4000),
  startsOn: isoDateField().meta({ description: 'First day of the rollout (China date)' }),
  endsOn: isoDateField().meta({ description: 'Last day of the rollout (China date)' }),
};

export const rectificationPlanContent = z
  .object({
    ...schedule,
    totals: z
      .object({ devices: z.number().int().min(0), sites: z.number().int().min(0), customers: z.number().int().min(0), hours: z.number().min(0), parts: z.array(z.object({ productCode: z.string(), quantity: z.number().int() })) })
      .optional(),
  })
  .refine((plan) => plan.endsOn >= plan.startsOn, { message: 'must not be before startsOn', path: ['endsOn'] })
  .meta({ id: 'RectificationPlanContent' });

/** The plan and timing proposed to one customer, signed by them on the customer page. */
export const rectificationAgreementContent = z
  .object({ ...schedule })
  .refine((plan) => plan.endsOn >= plan.startsOn, { message: 'must not be before startsOn', path: ['endsOn'] })
  .meta({ id: 'RectificationAgreementContent' });
