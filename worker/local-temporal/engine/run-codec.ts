import { temporal } from '@temporalio/proto';
import { DISARMED } from './clock';
import { durationMs, timestampMs, toNumber } from './convert';
import { DEFAULT_STICKY_SCHEDULE_TO_START_MS, normalizeRetryPolicy, type EngineCounters } from './engine';
import type {
  Activity,
  BufferedWrite,
  ChildWorkflow,
  HistoryEvent,
  ParentLink,
  Payload,
  UpdateState,
  UserTimer,
  WorkflowRun,
  WorkflowTask,
} from './model';

/**
 * The stored form of the engine's runs: plain JSON records, with every protobuf value (history
 * events, payloads, failures, update requests) as base64 of its protobuf encoding. A run is stored
 * as its fixed identity (once), its history events (appended, never rewritten) and its small mutable
 * state (rewritten whole on each change). What the history already holds is not repeated: an
 * activity's parameters come back from its ActivityTaskScheduled event, accepted and completed
 * updates from their events.
 */

const api = temporal.api;
const EventType = api.enums.v1.EventType;

/** Base64 of a protobuf message. */
type Encoded = string;

export interface StoredRunIdentity {
  namespace: string;
  workflowId: string;
  runId: string;
  firstRunId: string;
  workflowType: string;
  taskQueue: string;
  startRequestId: string;
  workflowTaskTimeoutMs: number;
  runTimeoutMs?: number;
  executionTimeoutMs?: number;
  executionDeadlineMs?: number;
  retryPolicy?: Encoded;
  attempt: number;
  parent?: ParentLink;
  rootWorkflowId: string;
  rootRunId: string;
  startTimeMs: number;
  executionTimeMs: number;
}

interface StoredWorkflowTask {
  id: number;
  attempt: number;
  scheduledEventId: number;
  startedEventId: number;
  scheduledTimeMs: number;
  startedTimeMs?: number;
}

interface StoredActivity {
  scheduledEventId: number;
  state: Activity['state'];
  attempt: number;
  attemptScheduledTimeMs: number;
  startedTimeMs?: number;
  startedIdentity: string;
  startedRequestId: string;
  heartbeatDetails?: Encoded;
  lastHeartbeatTimeMs?: number;
  lastFailure?: Encoded;
  cancelRequestedEventId?: number;
  retryAtMs?: number;
}

type StoredBufferedWrite =
  | { kind: 'event' | 'childStarted' | 'childClosed'; event: Encoded }
  | { kind: 'activityResult'; started?: Encoded; final: Encoded };

export interface StoredRunState {
  status: number;
  closeTimeMs?: number;
  lastCompletedStartedEventId: number;
  cancelRequested: boolean;
  workflowTaskNeeded: boolean;
  nextRunId?: string;
  memo: Record<string, Encoded>;
  searchAttributes: Record<string, Encoded>;
  /** Not a speculative one: that one leaves no trace and is scheduled again for its updates. */
  workflowTask?: StoredWorkflowTask;
  activities: StoredActivity[];
  timers: Array<{ timerId: string; startedEventId: number; dueMs: number }>;
  children: ChildWorkflow[];
  /** Updates not accepted yet (accepted and completed ones are in the history). */
  pendingUpdates: Array<{ updateId: string; request: Encoded }>;
  buffered: StoredBufferedWrite[];
}

export type StoredRecord =
  | {
      kind: 'run';
      runId: string;
      /** Present the first time a run is stored (and in snapshots). */
      identity?: StoredRunIdentity;
      /** Index in the history of the first event of `events` (the events stored before it are not repeated). */
      firstEventIndex: number;
      events: Encoded[];
      state: StoredRunState;
    }
  | { kind: 'deleted'; runId: string }
  | ({ kind: 'counters'; skippedMs: number } & EngineCounters);

function encode<T>(type: { encode(message: T): { finish(): Uint8Array } }, message: T): Encoded {
  return Buffer.from(type.encode(message).finish()).toString('base64');
}

function decode<T>(type: { decode(bytes: Uint8Array): T }, encoded: Encoded): T {
  return type.decode(Buffer.from(encoded, 'base64'));
}

const encodeEvent = (event: HistoryEvent): Encoded => encode(api.history.v1.HistoryEvent, event);
const decodeEvent = (encoded: Encoded): HistoryEvent => decode(api.history.v1.HistoryEvent, encoded);

