import { createHash } from 'node:crypto';
import { z } from 'zod';
import { enqueueEmail } from '../../activities/shared/email';
import type { EmailContent } from '../../activities/shared/email-templates';
import type { SignedLinks } from '../../activities/shared/signed-links';
import type { Db } from '../../db';
import { ApiError } from '../errors';

/** What the desk gets back when it emails a contact a link (to apply, to report a fault, ...). */
export const contactLinkResponse = z.object({ contactId: z.uuid(), email: z.string(), expiresAt: z.string() });

/**
 * Emails a customer contact a single-use link to act before any case exists (its subject names the
 * contact). The email is queued, not sent: the outbox relay sends it, also when SMTP is down now.
 */
export async function emailContactLink(
  deps: { db: Db; links: SignedLinks },
  request: {
    contactId: string;
    subject: (contactId: string) => string;
    action: string;
    ttlHours: number;
    /** The outbox key's prefix; the key ends with a hash of the link. */
    keyPrefix: string;
    email: (link: { customerName: string; url: string; expiresOn: string }) => EmailContent;
  },
): Promise<z.input<typeof contactLinkResponse>> {
  const contact = await deps.db
    .selectFrom('contacts as c')
    .innerJoin('customers as k', 'k.id', 'c.customer_id')
    .select(['c.id', 'c.email', 'k.name as customer_name'])
    .where('c.id', '=', request.contactId)
    .executeTakeFirst();
  if (!contact) throw ApiError.validation([{ in: 'body', field: 'contactId', message: `no contact with id ${request.contactId}` }]);
  const link = deps.links.issue({ caseId: request.subject(contact.id), action: request.action, singleUse: true, ttlHours: request.ttlHours });
  await enqueueEmail(deps.db, {
    // A hash of the link, not a piece of it: outbox keys appear in logs.
    idempotencyKey: `${request.keyPrefix}/${createHash('sha256').update(link.token).digest('base64url')}`,
    to: { contactId: contact.id },
    ...request.email({ customerName: contact.customer_name, url: link.url, expiresOn: link.expiresAt.toISOString().slice(0, 10) }),
  });
  return { contactId: contact.id, email: contact.email, expiresAt: link.expiresAt.toISOString() };
}

/** The contact a link from emailContactLink was issued to, with their customer; 401 for a link to anyone else. */
export async function contactOfLink(db: Db, subject: (contactId: string) => string, linkSubject: string) {
  const contactId = linkSubject.slice(subject('').length);
  const contact = z.uuid().safeParse(contactId).success
    ? await db
        .selectFrom('contacts as c')
        .innerJoin('customers as k', 'k.id', 'c.customer_id')
        .select(['c.id', 'c.name', 'c.locale', 'c.customer_id', 'k.name as customer_name'])
        .where('c.id', '=', contactId)
        .executeTakeFirst()
    : undefined;
  if (!contact || linkSubject !== subject(contact.id)) throw new ApiError(401, 'link_invalid', 'This link is not valid', { reason: 'unknown contact' });
  return contact;
}
