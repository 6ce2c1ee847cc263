import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  proxyLocalActivities,
  setHandler,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { Activities } from '../../activities';
import { INVALID_TRANSITION } from '../shared/definitions';
import { createCaseSteps, type StepRule } from '../shared/case-steps';
import { STEP_ACTIVITY_OPTIONS } from '../shared/step-activities';
import { untilOr } from '../shared/step-queue';
import { documentChangedSignal, signOffWorkflowId, withdrawDocumentSignal, type SignOffStep } from '../sign-off/definitions';
import { signOffWorkflow } from '../sign-off/workflow';
import {
  INCIDENT_CLOSE_OUT_FINAL_STATUSES,
  INCIDENT_CLOSE_OUT_STEPS,
  customiseIncidentSummaryReportUpdate,
  incidentCloseOutStateQuery,
  recordIncidentFollowUpUpdate,
  recordIncidentMinutesUpdate,
  reviewIncidentSummaryReportUpdate,
  scheduleIncidentReviewMeetingUpdate,
  submitIncidentGroupSummaryUpdate,
  submitIncidentSummaryReportUpdate,
  type CloseOutAlertKind,
  type IncidentCloseOutInput,
  type IncidentCloseOutResult,
  type IncidentCloseOutState,
  type IncidentCloseOutStatus,
} from './definitions';

// Every step as every process runs its steps (STEP_ACTIVITY_OPTIONS says why).
const activities = proxyLocalActivities<Activities>(STEP_ACTIVITY_OPTIONS);

const STATUS_WORDS: Record<IncidentCloseOutStatus, string> = {
  reporting: 'waits for its reports, follow-up and group summary',
  review_meeting: 'waits for the review meeting and its minutes',
  archived: 'is archived',
  superseded: 'was superseded: the incident reopened',
};

/** The incident report is signed by the customer only (the same step as fault repair's service report). */
const INCIDENT_REPORT_STEPS: SignOffStep[] = ['customer_signature'];

/** A refusal (409) of a step that does not fit the round's progress. */
function refuse(message: string): never {
  throw ApplicationFailure.create({ type: INVALID_TRANSITION, message });
}

/**
 * An incident's close-out, one round per restoration (P2 "After restoration"; 003 2.2 steps 8-15;
 * 004 第八部分 240-280), started by the incident as a child. The round's deadlines are computed once
 * by an activity from the business calendar and recorded: the summary report reviewed and customised
 * within 1 working day (its writer chased on the morning of the due day, the managers told once when
 * it passes), the follow-up within 2 days (the desk chased at the deadline), the group summary within
 * a week (the coordinator chased at the deadline). The incident report goes through the sign-off
 * (customer only). All four in -> the review meeting (an iCalendar invitation to each attendee) and
 * its minutes -> archived. Cancelled by the incident when the same symptom recurs within 24 h: the
 * round is recorded as superseded (its unsigned incident report withdrawn) and returns no archive.
 */
