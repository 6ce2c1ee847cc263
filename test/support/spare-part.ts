// Spare-part steps through the API, as the service desk takes them, for tests that run the whole process.
import request from 'supertest';
import type { UserRole } from '../../db/schema';
import type { createTestApp } from './app';
import type { ServiceCompany } from './fixtures';
import { bearer } from './probes';

export interface SparePartApplicationOverrides {
  faultDescription?: string;
  deliveryAddress?: string;
}

/**
 * POST /spare-parts by the service desk for `failedSerial` (a device of the company's customer) with
 * the company's contact; returns the response (201 with `loanNumber` when it is accepted).
 */
export function applyForSparePart(
  h: { app: ReturnType<typeof createTestApp>; tokens: Pick<Record<UserRole, string>, 'service_desk'> },
  company: Pick<ServiceCompany, 'customerId' | 'contactId'>,
  failedSerial: string,
  overrides: SparePartApplicationOverrides = {},
): request.Test {
  return request(h.app)
    .post('/spare-parts')
    .set(bearer(h.tokens.service_desk))
    .send({ customerId: company.customerId, contactId: company.contactId, failedSerial, faultDescription: 'line card dead', deliveryAddress: '88 Century Ave, Shanghai', ...overrides });
}