function encodePayloadMap(map: Record<string, Payload>): Record<string, Encoded> {
  return Object.fromEntries(Object.entries(map).map(([name, payload]) => [name, encode(api.common.v1.Payload, payload)]));
}

function decodePayloadMap(map: Record<string, Encoded>): Record<string, Payload> {
  return Object.fromEntries(Object.entries(map).map(([name, encoded]) => [name, decode(api.common.v1.Payload, encoded)]));
}

function encodeBufferedWrite(write: BufferedWrite): StoredBufferedWrite {
  if (write.kind === 'activityResult') {
    return { kind: 'activityResult', started: write.started && encodeEvent(write.started), final: encodeEvent(write.final) };
  }
  return { kind: write.kind, event: encodeEvent(write.event) };
}

function decodeBufferedWrite(write: StoredBufferedWrite): BufferedWrite {
  if (write.kind === 'activityResult') {
    return { kind: 'activityResult', started: write.started === undefined ? undefined : decodeEvent(write.started), final: decodeEvent(write.final) };
  }
  return { kind: write.kind, event: decodeEvent(write.event) };
}

function identityOf(run: WorkflowRun): StoredRunIdentity {
  return {
    namespace: run.namespace,
    workflowId: run.workflowId,
    runId: run.runId,
    firstRunId: run.firstRunId,
    workflowType: run.workflowType,
    taskQueue: run.taskQueue,
    startRequestId: run.startRequestId,
    workflowTaskTimeoutMs: run.workflowTaskTimeoutMs,
    runTimeoutMs: run.runTimeoutMs,
    executionTimeoutMs: run.executionTimeoutMs,
    executionDeadlineMs: run.executionDeadlineMs,
    retryPolicy: run.retryPolicy && encode(api.common.v1.RetryPolicy, run.retryPolicy),
    attempt: run.attempt,
    parent: run.parent,
    rootWorkflowId: run.rootWorkflowId,
    rootRunId: run.rootRunId,
    startTimeMs: run.startTimeMs,
    executionTimeMs: run.executionTimeMs,
  };
}

function stateOf(run: WorkflowRun): StoredRunState {
  const task = run.workflowTask;
  return {
    status: run.status,
    closeTimeMs: run.closeTimeMs,
    lastCompletedStartedEventId: run.lastCompletedStartedEventId,
    cancelRequested: run.cancelRequested,
    workflowTaskNeeded: run.workflowTaskNeeded,
    nextRunId: run.nextRunId,
    memo: encodePayloadMap(run.memo),
    searchAttributes: encodePayloadMap(run.searchAttributes),
    workflowTask:
      task && !task.speculative
        ? {
            id: task.id,
            attempt: task.attempt,
            scheduledEventId: task.scheduledEventId,
            startedEventId: task.startedEventId,
            scheduledTimeMs: task.scheduledTimeMs,
            startedTimeMs: task.startedTimeMs,
          }
        : undefined,
    activities: [...run.activities.values()].map((activity) => ({
      scheduledEventId: activity.scheduledEventId,
      state: activity.state,
      attempt: activity.attempt,
      attemptScheduledTimeMs: activity.attemptScheduledTimeMs,
      startedTimeMs: activity.startedTimeMs,
      startedIdentity: activity.startedIdentity,
      startedRequestId: activity.startedRequestId,
      heartbeatDetails: activity.heartbeatDetails ? encode(api.common.v1.Payloads, activity.heartbeatDetails) : undefined,
      lastHeartbeatTimeMs: activity.lastHeartbeatTimeMs,
      lastFailure: activity.lastFailure && encode(api.failure.v1.Failure, activity.lastFailure),
      cancelRequestedEventId: activity.cancelRequestedEventId,
      retryAtMs: activity.retryAtMs,
    })),
    timers: [...run.timers.entries()].map(([timerId, timer]) => ({ timerId, startedEventId: timer.startedEventId, dueMs: timer.dueMs })),
    children: [...run.children.values()],
    pendingUpdates: [...run.updates.values()]
      .filter((update) => update.stage === 'admitted' || update.stage === 'delivered')
      .map((update) => ({ updateId: update.updateId, request: encode(api.update.v1.Request, update.request) })),
    buffered: run.buffered.map(encodeBufferedWrite),
  };
}

