import ical, { ICalCalendarMethod } from 'ical-generator';

/** An appointment sent with an email as an iCalendar invitation (RFC 5545), so it lands in the customer's calendar. */
export interface CalendarInvite {
  /** Stable across re-sends of the same appointment (a rescheduled visit updates the calendar entry). */
  uid: string;
  /** ISO instants. */
  start: string;
  end: string;
  summary: string;
  description: string;
  location: string | null;
  /** Bumped when the appointment changes, so calendars replace the earlier invite. */
  sequence: number;
  /** Left out, the invite still lands in the calendar; mail clients then show no accept/decline buttons. */
  organizer?: { name: string; email: string };
}

/** The invite as the text/calendar part of an email (METHOD:REQUEST). */
export function renderCalendarInvite(invite: CalendarInvite): string {
  const calendar = ical({ prodId: { company: 'fieldops', product: 'fieldops', language: 'EN' }, method: ICalCalendarMethod.REQUEST });
  calendar.createEvent({
    id: invite.uid,
    sequence: invite.sequence,
    start: new Date(invite.start),
    end: new Date(invite.end),
    summary: invite.summary,
    description: invite.description,
    location: invite.location ?? undefined,
    ...(invite.organizer ? { organizer: invite.organizer } : {}),
  });
  return calendar.toString();
}
