import type { temporal } from '@temporalio/proto';
import type { ClockTimer } from './clock';
import type { RpcError } from './errors';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
export type Payloads = temporal.api.common.v1.IPayloads;
export type Payload = temporal.api.common.v1.IPayload;
export type Failure = temporal.api.failure.v1.IFailure;
export type RetryPolicy = temporal.api.common.v1.IRetryPolicy;
export type Header = temporal.api.common.v1.IHeader;
export type WorkflowQuery = temporal.api.query.v1.IWorkflowQuery;
export type UpdateRequest = temporal.api.update.v1.IRequest;
export type UpdateOutcome = temporal.api.update.v1.IOutcome;
export type WorkflowExecutionStatus = temporal.api.enums.v1.WorkflowExecutionStatus;
export type ParentClosePolicy = temporal.api.enums.v1.ParentClosePolicy;

export interface WorkflowTask {
  readonly id: number;
  readonly attempt: number;
  /** Scheduled without an event (an Update on an idle workflow); discarded if it only rejects. */
  speculative: boolean;
  scheduledEventId: number;
  startedEventId: number;
  scheduledTimeMs: number;
  startedTimeMs: number | undefined;
  /** Synthesized scheduled/started events of a started speculative task, written if the task is kept. */
  unwrittenEvents: HistoryEvent[];
  /** Queries answered through this task's `queries` map. */
  queries: PendingQuery[];
  /** Update ids sent to the worker as protocol messages in this task. */
  deliveredUpdates: string[];
  timeout: ClockTimer | undefined;
  /** The queue the task is dispatched to: the run's normal queue or its worker's sticky queue. */
  queue: string;
  /** Dispatched to the run's sticky queue: started with only the events after the last completed task. */
  sticky: boolean;
  /** Sticky schedule-to-start timeout: moves the task back to the normal queue. */
  stickyTimeout: ClockTimer | undefined;
}

export interface ActivityRetry {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  maximumAttempts: number;
  nonRetryableErrorTypes: string[];
}

export interface Activity {
  readonly run: WorkflowRun;
  readonly scheduledEventId: number;
  readonly activityId: string;
  readonly activityType: string;
  readonly taskQueue: string;
  readonly header: Header | null | undefined;
  readonly input: Payloads | null | undefined;
  readonly scheduleToCloseMs: number | undefined;
  readonly scheduleToStartMs: number | undefined;
  readonly startToCloseMs: number;
  readonly heartbeatMs: number | undefined;
  readonly retryPolicy: RetryPolicy;
  readonly retry: ActivityRetry;
  readonly firstScheduledTimeMs: number;
  state: 'scheduled' | 'started' | 'backoff';
  attempt: number;
  attemptScheduledTimeMs: number;
  startedTimeMs: number | undefined;
  startedIdentity: string;
  startedRequestId: string;
  heartbeatDetails: Payloads | null | undefined;
  lastHeartbeatTimeMs: number | undefined;
  lastFailure: Failure | undefined;
  cancelRequestedEventId: number | undefined;
  /** In `backoff`: when the next attempt becomes available. */
  retryAtMs: number | undefined;
  timers: ClockTimer[];
  attemptTimers: ClockTimer[];
}

export interface ChildWorkflow {
  readonly initiatedEventId: number;
  readonly namespace: string;
  readonly workflowId: string;
  readonly workflowType: string;
  readonly parentClosePolicy: ParentClosePolicy;
  runId: string | undefined;
  startedEventId: number | undefined;
}

export interface ParentLink {
  readonly namespace: string;
  readonly workflowId: string;
  readonly runId: string;
  readonly initiatedEventId: number;
}

export type QueryOutcome = { answer: Payloads | null | undefined } | { error: RpcError };

export interface PendingQuery {
  readonly id: string;
  readonly run: WorkflowRun;
  readonly query: WorkflowQuery;
  settled: boolean;
  settle(outcome: QueryOutcome): void;
}

/**
 * An event that arrived while a workflow task was started, written after that task's completion.
 * Plain data (it is persisted): the ids it refers to that only exist once written are filled in then.
 */
export type BufferedWrite =
  /** Written as is: signal, cancel request, timer fired, external signal/cancel outcome, child start failure. */
  | { kind: 'event'; event: HistoryEvent }
  /** ActivityTaskStarted (when the attempt had started) then the final event, which gets its id as startedEventId. */
  | { kind: 'activityResult'; started: HistoryEvent | undefined; final: HistoryEvent }
  /** ChildWorkflowExecutionStarted: its id becomes the pending child's startedEventId. */
  | { kind: 'childStarted'; event: HistoryEvent }
  /** A child's close event: startedEventId is taken from the child's started event in the history. */
  | { kind: 'childClosed'; event: HistoryEvent };

export interface UserTimer {
  readonly startedEventId: number;
  readonly dueMs: number;
  timer: ClockTimer;
}

export interface UpdateState {
  readonly updateId: string;
  readonly request: UpdateRequest;
  stage: 'admitted' | 'delivered' | 'accepted' | 'completed';
  acceptedEventId: number | undefined;
  outcome: UpdateOutcome | undefined;
  /** Set when the run closed before the update could complete. */
  abandoned: RpcError | undefined;
}

export interface WorkflowRun {
  readonly namespace: string;
  readonly workflowId: string;
  readonly runId: string;
  readonly firstRunId: string;
  readonly workflowType: string;
  readonly taskQueue: string;
  readonly startRequestId: string;
  readonly workflowTaskTimeoutMs: number;
  readonly runTimeoutMs: number | undefined;
  readonly executionTimeoutMs: number | undefined;
  readonly executionDeadlineMs: number | undefined;
  readonly retryPolicy: RetryPolicy | undefined;
  readonly attempt: number;
  readonly parent: ParentLink | undefined;
  readonly rootWorkflowId: string;
  readonly rootRunId: string;
  readonly startTimeMs: number;
  readonly executionTimeMs: number;
  status: WorkflowExecutionStatus;
  closeTimeMs: number | undefined;
  history: HistoryEvent[];
  /** Events that arrived while a workflow task was started, written after its completion. */
  buffered: BufferedWrite[];
  workflowTask: WorkflowTask | undefined;
  /** Something happened during a started task that needs another task after it. */
  workflowTaskNeeded: boolean;
  lastCompletedStartedEventId: number;
  /** The sticky queue of the worker that completed the last task (its `stickyAttributes`), if any. */
  stickyQueue: string | undefined;
  stickyScheduleToStartMs: number;
  cancelRequested: boolean;
  memo: Record<string, Payload>;
  searchAttributes: Record<string, Payload>;
  activities: Map<number, Activity>;
  timers: Map<string, UserTimer>;
  children: Map<number, ChildWorkflow>;
  updates: Map<string, UpdateState>;
  queriesAwaitingTask: PendingQuery[];
  lifetimeTimers: ClockTimer[];
  /** Called on every history change and state change (long polls). */
  listeners: Set<() => void>;
  /** The run that continued this one (continue-as-new or retry). */
  nextRunId: string | undefined;
}