/** The record of a run's change: the events from `firstEventIndex` on, and its whole mutable state. */
export function runRecord(run: WorkflowRun, firstEventIndex: number, withIdentity: boolean): StoredRecord {
  return {
    kind: 'run',
    runId: run.runId,
    identity: withIdentity ? identityOf(run) : undefined,
    firstEventIndex,
    events: run.history.slice(firstEventIndex).map(encodeEvent),
    state: stateOf(run),
  };
}

/** A run as the records left it: identity, every event, latest state. */
export interface StoredRun {
  identity: StoredRunIdentity;
  events: Encoded[];
  state: StoredRunState;
}

/** What the records describe: the runs in creation order, and the counters. */
export interface StoredEngineState {
  runs: StoredRun[];
  counters: EngineCounters;
  skippedMs: number | undefined;
}

/** Applies records in order (a snapshot's, then the journal's) into the state they describe. */
export function replayRecords(records: Iterable<StoredRecord>): StoredEngineState {
  const runs = new Map<string, StoredRun>();
  const counters: EngineCounters = { nextTaskId: 1, nextEventTaskId: 1 };
  let skippedMs: number | undefined;
  for (const record of records) {
    switch (record.kind) {
      case 'run': {
        const known = runs.get(record.runId);
        if (!known) {
          if (!record.identity) throw new Error(`stored state: run ${record.runId} changed before it was created`);
          if (record.firstEventIndex !== 0) throw new Error(`stored state: run ${record.runId} starts at event ${record.firstEventIndex}`);
          runs.set(record.runId, { identity: record.identity, events: [...record.events], state: record.state });
          break;
        }
        if (record.firstEventIndex !== known.events.length) {
          throw new Error(`stored state: run ${record.runId} has ${known.events.length} events, a record appends at ${record.firstEventIndex}`);
        }
        known.events.push(...record.events);
        known.state = record.state;
        break;
      }
      case 'deleted':
        runs.delete(record.runId);
        break;
      case 'counters':
        counters.nextTaskId = record.nextTaskId;
        counters.nextEventTaskId = record.nextEventTaskId;
        skippedMs = record.skippedMs;
        break;
    }
  }
  return { runs: [...runs.values()], counters, skippedMs };
}

function reviveActivity(run: WorkflowRun, stored: StoredActivity): Activity {
  const scheduled = run.history[stored.scheduledEventId - 1];
  const attributes = scheduled?.activityTaskScheduledEventAttributes;
  if (!scheduled || !attributes) throw new Error(`stored state: run ${run.runId} has no ActivityTaskScheduled event ${stored.scheduledEventId}`);
  const retryPolicy = attributes.retryPolicy ?? {};
  return {
    run,
    scheduledEventId: stored.scheduledEventId,
    activityId: attributes.activityId ?? '',
    activityType: attributes.activityType?.name ?? '',
    taskQueue: attributes.taskQueue?.name ?? run.taskQueue,
    header: attributes.header,
    input: attributes.input,
    scheduleToCloseMs: durationMs(attributes.scheduleToCloseTimeout),
    scheduleToStartMs: durationMs(attributes.scheduleToStartTimeout),
    startToCloseMs: durationMs(attributes.startToCloseTimeout) ?? 0,
    heartbeatMs: durationMs(attributes.heartbeatTimeout),
    retryPolicy,
    retry: normalizeRetryPolicy(retryPolicy),
    firstScheduledTimeMs: timestampMs(scheduled.eventTime) ?? 0,
    state: stored.state,
    attempt: stored.attempt,
    attemptScheduledTimeMs: stored.attemptScheduledTimeMs,
    startedTimeMs: stored.startedTimeMs,
    startedIdentity: stored.startedIdentity,
    startedRequestId: stored.startedRequestId,
    heartbeatDetails: stored.heartbeatDetails === undefined ? undefined : decode(api.common.v1.Payloads, stored.heartbeatDetails),
    lastHeartbeatTimeMs: stored.lastHeartbeatTimeMs,
    lastFailure: stored.lastFailure === undefined ? undefined : decode(api.failure.v1.Failure, stored.lastFailure),
    cancelRequestedEventId: stored.cancelRequestedEventId,
    retryAtMs: stored.retryAtMs,
    timers: [],
    attemptTimers: [],
  };
}