export async function incidentCloseOutWorkflow(input: IncidentCloseOutInput): Promise<IncidentCloseOutResult> {
  const { caseId, caseNumber, round } = input;
  const state: IncidentCloseOutState = {
    caseNumber,
    round,
    status: 'reporting',
    restoredAt: input.restoredAt,
    interruptedAt: input.interruptedAt,
    incidentReport: null,
    summaryReport: { dueAt: null, chaseAt: null, chasedAt: null, missedAt: null, state: 'awaiting', version: 0, deliveredAt: null },
    followUp: { dueAt: null, chasedAt: null, doneAt: null },
    groupSummary: { dueAt: null, chasedAt: null, submittedAt: null },
    meeting: { startsAt: null, endsAt: null, bookings: 0, minutesRecordedAt: null },
    archivedAt: null,
    supersededAt: null,
  };
  const steps = createCaseSteps({ state, subject: `the close-out of incident ${caseNumber} (round ${round})`, statusWords: STATUS_WORDS, serialized: true });
  // A superseded or archived round refuses every step at once, even while its last steps (cancelled ones included) still hold the queue.
  const stepUpdate = <Arg>(definition: UpdateDefinition<IncidentCloseOutState, [Arg]>, rule: StepRule<IncidentCloseOutStatus>, step: (arg: Arg) => Promise<IncidentCloseOutStatus>, validateInput?: (arg: Arg) => void): void =>
    steps.update(definition, rule, step, () => state, (arg) => {
      if (INCIDENT_CLOSE_OUT_FINAL_STATUSES.includes(state.status)) refuse(`cannot ${rule.action}: the close-out of incident ${caseNumber} (round ${round}) ${STATUS_WORDS[state.status]}`);
      validateInput?.(arg);
    });
  const now = () => new Date().toISOString();
  const closeOut = { caseId, round };

  setHandler(incidentCloseOutStateQuery, () => state);
  setHandler(documentChangedSignal, (change) => {
    if (state.incidentReport?.documentId === change.documentId) state.incidentReport = { documentId: change.documentId, status: change.status, version: change.version };
  });

  // The summary report: written (again after it came back), reviewed, customised and delivered.
  const summaryOpenForWriting = (): void => {
    const { state: summary, version } = state.summaryReport;
    if (summary === 'submitted') refuse(`cannot submit the summary report: version ${version} waits for the manager's review`);
    if (summary === 'approved') refuse(`cannot submit the summary report: version ${version} was approved and waits to be customised for the customer`);
    if (summary === 'delivered') refuse(`cannot submit the summary report: version ${version} was delivered to the customer at ${state.summaryReport.deliveredAt}`);
  };
  stepUpdate(
    submitIncidentSummaryReportUpdate,
    INCIDENT_CLOSE_OUT_STEPS.submitSummaryReport,
    async (arg) => {
      summaryOpenForWriting();
      const version = state.summaryReport.version + 1;
      await activities.recordIncidentSummaryReport({ ...closeOut, stamp: arg, at: now(), userId: arg.userId, version, content: arg.content });
      state.summaryReport.version = version;
      state.summaryReport.state = 'submitted';
      return state.status;
    },
    () => summaryOpenForWriting(),
  );

  const summaryInReview = (): void => {
    const summary = state.summaryReport.state;
    if (summary === 'awaiting' || summary === 'returned') refuse('cannot review the summary report: no version waits for review');
    if (summary !== 'submitted') refuse(`cannot review the summary report: version ${state.summaryReport.version} is ${summary}`);
  };
  stepUpdate(
    reviewIncidentSummaryReportUpdate,
    INCIDENT_CLOSE_OUT_STEPS.reviewSummaryReport,
    async (arg) => {
      summaryInReview();
      await activities.recordIncidentSummaryReportReview({ ...closeOut, stamp: arg, at: now(), version: state.summaryReport.version, decision: arg.decision, comment: arg.comment });
      state.summaryReport.state = arg.decision;
      return state.status;
    },
    () => summaryInReview(),
  );

  const summaryApproved = (): void => {
    const summary = state.summaryReport.state;
    if (summary === 'delivered') refuse(`cannot customise the summary report: it was delivered at ${state.summaryReport.deliveredAt}`);
    if (summary !== 'approved') refuse(`cannot customise the summary report: the manager approves a version first (it is ${summary === 'awaiting' ? 'not written' : summary})`);
  };
  stepUpdate(
    customiseIncidentSummaryReportUpdate,
    INCIDENT_CLOSE_OUT_STEPS.customiseSummaryReport,
    async (arg) => {
      summaryApproved();
      const at = now();
      await activities.deliverIncidentSummaryReport({ ...closeOut, stamp: arg, at, version: state.summaryReport.version, customised: arg.customised, dueAt: state.summaryReport.dueAt });
      state.summaryReport.state = 'delivered';
      state.summaryReport.deliveredAt = at;
      return state.status;
    },
    () => summaryApproved(),
  );

  const followUpOpen = (): void => {
    if (state.followUp.doneAt) refuse(`cannot record the follow-up: it was recorded at ${state.followUp.doneAt}`);
  };
  stepUpdate(
    recordIncidentFollowUpUpdate,
    INCIDENT_CLOSE_OUT_STEPS.recordFollowUp,
    async (arg) => {
      followUpOpen();
      const at = now();
      await activities.recordIncidentFollowUp({ ...closeOut, stamp: arg, at, reached: arg.reached, notes: arg.notes, dueAt: state.followUp.dueAt });
      state.followUp.doneAt = at;
      return state.status;
    },
    () => followUpOpen(),
  );

  const groupSummaryOpen = (): void => {
    if (state.groupSummary.submittedAt) refuse(`cannot submit the group summary: it was submitted at ${state.groupSummary.submittedAt}`);
  };
  stepUpdate(
    submitIncidentGroupSummaryUpdate,
    INCIDENT_CLOSE_OUT_STEPS.submitGroupSummary,
    async (arg) => {
      groupSummaryOpen();
      const at = now();
      await activities.recordIncidentGroupSummary({ ...closeOut, stamp: arg, at, summary: arg.summary, lessons: arg.lessons, dueAt: state.groupSummary.dueAt });
      state.groupSummary.submittedAt = at;
      return state.status;
    },
    () => groupSummaryOpen(),
  );

  // The review meeting: booked (again: the same calendar entry, a higher SEQUENCE) until its minutes are in.
  const meetingOpen = (): void => {
    if (state.meeting.minutesRecordedAt) refuse(`cannot schedule the review meeting: its minutes were recorded at ${state.meeting.minutesRecordedAt}`);
  };
  stepUpdate(scheduleIncidentReviewMeetingUpdate, INCIDENT_CLOSE_OUT_STEPS.scheduleReviewMeeting, async (arg) => {
    meetingOpen();
    const booking = state.meeting.bookings + 1;
    await activities.scheduleIncidentReviewMeeting({ ...closeOut, stamp: arg, at: now(), booking, startsAt: arg.startsAt, endsAt: arg.endsAt, location: arg.location, attendees: arg.attendees });
    state.meeting.bookings = booking;
    state.meeting.startsAt = arg.startsAt;
    state.meeting.endsAt = arg.endsAt;
    return state.status;
  }, () => meetingOpen());

  // Minutes of a meeting that has begun (checked by the workflow's clock, again on its turn).
  const meetingHeld = (): void => {
    if (!state.meeting.startsAt) refuse('cannot record the minutes: no review meeting is scheduled');
    if (Date.now() < Date.parse(state.meeting.startsAt)) refuse(`cannot record the minutes: the review meeting starts at ${state.meeting.startsAt}`);
  };
  stepUpdate(
    recordIncidentMinutesUpdate,
    INCIDENT_CLOSE_OUT_STEPS.recordMinutes,
    async (arg) => {
      meetingHeld();
      const at = now();
      await activities.recordIncidentReviewMinutes({ ...closeOut, stamp: arg, at, minutes: arg.minutes, decisions: arg.decisions });
      state.meeting.minutesRecordedAt = at;
      return state.status;
    },
    () => meetingHeld(),
  );

  const clocks: Promise<void>[] = [];
  try {
    // The round: its row, its deadlines (computed once, from the calendar in force) and the incident report.
    await steps.run(async () => {
      const started = await activities.startIncidentCloseOut({ ...closeOut, caseNumber, restoredAt: input.restoredAt, interruptedAt: input.interruptedAt, documentId: uuid4(), steps: INCIDENT_REPORT_STEPS, at: now() });
      state.summaryReport.dueAt = started.deadlines.summaryReportDueAt;
      state.summaryReport.chaseAt = started.deadlines.summaryReportChaseAt;
      state.followUp.dueAt = started.deadlines.followUpDueAt;
      state.groupSummary.dueAt = started.deadlines.groupSummaryDueAt;
      state.incidentReport = { documentId: started.documentId, status: 'awaiting_version', version: 0 };
      // Not tied to this workflow's cancellation: a superseded round withdraws its report through the sign-off (below).
      await CancellationScope.nonCancellable(() =>
        startChild(signOffWorkflow, {
          workflowId: signOffWorkflowId(started.documentId),
          args: [{ documentId: started.documentId, caseId, kind: 'incident_report', steps: INCIDENT_REPORT_STEPS, parentWorkflowId: workflowInfo().workflowId }],
        }),
      );
    });
    // A clock cancelled with the round ends quietly; the round's own cancellation is handled below.
    const quietOnCancel = (clock: Promise<void>) =>
      clock.catch((error: unknown) => {
        if (!isCancellation(error)) throw error;
      });
    clocks.push(...[runSummaryReportClock(), runFollowUpClock(), runGroupSummaryClock()].map(quietOnCancel));

    const report = state.incidentReport!;
    await condition(() => state.incidentReport?.status === 'signed');
    await steps.run(async () => {
      await activities.recordIncidentReportSigned({ ...closeOut, documentId: report.documentId, version: state.incidentReport!.version, at: now() });
    });

    // Everything written, delivered and followed up: the review meeting discusses it.
    await condition(() => state.summaryReport.state === 'delivered' && state.followUp.doneAt !== null && state.groupSummary.submittedAt !== null);
    await steps.run(async () => {
      await activities.recordIncidentCloseOutReviewDue({ ...closeOut, at: now() });
      state.status = 'review_meeting';
    });

    await condition(() => state.meeting.minutesRecordedAt !== null);
    await Promise.all(clocks);
    await steps.run(async () => {
      const at = now();
      await activities.archiveIncidentCloseOut({ ...closeOut, at });
      state.archivedAt = at;
      state.status = 'archived';
    });
    await condition(allHandlersFinished);
    return { archivedAt: state.archivedAt };
  } catch (error) {
    if (!isCancellation(error)) throw error;
    // The incident reopened: nothing more is chased or accepted; the round is recorded as superseded.
    state.status = 'superseded';
    await Promise.allSettled(clocks);
    return CancellationScope.nonCancellable(async () => {
      const report = state.incidentReport;
      if (report && report.status !== 'signed' && report.status !== 'withdrawn') {
        const told = await getExternalWorkflowHandle(signOffWorkflowId(report.documentId))
          .signal(withdrawDocumentSignal, { actor: 'system', role: 'system', at: now(), reason: `the incident reopened: round ${round} of its close-out is superseded` })
          .then(
            () => true,
            // A sign-off no longer running (ended by an administrator) leaves the report as it stands; the round is superseded all the same.
            () => false,
          );
        // The sign-off records the withdrawal (or a signature that came first) and tells this workflow.
        if (told) await condition(() => state.incidentReport?.status === 'withdrawn' || state.incidentReport?.status === 'signed', '1 minute');
      }
      const at = now();
      await activities.supersedeIncidentCloseOut({ ...closeOut, at });
      state.supersededAt = at;
      return { archivedAt: null };
    });
  }

  /** The summary report: its writer chased on the due day while no version waits for review; the managers told once if not customised by the deadline. */
  async function runSummaryReportClock(): Promise<void> {
    const progress = state.summaryReport;
    const delivered = () => progress.state === 'delivered';
    const notWritten = () => progress.state === 'awaiting' || progress.state === 'returned';
    if (!(await untilOr(delivered, progress.chaseAt!))) {
      await alert('summary_report_chase', progress.dueAt!, notWritten, (at) => (progress.chasedAt = at));
    }
    if (await untilOr(delivered, progress.dueAt!)) return;
    await alert('summary_report_missed', progress.dueAt!, () => !delivered(), (at) => (progress.missedAt = at));
  }

  /** The follow-up: the desk chased at its deadline. */
  async function runFollowUpClock(): Promise<void> {
    const progress = state.followUp;
    if (await untilOr(() => progress.doneAt !== null, progress.dueAt!)) return;
    await alert('follow_up_due', progress.dueAt!, () => progress.doneAt === null, (at) => (progress.chasedAt = at));
  }

  /** The group summary: the coordinator chased at its deadline. */
  async function runGroupSummaryClock(): Promise<void> {
    const progress = state.groupSummary;
    if (await untilOr(() => progress.submittedAt !== null, progress.dueAt!)) return;
    await alert('group_summary_due', progress.dueAt!, () => progress.submittedAt === null, (at) => (progress.chasedAt = at));
  }

  /** A deadline alert, in turn with the human steps, sent only if still true on its turn. */
  async function alert(kind: CloseOutAlertKind, dueAt: string, stillDue: () => boolean, record: (at: string) => void): Promise<void> {
    await steps.run(async () => {
      if (!stillDue()) return;
      const at = now();
      await activities.recordIncidentCloseOutAlert({ ...closeOut, kind, dueAt, at });
      record(at);
    });
  }
}