/** Accepted and completed updates, from their history events; then the ones not accepted yet. */
function reviveUpdates(history: HistoryEvent[], pending: StoredRunState['pendingUpdates']): Map<string, UpdateState> {
  const updates = new Map<string, UpdateState>();
  for (const event of history) {
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) {
      const accepted = event.workflowExecutionUpdateAcceptedEventAttributes;
      const updateId = accepted?.protocolInstanceId ?? '';
      updates.set(updateId, {
        updateId,
        request: accepted?.acceptedRequest ?? {},
        stage: 'accepted',
        acceptedEventId: toNumber(event.eventId),
        outcome: undefined,
        abandoned: undefined,
      });
    } else if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED) {
      const completed = event.workflowExecutionUpdateCompletedEventAttributes;
      const update = updates.get(completed?.meta?.updateId ?? '');
      if (update) {
        update.stage = 'completed';
        update.outcome = completed?.outcome ?? {};
      }
    }
  }
  for (const { updateId, request } of pending) {
    updates.set(updateId, {
      updateId,
      request: decode(api.update.v1.Request, request),
      stage: 'admitted',
      acceptedEventId: undefined,
      outcome: undefined,
      abandoned: undefined,
    });
  }
  return updates;
}

function reviveWorkflowTask(run: WorkflowRun, stored: StoredWorkflowTask): WorkflowTask {
  // Sticky bindings are not kept (the sticky worker did not survive): the task is on the normal queue.
  return {
    id: stored.id,
    attempt: stored.attempt,
    speculative: false,
    scheduledEventId: stored.scheduledEventId,
    startedEventId: stored.startedEventId,
    scheduledTimeMs: stored.scheduledTimeMs,
    startedTimeMs: stored.startedTimeMs,
    unwrittenEvents: [],
    queries: [],
    deliveredUpdates: [],
    timeout: undefined,
    queue: run.taskQueue,
    sticky: false,
    stickyTimeout: undefined,
  };
}

/**
 * A run rebuilt from its stored form, nothing armed or dispatched yet (the engine's `restore` does
 * that): timers hold their due times, tasks are not on any queue.
 */
export function reviveRun(stored: StoredRun): WorkflowRun {
  const { identity, state } = stored;
  const history = stored.events.map(decodeEvent);
  const run: WorkflowRun = {
    namespace: identity.namespace,
    workflowId: identity.workflowId,
    runId: identity.runId,
    firstRunId: identity.firstRunId,
    workflowType: identity.workflowType,
    taskQueue: identity.taskQueue,
    startRequestId: identity.startRequestId,
    workflowTaskTimeoutMs: identity.workflowTaskTimeoutMs,
    runTimeoutMs: identity.runTimeoutMs,
    executionTimeoutMs: identity.executionTimeoutMs,
    executionDeadlineMs: identity.executionDeadlineMs,
    retryPolicy: identity.retryPolicy === undefined ? undefined : decode(api.common.v1.RetryPolicy, identity.retryPolicy),
    attempt: identity.attempt,
    parent: identity.parent,
    rootWorkflowId: identity.rootWorkflowId,
    rootRunId: identity.rootRunId,
    startTimeMs: identity.startTimeMs,
    executionTimeMs: identity.executionTimeMs,
    status: state.status,
    closeTimeMs: state.closeTimeMs,
    history,
    buffered: state.buffered.map(decodeBufferedWrite),
    workflowTask: undefined,
    workflowTaskNeeded: state.workflowTaskNeeded,
    lastCompletedStartedEventId: state.lastCompletedStartedEventId,
    stickyQueue: undefined,
    stickyScheduleToStartMs: DEFAULT_STICKY_SCHEDULE_TO_START_MS,
    cancelRequested: state.cancelRequested,
    memo: decodePayloadMap(state.memo),
    searchAttributes: decodePayloadMap(state.searchAttributes),
    activities: new Map(),
    timers: new Map(),
    children: new Map(state.children.map((child) => [child.initiatedEventId, { ...child }])),
    updates: reviveUpdates(history, state.pendingUpdates),
    queriesAwaitingTask: [],
    lifetimeTimers: [],
    listeners: new Set(),
    nextRunId: state.nextRunId,
  };
  if (state.workflowTask) run.workflowTask = reviveWorkflowTask(run, state.workflowTask);
  for (const activity of state.activities) run.activities.set(activity.scheduledEventId, reviveActivity(run, activity));
  for (const timer of state.timers) {
    const userTimer: UserTimer = { startedEventId: timer.startedEventId, dueMs: timer.dueMs, timer: DISARMED };
    run.timers.set(timer.timerId, userTimer);
  }
  return run;
}
