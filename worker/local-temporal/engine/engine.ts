import { randomUUID } from 'node:crypto';
import { google, temporal } from '@temporalio/proto';
import type { Cancellation } from './cancellation';
import { DISARMED, VirtualClock, type ClockTimer } from './clock';
import { duration, durationMs, int64, timestamp, toNumber } from './convert';
import { invalidArgument, notFound, queryFailed, RpcError, workflowAlreadyStarted } from './errors';
import type {
  Activity,
  ActivityRetry,
  BufferedWrite,
  ChildWorkflow,
  Failure,
  Header,
  HistoryEvent,
  ParentLink,
  Payload,
  Payloads,
  PendingQuery,
  QueryOutcome,
  RetryPolicy,
  UpdateRequest,
  UpdateState,
  UserTimer,
  WorkflowRun,
  WorkflowTask,
} from './model';
import { matchesVisibilityQuery, parseVisibilityQuery } from './visibility';

const api = temporal.api;
const EventType = api.enums.v1.EventType;
const Status = api.enums.v1.WorkflowExecutionStatus;
const TaskQueueKind = api.enums.v1.TaskQueueKind;
const RetryState = api.enums.v1.RetryState;
const TimeoutType = api.enums.v1.TimeoutType;
const CommandType = api.enums.v1.CommandType;
const WorkflowTaskFailedCause = api.enums.v1.WorkflowTaskFailedCause;
const ParentClosePolicy = api.enums.v1.ParentClosePolicy;
const UpdateStage = api.enums.v1.UpdateWorkflowExecutionLifecycleStage;

type Command = temporal.api.command.v1.ICommand;
type ProtocolMessage = temporal.api.protocol.v1.IMessage;
type ExecutionInfo = temporal.api.workflow.v1.IWorkflowExecutionInfo;

/** Long polls answer empty after this long; the SDK simply polls again. */
export const LONG_POLL_TIMEOUT_MS = 20_000;
const DEFAULT_WORKFLOW_TASK_TIMEOUT_MS = 10_000;
const UPDATE_WAIT_MS = 20_000;
/** The SDK sends its own; this is the real server's default when none is given. */
export const DEFAULT_STICKY_SCHEDULE_TO_START_MS = 5_000;
/** A sticky queue nobody polled for this long (wall clock) has no worker: tasks skip it, as in the real server. */
const STICKY_WORKER_UNAVAILABLE_MS = 10_000;

const UPDATE_REQUEST_URL = 'type.googleapis.com/temporal.api.update.v1.Request';
const UPDATE_ACCEPTANCE_URL = 'type.googleapis.com/temporal.api.update.v1.Acceptance';
const UPDATE_REJECTION_URL = 'type.googleapis.com/temporal.api.update.v1.Rejection';
const UPDATE_RESPONSE_URL = 'type.googleapis.com/temporal.api.update.v1.Response';

type WorkflowDispatch =
  | { kind: 'task'; run: WorkflowRun; task: WorkflowTask; queue: string }
  | { kind: 'query'; query: PendingQuery };

interface Poller<T> {
  /** Hands the item to the waiting poll; false when the item is stale (then it is dropped). */
  offer(item: T): boolean;
  /** Answers the poll empty now. */
  release(): void;
  cancelled: boolean;
}

interface TaskQueue {
  workflowBacklog: WorkflowDispatch[];
  activityBacklog: Array<{ activity: Activity; attempt: number }>;
  workflowPollers: Array<Poller<WorkflowDispatch>>;
  activityPollers: Array<Poller<{ activity: Activity; attempt: number }>>;
  /** Wall-clock time of the last workflow poll's start or end (sticky worker availability). */
  lastWorkflowPollMs: number | undefined;
}

type TaskToken =
  | { kind: 'workflow'; runId: string; taskId: number }
  | { kind: 'query'; queryId: string }
  | { kind: 'activity'; runId: string; scheduledEventId: number; attempt: number };

function encodeToken(token: TaskToken): Uint8Array {
  return Buffer.from(JSON.stringify(token));
}

function decodeToken(bytes: Uint8Array | null | undefined): TaskToken {
  try {
    return JSON.parse(Buffer.from(bytes ?? []).toString('utf8')) as TaskToken;
  } catch {
    throw invalidArgument('malformed task token');
  }
}

type StartRequestFields = Pick<
  temporal.api.workflowservice.v1.StartWorkflowExecutionRequest,
  | 'namespace'
  | 'workflowId'
  | 'input'
  | 'header'
  | 'memo'
  | 'searchAttributes'
  | 'workflowExecutionTimeout'
  | 'workflowRunTimeout'
  | 'workflowTaskTimeout'
  | 'retryPolicy'
  | 'identity'
  | 'requestId'
  | 'workflowStartDelay'
>;

/** The run parameters a start and a signal-with-start request share. */
function startParamsOf(request: StartRequestFields, workflowType: string, taskQueue: string) {
  return {
    namespace: request.namespace,
    workflowId: request.workflowId,
    workflowType,
    taskQueue,
    input: request.input,
    header: request.header,
    memo: recordOf(request.memo?.fields),
    searchAttributes: recordOf(request.searchAttributes?.indexedFields),
    executionTimeoutMs: durationMs(request.workflowExecutionTimeout),
    runTimeoutMs: durationMs(request.workflowRunTimeout),
    workflowTaskTimeoutMs: durationMs(request.workflowTaskTimeout),
    retryPolicy: request.retryPolicy,
    identity: request.identity,
    requestId: request.requestId,
    startDelayMs: durationMs(request.workflowStartDelay),
  };
}

interface StartParams {
  namespace: string;
  workflowId: string;
  workflowType: string;
  taskQueue: string;
  input: Payloads | null | undefined;
  header: Header | null | undefined;
  memo: Record<string, Payload>;
  searchAttributes: Record<string, Payload>;
  executionTimeoutMs: number | undefined;
  runTimeoutMs: number | undefined;
  workflowTaskTimeoutMs: number | undefined;
  retryPolicy: RetryPolicy | null | undefined;
  identity: string;
  requestId: string;
  startDelayMs: number | undefined;
  /** Preset when the predecessor's close event already announced it. */
  runId?: string;
  attempt?: number;
  firstRunId?: string;
  executionDeadlineMs?: number;
  parent?: ParentLink;
  root?: { workflowId: string; runId: string };
  continued?: {
    previousRunId: string;
    initiator: temporal.api.enums.v1.ContinueAsNewInitiator;
    lastCompletionResult: Payloads | null | undefined;
    failure: Failure | null | undefined;
  };
  /** Written right after WorkflowExecutionStarted (signal-with-start). */
  initialSignal?: { signalName: string; input: Payloads | null | undefined; header: Header | null | undefined; identity: string };
  /** Eager workflow start: the first workflow task is not dispatched, the start request's caller starts it. */
  keepFirstTask?: boolean;
}

function recordOf(fields: { [k: string]: Payload } | null | undefined): Record<string, Payload> {
  return { ...(fields ?? {}) };
}

function isClosed(run: WorkflowRun): boolean {
  return run.status !== Status.WORKFLOW_EXECUTION_STATUS_RUNNING;
}

/** `WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW` -> `ContinuedAsNew`, as visibility queries spell it. */
function visibilityStatusName(status: temporal.api.enums.v1.WorkflowExecutionStatus): string {
  const name = api.enums.v1.WorkflowExecutionStatus[status] ?? '';
  return name
    .replace('WORKFLOW_EXECUTION_STATUS_', '')
    .split('_')
    .map((word) => word.charAt(0) + word.slice(1).toLowerCase())
    .join('');
}

export interface EngineOptions {
  timeSkipping: boolean;
  startTimeMs?: number | undefined;
  /** Told of every change to a run's durable state (persistence.ts); none: nothing is kept. */
  store?: EngineStore | undefined;
}

/** What a durable store needs to hear from the engine. */
export interface EngineStore {
  runChanged(run: WorkflowRun): void;
  runDeleted(run: WorkflowRun): void;
}

/** Engine-wide counters a restart must continue from (task tokens and event task ids stay unique). */
export interface EngineCounters {
  nextTaskId: number;
  nextEventTaskId: number;
}

/** The in-memory Temporal: executions, histories, task queues and the virtual clock. */
export class TemporalEngine {
  readonly clock: VirtualClock;
  private readonly runsByKey = new Map<string, WorkflowRun[]>();
  private readonly runsById = new Map<string, WorkflowRun>();
  private readonly taskQueues = new Map<string, TaskQueue>();
  private readonly pendingQueries = new Map<string, PendingQuery>();
  private readonly outstandingWorkflowTasks = new Set<WorkflowTask>();
  private readonly outstandingActivities = new Set<Activity>();
  private readonly shutdownListeners = new Set<() => void>();
  private nextTaskId = 1;
  private nextEventTaskId = 1;
  private closed = false;
  private readonly store: EngineStore | undefined;

  private readonly updateWaiters = new WeakMap<UpdateState, Set<() => void>>();

  constructor(options: EngineOptions) {
    this.clock = new VirtualClock(
      options.timeSkipping,
      () => this.outstandingWorkflowTasks.size + this.outstandingActivities.size,
      options.startTimeMs,
    );
    this.store = options.store;
  }

  shutdown(): void {
    this.closed = true;
    this.clock.stop();
    for (const listener of [...this.shutdownListeners]) listener();
  }

  // ---------------------------------------------------------------------------------------------
  // Durable state (persistence.ts stores it; run-codec.ts is its stored form)

  /** Every run, in creation order. */
  runs(): Iterable<WorkflowRun> {
    return this.runsById.values();
  }

  counters(): EngineCounters {
    return { nextTaskId: this.nextTaskId, nextEventTaskId: this.nextEventTaskId };
  }

  /**
   * Takes back the runs of a previous process (revived by run-codec, nothing armed) and resumes
   * them as the real server does after a restart, except that the work the dead process's workers
   * held is given up at once instead of after its timeout (in `npm start` the worker dies with the
   * server, so waiting would only delay recovery): a started workflow task times out
   * (WorkflowTaskTimedOut) and is scheduled again on the normal queue with the full history; a
   * running activity attempt times out (start-to-close) and is retried per its retry policy.
   * Sticky bindings are dropped. Timers that came due meanwhile fire at once.
   */
  restore(runs: readonly WorkflowRun[], counters: EngineCounters): void {
    this.nextTaskId = Math.max(this.nextTaskId, counters.nextTaskId);
    this.nextEventTaskId = Math.max(this.nextEventTaskId, counters.nextEventTaskId);
    for (const run of runs) {
      this.runsById.set(run.runId, run);
      const key = this.key(run.namespace, run.workflowId);
      const sameId = this.runsByKey.get(key) ?? [];
      sameId.push(run);
      this.runsByKey.set(key, sameId);
      if (run.workflowTask) this.nextTaskId = Math.max(this.nextTaskId, run.workflowTask.id + 1);
    }
    for (const run of runs) if (!isClosed(run)) this.resume(run);
    this.clock.requestSkipCheck();
  }

  private resume(run: WorkflowRun): void {
    this.armRunTimeout(run);
    for (const [timerId, timer] of run.timers) this.armUserTimer(run, timerId, timer);
    const firstTaskPending =
      !run.workflowTask && !run.history.some((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
    if (firstTaskPending) this.armDelayedStart(run);
    const task = run.workflowTask;
    if (task) {
      this.outstandingWorkflowTasks.add(task);
      if (task.startedEventId === 0) this.dispatchWorkflow(run.namespace, task.queue, { kind: 'task', run, task, queue: task.queue });
      else this.timeOutWorkflowTask(run, task);
    }
    for (const activity of [...run.activities.values()]) {
      this.armScheduleToCloseTimeout(activity);
      if (activity.state === 'scheduled') {
        this.queueActivityAttempt(activity, true);
      } else if (activity.state === 'backoff') {
        this.armActivityRetry(activity);
      } else {
        this.outstandingActivities.add(activity);
        this.timeOutActivity(activity, activity.attempt, TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE);
      }
    }
    if (!run.workflowTask && !firstTaskPending && !isClosed(run)) {
      const updatesWaiting = [...run.updates.values()].some((update) => update.stage === 'admitted');
      if (run.workflowTaskNeeded) this.scheduleWorkflowTask(run);
      else if (updatesWaiting) this.scheduleWorkflowTask(run, { speculative: true });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Waiting helpers

  /** Resolves when `ready()` holds after a change on `run`, or with false after the timeout/cancel. */
  private waitForRun(run: WorkflowRun, ready: () => boolean, cancellation: Cancellation, timeoutMs: number): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (result: boolean): void => {
        clearTimeout(timer);
        run.listeners.delete(onChange);
        this.shutdownListeners.delete(onAbort);
        stopListening();
        resolve(result);
      };
      const onChange = (): void => {
        if (ready()) finish(true);
      };
      const onAbort = (): void => finish(false);
      const timer = setTimeout(() => finish(false), timeoutMs);
      run.listeners.add(onChange);
      this.shutdownListeners.add(onAbort);
      const stopListening = cancellation.onCancel(onAbort);
    });
  }

  private notifyListeners(run: WorkflowRun): void {
    for (const listener of [...run.listeners]) listener();
  }

  private waitForPoll<T, R>(
    pollers: Array<Poller<T>>,
    build: (item: T) => R | undefined,
    cancellation: Cancellation,
    empty: R,
  ): Promise<R> {
    return new Promise((resolve) => {
      const poller: Poller<T> = {
        cancelled: false,
        offer: (item) => {
          const response = build(item);
          if (response === undefined) return false;
          finish(response);
          return true;
        },
        release: () => finish(empty),
      };
      const finish = (response: R): void => {
        poller.cancelled = true;
        clearTimeout(timer);
        const index = pollers.indexOf(poller);
        if (index >= 0) pollers.splice(index, 1);
        this.shutdownListeners.delete(onAbort);
        stopListening();
        resolve(response);
      };
      const onAbort = (): void => finish(empty);
      const timer = setTimeout(() => finish(empty), LONG_POLL_TIMEOUT_MS);
      pollers.push(poller);
      this.shutdownListeners.add(onAbort);
      const stopListening = cancellation.onCancel(onAbort);
    });
  }

  private taskQueue(namespace: string, name: string): TaskQueue {
    const key = `${namespace}\u0000${name}`;
    let queue = this.taskQueues.get(key);
    if (!queue) {
      queue = { workflowBacklog: [], activityBacklog: [], workflowPollers: [], activityPollers: [], lastWorkflowPollMs: undefined };
      this.taskQueues.set(key, queue);
    }
    return queue;
  }

  private dispatchWorkflow(namespace: string, taskQueueName: string, item: WorkflowDispatch): void {
    const queue = this.taskQueue(namespace, taskQueueName);
    while (queue.workflowPollers.length > 0) {
      const poller = queue.workflowPollers.shift()!;
      if (poller.cancelled) continue;
      if (poller.offer(item)) return;
      return; // stale item: dropped
    }
    queue.workflowBacklog.push(item);
  }

  private dispatchActivity(activity: Activity): void {
    const queue = this.taskQueue(activity.run.namespace, activity.taskQueue);
    const item = { activity, attempt: activity.attempt };
    while (queue.activityPollers.length > 0) {
      const poller = queue.activityPollers.shift()!;
      if (poller.cancelled) continue;
      if (poller.offer(item)) return;
      return;
    }
    queue.activityBacklog.push(item);
  }

  // ---------------------------------------------------------------------------------------------
  // Runs and history

  private key(namespace: string, workflowId: string): string {
    return `${namespace}\u0000${workflowId}`;
  }

  private currentRun(namespace: string, workflowId: string): WorkflowRun | undefined {
    const runs = this.runsByKey.get(this.key(namespace, workflowId));
    return runs?.[runs.length - 1];
  }

  /** The run named by an execution (latest run when runId is empty), or NOT_FOUND. */
  findRun(namespace: string, execution: temporal.api.common.v1.IWorkflowExecution | null | undefined): WorkflowRun {
    const workflowId = execution?.workflowId ?? '';
    const runId = execution?.runId ?? '';
    if (runId) {
      const run = this.runsById.get(runId);
      if (!run || run.workflowId !== workflowId || run.namespace !== namespace) {
        throw notFound(`workflow execution not found for workflow ID "${workflowId}" and run ID "${runId}"`);
      }
      return run;
    }
    const run = this.currentRun(namespace, workflowId);
    if (!run) throw notFound(`workflow execution not found for workflow ID "${workflowId}"`);
    return run;
  }

  private findOpenRun(namespace: string, execution: temporal.api.common.v1.IWorkflowExecution | null | undefined): WorkflowRun {
    const run = this.findRun(namespace, execution);
    if (isClosed(run)) throw notFound('workflow execution already completed');
    return run;
  }

  /** Records that the run's durable state changed (the store writes it before the RPC answers). */
  private touch(run: WorkflowRun): void {
    this.store?.runChanged(run);
  }

  private writeEvent(run: WorkflowRun, event: HistoryEvent): number {
    const eventId = run.history.length + 1;
    run.history.push({
      ...event,
      eventId: int64(eventId),
      eventTime: timestamp(this.clock.now()),
      taskId: int64(this.nextEventTaskId++),
    });
    this.touch(run);
    this.notifyListeners(run);
    return eventId;
  }

  /**
   * An event from outside the running workflow code (signal, activity result, timer...). While a
   * workflow task is started it is buffered and written after that task's completion and commands.
   */
  private deliverEvent(run: WorkflowRun, write: BufferedWrite): void {
    if (isClosed(run)) return;
    const task = run.workflowTask;
    if (task?.speculative && task.startedEventId === 0) this.materializeSpeculativeTask(run, task);
    if (task && task.startedEventId !== 0) {
      run.buffered.push(write);
      run.workflowTaskNeeded = true;
      this.touch(run);
    } else {
      this.writeBuffered(run, write);
      this.scheduleWorkflowTask(run);
    }
    this.clock.requestSkipCheck();
  }

  private deliverPlainEvent(run: WorkflowRun, event: HistoryEvent): void {
    this.deliverEvent(run, { kind: 'event', event });
  }

  private writeBuffered(run: WorkflowRun, write: BufferedWrite): void {
    switch (write.kind) {
      case 'event':
        this.writeEvent(run, write.event);
        return;
      case 'activityResult': {
        const startedEventId = write.started ? this.writeEvent(run, write.started) : 0;
        const attributes =
          write.final.activityTaskCompletedEventAttributes ??
          write.final.activityTaskFailedEventAttributes ??
          write.final.activityTaskTimedOutEventAttributes ??
          write.final.activityTaskCanceledEventAttributes;
        if (attributes) attributes.startedEventId = int64(startedEventId);
        this.writeEvent(run, write.final);
        return;
      }
      case 'childStarted': {
        const eventId = this.writeEvent(run, write.event);
        const initiatedEventId = toNumber(write.event.childWorkflowExecutionStartedEventAttributes?.initiatedEventId);
        const child = run.children.get(initiatedEventId);
        if (child) child.startedEventId = eventId;
        return;
      }
      case 'childClosed': {
        const event = write.event;
        const attributes =
          event.childWorkflowExecutionCompletedEventAttributes ??
          event.childWorkflowExecutionFailedEventAttributes ??
          event.childWorkflowExecutionCanceledEventAttributes ??
          event.childWorkflowExecutionTerminatedEventAttributes ??
          event.childWorkflowExecutionTimedOutEventAttributes;
        if (attributes) attributes.startedEventId = int64(childStartedEventId(run, toNumber(attributes.initiatedEventId)));
        this.writeEvent(run, event);
        return;
      }
    }
  }

  private materializeSpeculativeTask(run: WorkflowRun, task: WorkflowTask): void {
    task.speculative = false;
    if (task.startedEventId === 0) {
      task.scheduledEventId = this.writeScheduledEvent(run, task);
    }
  }

  private writeScheduledEvent(run: WorkflowRun, task: WorkflowTask): number {
    return this.writeEvent(run, {
      eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
      workflowTaskScheduledEventAttributes: {
        taskQueue: this.taskQueueOfTask(run, task),
        startToCloseTimeout: duration(run.workflowTaskTimeoutMs),
        attempt: task.attempt,
      },
    });
  }

  /** The task queue a WorkflowTaskScheduled event names: the sticky one while the task is sticky. */
  private taskQueueOfTask(run: WorkflowRun, task: WorkflowTask): temporal.api.taskqueue.v1.ITaskQueue {
    return task.sticky
      ? { name: task.queue, kind: TaskQueueKind.TASK_QUEUE_KIND_STICKY, normalName: run.taskQueue }
      : { name: run.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL };
  }

  private scheduleWorkflowTask(run: WorkflowRun, options: { speculative?: boolean; attempt?: number; dispatch?: boolean } = {}): void {
    if (isClosed(run) || this.closed) return;
    if (run.workflowTask) {
      if (run.workflowTask.startedEventId !== 0) run.workflowTaskNeeded = true;
      return;
    }
    const attempt = options.attempt ?? 1;
    const speculative = options.speculative ?? false;
    if (run.stickyQueue !== undefined && !this.stickyWorkerAvailable(run.namespace, run.stickyQueue)) {
      // The real server's "sticky worker unavailable": straight to the normal queue.
      run.stickyQueue = undefined;
    }
    const sticky = run.stickyQueue !== undefined;
    const task: WorkflowTask = {
      id: this.nextTaskId++,
      attempt,
      speculative,
      scheduledEventId: 0,
      startedEventId: 0,
      scheduledTimeMs: this.clock.now(),
      startedTimeMs: undefined,
      unwrittenEvents: [],
      queries: [],
      deliveredUpdates: [],
      timeout: undefined,
      queue: run.stickyQueue ?? run.taskQueue,
      sticky,
      stickyTimeout: undefined,
    };
    if (!speculative) task.scheduledEventId = this.writeScheduledEvent(run, task);
    run.workflowTask = task;
    run.workflowTaskNeeded = false;
    this.outstandingWorkflowTasks.add(task);
    for (const query of run.queriesAwaitingTask.splice(0)) task.queries.push(query);
    if (sticky) {
      // Not picked up by the sticky worker in time: the task goes to the normal queue.
      task.stickyTimeout = this.clock.schedule(this.clock.now() + run.stickyScheduleToStartMs, () =>
        this.stickyTaskTimedOut(run, task),
      );
    }
    this.touch(run);
    if (options.dispatch ?? true) this.dispatchWorkflow(run.namespace, task.queue, { kind: 'task', run, task, queue: task.queue });
  }

  private stickyWorkerAvailable(namespace: string, stickyQueue: string): boolean {
    const queue = this.taskQueues.get(`${namespace}\u0000${stickyQueue}`);
    if (!queue) return false;
    if (queue.workflowPollers.some((poller) => !poller.cancelled)) return true;
    return queue.lastWorkflowPollMs !== undefined && Date.now() - queue.lastWorkflowPollMs < STICKY_WORKER_UNAVAILABLE_MS;
  }

  /** Forgets the run's sticky queue; a task waiting there moves to the normal queue (full history). */
  private clearStickiness(run: WorkflowRun): void {
    run.stickyQueue = undefined;
    const task = run.workflowTask;
    if (!task || !task.sticky || task.startedEventId !== 0 || isClosed(run)) return;
    task.stickyTimeout?.cancel();
    task.stickyTimeout = undefined;
    task.sticky = false;
    task.queue = run.taskQueue;
    this.dispatchWorkflow(run.namespace, task.queue, { kind: 'task', run, task, queue: task.queue });
  }

  /**
   * Sticky schedule-to-start timeout: as the real server, WorkflowTaskTimedOut (SCHEDULE_TO_START)
   * and a new task of the same attempt on the normal queue. A speculative task has no event to time
   * out and simply moves.
   */
  private stickyTaskTimedOut(run: WorkflowRun, task: WorkflowTask): void {
    if (run.workflowTask !== task || !task.sticky || task.startedEventId !== 0 || isClosed(run)) return;
    task.stickyTimeout = undefined;
    if (task.speculative) {
      this.clearStickiness(run);
      return;
    }
    run.stickyQueue = undefined;
    this.endWorkflowTask(run, task);
    this.writeEvent(run, {
      eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
      workflowTaskTimedOutEventAttributes: {
        scheduledEventId: int64(task.scheduledEventId),
        startedEventId: int64(0),
        timeoutType: TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START,
      },
    });
    run.queriesAwaitingTask.unshift(...task.queries.filter((query) => !query.settled));
    this.scheduleWorkflowTask(run, { attempt: task.attempt });
  }

  private endWorkflowTask(run: WorkflowRun, task: WorkflowTask): void {
    task.timeout?.cancel();
    task.stickyTimeout?.cancel();
    this.outstandingWorkflowTasks.delete(task);
    if (run.workflowTask === task) run.workflowTask = undefined;
    this.touch(run);
    this.clock.requestSkipCheck();
  }

  /** The open run an external signal or cancel targets, or undefined when there is none (the failure event says so). */
  private openRunOrUndefined(namespace: string, execution: temporal.api.common.v1.IWorkflowExecution): WorkflowRun | undefined {
    try {
      return this.findOpenRun(namespace, execution);
    } catch {
      return undefined;
    }
  }

  private flushBuffered(run: WorkflowRun): boolean {
    const writes = run.buffered.splice(0);
    for (const write of writes) this.writeBuffered(run, write);
    return writes.length > 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Starting workflows

  private createRun(params: StartParams): WorkflowRun {
    const now = this.clock.now();
    const runId = params.runId ?? randomUUID();
    const executionDeadlineMs =
      params.executionDeadlineMs ?? (params.executionTimeoutMs ? now + params.executionTimeoutMs : undefined);
    const run: WorkflowRun = {
      namespace: params.namespace,
      workflowId: params.workflowId,
      runId,
      firstRunId: params.firstRunId ?? runId,
      workflowType: params.workflowType,
      taskQueue: params.taskQueue,
      startRequestId: params.requestId,
      workflowTaskTimeoutMs: params.workflowTaskTimeoutMs ?? DEFAULT_WORKFLOW_TASK_TIMEOUT_MS,
      runTimeoutMs: params.runTimeoutMs,
      executionTimeoutMs: params.executionTimeoutMs,
      executionDeadlineMs,
      retryPolicy: params.retryPolicy ?? undefined,
      attempt: params.attempt ?? 1,
      parent: params.parent,
      rootWorkflowId: params.root?.workflowId ?? params.workflowId,
      rootRunId: params.root?.runId ?? runId,
      startTimeMs: now,
      executionTimeMs: now + (params.startDelayMs ?? 0),
      status: Status.WORKFLOW_EXECUTION_STATUS_RUNNING,
      closeTimeMs: undefined,
      history: [],
      buffered: [],
      workflowTask: undefined,
      workflowTaskNeeded: false,
      lastCompletedStartedEventId: 0,
      stickyQueue: undefined,
      stickyScheduleToStartMs: DEFAULT_STICKY_SCHEDULE_TO_START_MS,
      cancelRequested: false,
      memo: params.memo,
      searchAttributes: params.searchAttributes,
      activities: new Map(),
      timers: new Map(),
      children: new Map(),
      updates: new Map(),
      queriesAwaitingTask: [],
      lifetimeTimers: [],
      listeners: new Set(),
      nextRunId: undefined,
    };
    const key = this.key(params.namespace, params.workflowId);
    const runs = this.runsByKey.get(key) ?? [];
    runs.push(run);
    this.runsByKey.set(key, runs);
    this.runsById.set(runId, run);

    this.writeEvent(run, {
      eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
      workflowExecutionStartedEventAttributes: {
        workflowId: params.workflowId,
        workflowType: { name: params.workflowType },
        taskQueue: { name: params.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        input: params.input,
        header: params.header,
        workflowExecutionTimeout: params.executionTimeoutMs ? duration(params.executionTimeoutMs) : null,
        workflowRunTimeout: params.runTimeoutMs ? duration(params.runTimeoutMs) : null,
        workflowTaskTimeout: duration(run.workflowTaskTimeoutMs),
        identity: params.identity,
        originalExecutionRunId: runId,
        firstExecutionRunId: run.firstRunId,
        continuedExecutionRunId: params.continued?.previousRunId ?? '',
        initiator: params.continued?.initiator ?? api.enums.v1.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_UNSPECIFIED,
        lastCompletionResult: params.continued?.lastCompletionResult ?? null,
        continuedFailure: params.continued?.failure ?? null,
        retryPolicy: params.retryPolicy ?? null,
        attempt: run.attempt,
        workflowExecutionExpirationTime: executionDeadlineMs ? timestamp(executionDeadlineMs) : null,
        firstWorkflowTaskBackoff: params.startDelayMs ? duration(params.startDelayMs) : null,
        memo: { fields: params.memo },
        searchAttributes: { indexedFields: params.searchAttributes },
        parentWorkflowNamespace: params.parent?.namespace ?? '',
        parentWorkflowExecution: params.parent ? { workflowId: params.parent.workflowId, runId: params.parent.runId } : null,
        parentInitiatedEventId: int64(params.parent?.initiatedEventId ?? 0),
        rootWorkflowExecution: { workflowId: run.rootWorkflowId, runId: run.rootRunId },
      },
    });
    if (params.initialSignal) {
      this.writeEvent(run, {
        eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        workflowExecutionSignaledEventAttributes: params.initialSignal,
      });
    }

    this.armRunTimeout(run);
    if (params.startDelayMs) {
      this.armDelayedStart(run);
    } else {
      this.scheduleWorkflowTask(run, { dispatch: !params.keepFirstTask });
    }
    return run;
  }

  /** The run's execution and run timeouts: the earlier one times the run out. */
  private armRunTimeout(run: WorkflowRun): void {
    const deadlines = [run.executionDeadlineMs, run.runTimeoutMs ? run.startTimeMs + run.runTimeoutMs : undefined].filter(
      (deadline): deadline is number => deadline !== undefined,
    );
    if (deadlines.length > 0) run.lifetimeTimers.push(this.clock.schedule(Math.min(...deadlines), () => this.timeOutRun(run)));
  }

  /** A start delay (or retry backoff): the first workflow task at the execution time. */
  private armDelayedStart(run: WorkflowRun): void {
    run.lifetimeTimers.push(this.clock.schedule(run.executionTimeMs, () => this.scheduleWorkflowTask(run)));
  }

  /**
   * Applies the id reuse and conflict policies. Returns the existing run to answer with when the
   * start is a duplicate of it (same request id, or USE_EXISTING); undefined when a new run may start.
   */
  private checkStartAllowed(
    namespace: string,
    workflowId: string,
    requestId: string,
    reusePolicy: temporal.api.enums.v1.WorkflowIdReusePolicy,
    conflictPolicy: temporal.api.enums.v1.WorkflowIdConflictPolicy,
  ): WorkflowRun | undefined {
    const existing = this.currentRun(namespace, workflowId);
    if (!existing) return undefined;
    const Reuse = api.enums.v1.WorkflowIdReusePolicy;
    const Conflict = api.enums.v1.WorkflowIdConflictPolicy;
    if (!isClosed(existing)) {
      if (requestId && existing.startRequestId === requestId) return existing;
      if (conflictPolicy === Conflict.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING) return existing;
      if (
        conflictPolicy === Conflict.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING ||
        reusePolicy === Reuse.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING
      ) {
        this.terminateRun(existing, 'terminated by a new start (workflow id conflict policy)', null, 'fieldops-test-server');
        return undefined;
      }
      throw workflowAlreadyStarted(existing.startRequestId, existing.runId);
    }
    if (requestId && existing.startRequestId === requestId) return existing;
    if (reusePolicy === Reuse.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE) {
      throw workflowAlreadyStarted(existing.startRequestId, existing.runId);
    }
    if (reusePolicy === Reuse.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY) {
      if (existing.status === Status.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
        throw workflowAlreadyStarted(existing.startRequestId, existing.runId);
      }
    }
    return undefined;
  }

  startWorkflowExecution(
    request: temporal.api.workflowservice.v1.StartWorkflowExecutionRequest,
  ): temporal.api.workflowservice.v1.IStartWorkflowExecutionResponse {
    if (!request.workflowId) throw invalidArgument('WorkflowId is not set on request.');
    if (!request.workflowType?.name) throw invalidArgument('WorkflowType is not set on request.');
    if (!request.taskQueue?.name) throw invalidArgument('TaskQueue is not set on request.');
    const existing = this.checkStartAllowed(
      request.namespace,
      request.workflowId,
      request.requestId,
      request.workflowIdReusePolicy,
      request.workflowIdConflictPolicy,
    );
    if (existing) return { runId: existing.runId, started: false };
    const params = startParamsOf(request, request.workflowType.name, request.taskQueue.name);
    // Eager workflow start, as the real server with system.enableEagerWorkflowStart (its default):
    // the first workflow task is started at once and returned in the answer; the SDK asks for it
    // only when a worker sharing the client's connection has a free slot. Not with a start delay.
    const eager = request.requestEagerExecution && !params.startDelayMs;
    const run = this.createRun({ ...params, keepFirstTask: eager });
    const firstTask = run.workflowTask;
    const eagerWorkflowTask = eager && firstTask ? this.startWorkflowTask(run, firstTask, request.identity) : undefined;
    return { runId: run.runId, started: true, eagerWorkflowTask: eagerWorkflowTask ?? null };
  }

  signalWithStartWorkflowExecution(
    request: temporal.api.workflowservice.v1.SignalWithStartWorkflowExecutionRequest,
  ): temporal.api.workflowservice.v1.ISignalWithStartWorkflowExecutionResponse {
    if (!request.workflowId) throw invalidArgument('WorkflowId is not set on request.');
    const current = this.currentRun(request.namespace, request.workflowId);
    if (current && !isClosed(current)) {
      this.signalRun(current, request.signalName, request.signalInput, request.header, request.identity);
      return { runId: current.runId, started: false };
    }
    const existing = this.checkStartAllowed(
      request.namespace,
      request.workflowId,
      '',
      request.workflowIdReusePolicy,
      request.workflowIdConflictPolicy,
    );
    if (existing) return { runId: existing.runId, started: false };
    if (!request.workflowType?.name) throw invalidArgument('WorkflowType is not set on request.');
    if (!request.taskQueue?.name) throw invalidArgument('TaskQueue is not set on request.');
    const run = this.createRun({
      ...startParamsOf(request, request.workflowType.name, request.taskQueue.name),
      initialSignal: {
        signalName: request.signalName,
        input: request.signalInput,
        header: request.header,
        identity: request.identity,
      },
    });
    return { runId: run.runId, started: true };
  }

  // ---------------------------------------------------------------------------------------------
  // Workflow tasks

  async pollWorkflowTaskQueue(
    request: temporal.api.workflowservice.v1.PollWorkflowTaskQueueRequest,
    cancellation: Cancellation,
  ): Promise<temporal.api.workflowservice.v1.IPollWorkflowTaskQueueResponse> {
    // A worker's sticky pollers poll its sticky queue (request.taskQueue.kind STICKY), which only
    // receives the tasks of runs whose last task that worker completed.
    const queue = this.taskQueue(request.namespace, request.taskQueue?.name ?? '');
    queue.lastWorkflowPollMs = Date.now();
    const build = (item: WorkflowDispatch): temporal.api.workflowservice.v1.IPollWorkflowTaskQueueResponse | undefined =>
      item.kind === 'task'
        ? item.queue === item.task.queue
          ? this.startWorkflowTask(item.run, item.task, request.identity)
          : undefined // moved to another queue since it was dispatched here
        : this.startQueryTask(item.query);
    while (queue.workflowBacklog.length > 0) {
      const response = build(queue.workflowBacklog.shift()!);
      if (response) return response;
    }
    if (this.closed) return {};
    const response = await this.waitForPoll(queue.workflowPollers, build, cancellation, {});
    queue.lastWorkflowPollMs = Date.now();
    return response;
  }

  private startWorkflowTask(
    run: WorkflowRun,
    task: WorkflowTask,
    identity: string,
  ): temporal.api.workflowservice.v1.IPollWorkflowTaskQueueResponse | undefined {
    if (run.workflowTask !== task || task.startedEventId !== 0 || isClosed(run)) return undefined;
    const now = this.clock.now();
    task.startedTimeMs = now;
    task.stickyTimeout?.cancel();
    task.stickyTimeout = undefined;
    // A sticky task carries only the events after the last completed task's started event (the
    // worker has the rest in its cache), as the real server does; otherwise the whole history.
    const firstEventIndex = task.sticky ? run.lastCompletedStartedEventId : 0;
    let history: HistoryEvent[];
    if (task.speculative) {
      const scheduledEventId = run.history.length + 1;
      const scheduled: HistoryEvent = {
        eventId: int64(scheduledEventId),
        eventTime: timestamp(now),
        taskId: int64(this.nextEventTaskId++),
        eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        workflowTaskScheduledEventAttributes: {
          taskQueue: this.taskQueueOfTask(run, task),
          startToCloseTimeout: duration(run.workflowTaskTimeoutMs),
          attempt: task.attempt,
        },
      };
      const started: HistoryEvent = {
        eventId: int64(scheduledEventId + 1),
        eventTime: timestamp(now),
        taskId: int64(this.nextEventTaskId++),
        eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        workflowTaskStartedEventAttributes: { scheduledEventId: int64(scheduledEventId), identity, requestId: randomUUID() },
      };
      task.scheduledEventId = scheduledEventId;
      task.startedEventId = scheduledEventId + 1;
      task.unwrittenEvents = [scheduled, started];
      history = [...run.history.slice(firstEventIndex), scheduled, started];
    } else {
      task.startedEventId = this.writeEvent(run, {
        eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        workflowTaskStartedEventAttributes: {
          scheduledEventId: int64(task.scheduledEventId),
          identity,
          requestId: randomUUID(),
          historySizeBytes: int64(0),
        },
      });
      history = firstEventIndex > 0 ? run.history.slice(firstEventIndex) : run.history;
    }
    task.timeout = this.clock.schedule(now + run.workflowTaskTimeoutMs, () => this.timeOutWorkflowTask(run, task));
    this.touch(run);

    const messages: ProtocolMessage[] = [];
    for (const update of run.updates.values()) {
      if (update.stage !== 'admitted') continue;
      update.stage = 'delivered';
      task.deliveredUpdates.push(update.updateId);
      messages.push({
        id: `${update.updateId}/request`,
        protocolInstanceId: update.updateId,
        eventId: int64(task.startedEventId - 1),
        body: { type_url: UPDATE_REQUEST_URL, value: api.update.v1.Request.encode(update.request).finish() },
      });
    }
    const queries: Record<string, temporal.api.query.v1.IWorkflowQuery> = {};
    for (const query of task.queries) queries[query.id] = query.query;

    return {
      taskToken: encodeToken({ kind: 'workflow', runId: run.runId, taskId: task.id }),
      workflowExecution: { workflowId: run.workflowId, runId: run.runId },
      workflowType: { name: run.workflowType },
      previousStartedEventId: int64(run.lastCompletedStartedEventId),
      startedEventId: int64(task.startedEventId),
      attempt: task.attempt,
      history: { events: history },
      workflowExecutionTaskQueue: { name: run.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      scheduledTime: timestamp(task.scheduledTimeMs),
      startedTime: timestamp(now),
      queries,
      messages,
    };
  }

  private startedTaskFor(token: Uint8Array): { run: WorkflowRun; task: WorkflowTask } {
    const decoded = decodeToken(token);
    if (decoded.kind !== 'workflow') throw invalidArgument('not a workflow task token');
    const run = this.runsById.get(decoded.runId);
    const task = run?.workflowTask;
    if (!run || !task || task.id !== decoded.taskId || task.startedEventId === 0 || isClosed(run)) {
      throw notFound('Workflow task not found.');
    }
    return { run, task };
  }

  private timeOutWorkflowTask(run: WorkflowRun, task: WorkflowTask): void {
    if (run.workflowTask !== task || isClosed(run)) return;
    if (task.startedEventId === 0) return;
    this.endWorkflowTask(run, task);
    if (task.speculative) {
      this.writeUnwrittenTaskEvents(run, task);
    }
    this.writeEvent(run, {
      eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
      workflowTaskTimedOutEventAttributes: {
        scheduledEventId: int64(task.scheduledEventId),
        startedEventId: int64(task.startedEventId),
        timeoutType: TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE,
      },
    });
    this.requeueAfterFailedTask(run, task, task.attempt + 1);
  }

  private writeUnwrittenTaskEvents(run: WorkflowRun, task: WorkflowTask): void {
    for (const event of task.unwrittenEvents) {
      const { eventId: _eventId, eventTime: _eventTime, ...rest } = event;
      this.writeEvent(run, rest);
    }
    task.unwrittenEvents = [];
    task.speculative = false;
  }

  /** After a failed or timed-out task: undeliver its updates, move its queries, schedule the retry. */
  private requeueAfterFailedTask(run: WorkflowRun, task: WorkflowTask, attempt: number): void {
    // The worker's cached state is not to be trusted any more: the retry goes to the normal queue
    // with the full history.
    run.stickyQueue = undefined;
    for (const updateId of task.deliveredUpdates) {
      const update = run.updates.get(updateId);
      if (update?.stage === 'delivered') update.stage = 'admitted';
    }
    run.queriesAwaitingTask.push(...task.queries.filter((query) => !query.settled));
    this.flushBuffered(run);
    run.workflowTaskNeeded = false;
    this.scheduleWorkflowTask(run, { attempt });
  }

  respondWorkflowTaskFailed(request: temporal.api.workflowservice.v1.RespondWorkflowTaskFailedRequest): object {
    const { run, task } = this.startedTaskFor(request.taskToken);
    this.endWorkflowTask(run, task);
    if (task.speculative) this.writeUnwrittenTaskEvents(run, task);
    this.writeEvent(run, {
      eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
      workflowTaskFailedEventAttributes: {
        scheduledEventId: int64(task.scheduledEventId),
        startedEventId: int64(task.startedEventId),
        cause: request.cause,
        failure: request.failure,
        identity: request.identity,
        binaryChecksum: request.binaryChecksum,
      },
    });
    this.requeueAfterFailedTask(run, task, task.attempt + 1);
    return {};
  }

  respondWorkflowTaskCompleted(
    request: temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedRequest,
  ): temporal.api.workflowservice.v1.IRespondWorkflowTaskCompletedResponse {
    const { run, task } = this.startedTaskFor(request.taskToken);
    this.answerQueries(task, request.queryResults);

    const commands = request.commands ?? [];
    const messages = request.messages ?? [];
    const closesWorkflow = commands.some((command) => isWorkflowClosingCommand(command.commandType));

    if (closesWorkflow && run.buffered.length > 0) {
      // New events arrived while the task ran: the real server refuses to close the workflow and
      // hands those events to a new task.
      this.endWorkflowTask(run, task);
      if (task.speculative) this.writeUnwrittenTaskEvents(run, task);
      this.writeEvent(run, {
        eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        workflowTaskFailedEventAttributes: {
          scheduledEventId: int64(task.scheduledEventId),
          startedEventId: int64(task.startedEventId),
          cause: WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
          identity: request.identity,
        },
      });
      this.requeueAfterFailedTask(run, task, 1);
      // As the real server: the call fails with INVALID_ARGUMENT "UnhandledCommand", which tells the
      // SDK to evict the run it cached (its state ran ahead) and replay it with the new task.
      throw invalidArgument('UnhandledCommand');
    }

    const onlyRejections =
      commands.length === 0 && messages.every((message) => message.body?.type_url === UPDATE_REJECTION_URL);
    if (task.speculative && onlyRejections && run.buffered.length === 0 && !request.forceCreateNewWorkflowTask) {
      // A speculative task that only rejected updates leaves no trace in history.
      this.endWorkflowTask(run, task);
      for (const message of messages) this.applyProtocolMessage(run, message, request.identity);
      this.afterTask(run, false);
      // Tells the worker to forget the discarded task's events: back to the last started task.
      return { resetHistoryEventId: int64(this.lastWorkflowTaskStartedEventId(run)) };
    }

    this.endWorkflowTask(run, task);
    if (task.speculative) this.writeUnwrittenTaskEvents(run, task);
    const completedEventId = this.writeEvent(run, {
      eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
      workflowTaskCompletedEventAttributes: {
        scheduledEventId: int64(task.scheduledEventId),
        startedEventId: int64(task.startedEventId),
        identity: request.identity,
        binaryChecksum: request.binaryChecksum,
        workerVersion: request.workerVersionStamp,
        sdkMetadata: request.sdkMetadata,
        meteringMetadata: request.meteringMetadata,
        deployment: request.deployment,
        versioningBehavior: request.versioningBehavior,
      },
    });
    run.lastCompletedStartedEventId = task.startedEventId;
    // The worker keeps the run cached and asks for its next tasks on its sticky queue.
    const stickyQueue = request.stickyAttributes?.workerTaskQueue?.name;
    if (stickyQueue) {
      run.stickyQueue = stickyQueue;
      run.stickyScheduleToStartMs = durationMs(request.stickyAttributes?.scheduleToStartTimeout) || DEFAULT_STICKY_SCHEDULE_TO_START_MS;
    } else {
      run.stickyQueue = undefined;
    }
    // Delivered updates the worker did not answer go out again with the next task.
    for (const updateId of task.deliveredUpdates) {
      const update = run.updates.get(updateId);
      if (update?.stage === 'delivered') update.stage = 'admitted';
    }

    const messagesById = new Map(messages.map((message) => [message.id ?? '', message]));
    const referenced = new Set(
      commands
        .filter((command) => command.commandType === CommandType.COMMAND_TYPE_PROTOCOL_MESSAGE)
        .map((command) => command.protocolMessageCommandAttributes?.messageId ?? ''),
    );
    for (const message of messages) {
      if (!referenced.has(message.id ?? '')) this.applyProtocolMessage(run, message, request.identity);
    }
    const afterCompletion: Array<() => void> = [];
    const eagerActivities: Activity[] = [];
    let needsTask = request.forceCreateNewWorkflowTask;
    for (const command of commands) {
      if (isClosed(run)) break;
      if (command.commandType === CommandType.COMMAND_TYPE_PROTOCOL_MESSAGE) {
        const message = messagesById.get(command.protocolMessageCommandAttributes?.messageId ?? '');
        if (message) this.applyProtocolMessage(run, message, request.identity);
        continue;
      }
      needsTask = this.applyCommand(run, command, completedEventId, request.identity, afterCompletion, eagerActivities) || needsTask;
    }
    const hadBuffered = this.flushBuffered(run);
    for (const action of afterCompletion) action();
    this.afterTask(run, needsTask || hadBuffered);
    // Activities the worker asked to run eagerly start now and travel back in this answer.
    const activityTasks: temporal.api.workflowservice.v1.IPollActivityTaskQueueResponse[] = [];
    for (const activity of eagerActivities) {
      const task = this.startActivityTask(activity, activity.attempt, request.identity);
      if (task) activityTasks.push(task);
    }
    return { activityTasks };
  }

  private lastWorkflowTaskStartedEventId(run: WorkflowRun): number {
    for (let index = run.history.length - 1; index >= 0; index--) {
      const event = run.history[index]!;
      if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED) return toNumber(event.eventId);
    }
    return 0;
  }

  /** Schedules the next task when needed and routes queries that waited for the finished one. */
  private afterTask(run: WorkflowRun, needsTask: boolean): void {
    const pendingUpdates = [...run.updates.values()].some((update) => update.stage === 'admitted');
    if (!isClosed(run) && (needsTask || run.workflowTaskNeeded || pendingUpdates)) {
      run.workflowTaskNeeded = false;
      this.scheduleWorkflowTask(run);
    }
    run.workflowTaskNeeded = false;
    if (!run.workflowTask || isClosed(run)) {
      for (const query of run.queriesAwaitingTask.splice(0)) this.dispatchQueryTask(query);
    }
    this.notifyListeners(run);
    this.clock.requestSkipCheck();
  }

  private answerQueries(
    task: WorkflowTask,
    results: { [k: string]: temporal.api.query.v1.IWorkflowQueryResult } | null | undefined,
  ): void {
    for (const query of task.queries) {
      const result = results?.[query.id];
      if (!result) continue;
      if (result.resultType === api.enums.v1.QueryResultType.QUERY_RESULT_TYPE_ANSWERED) {
        query.settle({ answer: result.answer });
      } else {
        query.settle({ error: queryFailed(result.errorMessage ?? 'query failed', result.failure) });
      }
    }
    task.queries = task.queries.filter((query) => !query.settled);
  }

  // ---------------------------------------------------------------------------------------------
  // Commands

  /** Applies one command; returns true when it requires a new workflow task right away. */
  private applyCommand(
    run: WorkflowRun,
    command: Command,
    completedEventId: number,
    identity: string,
    afterCompletion: Array<() => void>,
    eagerActivities: Activity[],
  ): boolean {
    const completedId = int64(completedEventId);
    switch (command.commandType) {
      case CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK: {
        const attributes = command.scheduleActivityTaskCommandAttributes ?? {};
        const eager = Boolean(attributes.requestEagerExecution) && (!attributes.taskQueue?.name || attributes.taskQueue.name === run.taskQueue);
        const activity = this.scheduleActivity(run, attributes, completedEventId, !eager);
        if (eager) eagerActivities.push(activity);
        return false;
      }
      case CommandType.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK:
        return this.requestCancelActivity(run, toNumber(command.requestCancelActivityTaskCommandAttributes?.scheduledEventId), completedEventId);
      case CommandType.COMMAND_TYPE_START_TIMER: {
        const attributes = command.startTimerCommandAttributes ?? {};
        const timerId = attributes.timerId ?? '';
        const startedEventId = this.writeEvent(run, {
          eventType: EventType.EVENT_TYPE_TIMER_STARTED,
          timerStartedEventAttributes: {
            timerId,
            startToFireTimeout: attributes.startToFireTimeout,
            workflowTaskCompletedEventId: completedId,
          },
        });
        const dueMs = this.clock.now() + (durationMs(attributes.startToFireTimeout) ?? 0);
        const timer: UserTimer = { startedEventId, dueMs, timer: DISARMED };
        run.timers.set(timerId, timer);
        this.armUserTimer(run, timerId, timer);
        return false;
      }
      case CommandType.COMMAND_TYPE_CANCEL_TIMER: {
        const timerId = command.cancelTimerCommandAttributes?.timerId ?? '';
        const timer = run.timers.get(timerId);
        if (!timer) return false;
        timer.timer.cancel();
        run.timers.delete(timerId);
        this.writeEvent(run, {
          eventType: EventType.EVENT_TYPE_TIMER_CANCELED,
          timerCanceledEventAttributes: {
            timerId,
            startedEventId: int64(timer.startedEventId),
            workflowTaskCompletedEventId: completedId,
            identity,
          },
        });
        return false;
      }
      case CommandType.COMMAND_TYPE_RECORD_MARKER: {
        const attributes = command.recordMarkerCommandAttributes ?? {};
        this.writeEvent(run, {
          eventType: EventType.EVENT_TYPE_MARKER_RECORDED,
          markerRecordedEventAttributes: {
            markerName: attributes.markerName,
            details: attributes.details,
            header: attributes.header,
            failure: attributes.failure,
            workflowTaskCompletedEventId: completedId,
          },
        });
        return false;
      }
      case CommandType.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
        const fields = command.upsertWorkflowSearchAttributesCommandAttributes?.searchAttributes?.indexedFields ?? {};
        mergePayloadMap(run.searchAttributes, fields);
        this.writeEvent(run, {
          eventType: EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
          upsertWorkflowSearchAttributesEventAttributes: {
            searchAttributes: { indexedFields: fields },
            workflowTaskCompletedEventId: completedId,
          },
        });
        return false;
      }
      case CommandType.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES: {
        const fields = command.modifyWorkflowPropertiesCommandAttributes?.upsertedMemo?.fields ?? {};
        mergePayloadMap(run.memo, fields);
        this.writeEvent(run, {
          eventType: EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
          workflowPropertiesModifiedEventAttributes: {
            upsertedMemo: { fields },
            workflowTaskCompletedEventId: completedId,
          },
        });
        return false;
      }
      case CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION: {
        const result = command.completeWorkflowExecutionCommandAttributes?.result;
        this.closeRun(run, Status.WORKFLOW_EXECUTION_STATUS_COMPLETED, () =>
          this.writeEvent(run, {
            eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
            workflowExecutionCompletedEventAttributes: { result, workflowTaskCompletedEventId: completedId },
          }),
        );
        return false;
      }
      case CommandType.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION: {
        const failure = command.failWorkflowExecutionCommandAttributes?.failure ?? null;
        const retry = this.workflowRetry(run, failure);
        const nextRunId = retry ? randomUUID() : '';
        this.closeRun(run, Status.WORKFLOW_EXECUTION_STATUS_FAILED, () =>
          this.writeEvent(run, {
            eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
            workflowExecutionFailedEventAttributes: {
              failure,
              retryState: retry ? RetryState.RETRY_STATE_IN_PROGRESS : retryStateOfRun(run, failure),
              workflowTaskCompletedEventId: completedId,
              newExecutionRunId: nextRunId,
            },
          }),
        );
        if (retry) this.startRetryRun(run, retry.delayMs, failure, nextRunId);
        return false;
      }
      case CommandType.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION: {
        const details = command.cancelWorkflowExecutionCommandAttributes?.details;
        this.closeRun(run, Status.WORKFLOW_EXECUTION_STATUS_CANCELED, () =>
          this.writeEvent(run, {
            eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
            workflowExecutionCanceledEventAttributes: { details, workflowTaskCompletedEventId: completedId },
          }),
        );
        return false;
      }
      case CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
        this.continueAsNew(run, command.continueAsNewWorkflowExecutionCommandAttributes ?? {}, completedEventId);
        return false;
      case CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION:
        this.initiateChild(run, command.startChildWorkflowExecutionCommandAttributes ?? {}, completedEventId, afterCompletion);
        return false;
      case CommandType.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION:
        this.initiateExternalSignal(run, command.signalExternalWorkflowExecutionCommandAttributes ?? {}, completedEventId, afterCompletion);
        return false;
      case CommandType.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION:
        this.initiateExternalCancel(
          run,
          command.requestCancelExternalWorkflowExecutionCommandAttributes ?? {},
          completedEventId,
          afterCompletion,
        );
        return false;
      default:
        throw invalidArgument(
          `command ${api.enums.v1.CommandType[command.commandType ?? 0] ?? String(command.commandType)} is not supported by the fieldops Temporal test server`,
        );
    }
  }

  private armUserTimer(run: WorkflowRun, timerId: string, timer: UserTimer): void {
    timer.timer = this.clock.schedule(timer.dueMs, () => {
      if (run.timers.get(timerId) !== timer) return;
      run.timers.delete(timerId);
      this.deliverPlainEvent(run, {
        eventType: EventType.EVENT_TYPE_TIMER_FIRED,
        timerFiredEventAttributes: { timerId, startedEventId: int64(timer.startedEventId) },
      });
    });
  }

  private applyProtocolMessage(run: WorkflowRun, message: ProtocolMessage, identity: string): void {
    const update = run.updates.get(message.protocolInstanceId ?? '');
    const body = message.body;
    if (!update || !body?.value) return;
    switch (body.type_url) {
      case UPDATE_ACCEPTANCE_URL: {
        const acceptance = api.update.v1.Acceptance.decode(body.value);
        update.acceptedEventId = this.writeEvent(run, {
          eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
          workflowExecutionUpdateAcceptedEventAttributes: {
            protocolInstanceId: update.updateId,
            acceptedRequestMessageId: acceptance.acceptedRequestMessageId,
            acceptedRequestSequencingEventId: acceptance.acceptedRequestSequencingEventId,
            acceptedRequest: update.request,
          },
        });
        update.stage = 'accepted';
        break;
      }
      case UPDATE_REJECTION_URL: {
        const rejection = api.update.v1.Rejection.decode(body.value);
        update.stage = 'completed';
        update.outcome = { failure: rejection.failure };
        run.updates.delete(update.updateId);
        break;
      }
      case UPDATE_RESPONSE_URL: {
        const response = api.update.v1.Response.decode(body.value);
        this.writeEvent(run, {
          eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
          workflowExecutionUpdateCompletedEventAttributes: {
            meta: { updateId: update.updateId, identity },
            acceptedEventId: int64(update.acceptedEventId ?? 0),
            outcome: response.outcome,
          },
        });
        update.stage = 'completed';
        update.outcome = response.outcome ?? {};
        break;
      }
      default:
        break;
    }
    this.notifyListeners(run);
    this.notifyUpdateWaiters(update);
  }

  /** Waiters hold the update itself, since rejected updates are removed from the run. */
  private notifyUpdateWaiters(update: UpdateState): void {
    const waiters = this.updateWaiters.get(update);
    if (waiters) for (const waiter of [...waiters]) waiter();
  }

  // ---------------------------------------------------------------------------------------------
  // Closing runs

  private closeRun(run: WorkflowRun, status: temporal.api.enums.v1.WorkflowExecutionStatus, writeCloseEvent: () => void): void {
    if (isClosed(run)) return;
    run.status = status;
    run.closeTimeMs = this.clock.now();
    writeCloseEvent();
    if (run.workflowTask) this.endWorkflowTask(run, run.workflowTask);
    run.buffered = [];
    for (const timer of run.lifetimeTimers) timer.cancel();
    for (const { timer } of run.timers.values()) timer.cancel();
    run.timers.clear();
    for (const activity of run.activities.values()) this.dropActivity(activity);
    run.activities.clear();
    const closedError = notFound('workflow execution already completed');
    for (const update of run.updates.values()) {
      if (update.stage !== 'completed') update.abandoned = closedError;
      this.notifyUpdateWaiters(update);
    }
    for (const query of run.queriesAwaitingTask.splice(0)) this.dispatchQueryTask(query);
    this.applyParentClosePolicies(run);
    this.notifyParent(run);
    this.notifyListeners(run);
    this.clock.requestSkipCheck();
  }

  private terminateRun(run: WorkflowRun, reason: string, details: Payloads | null | undefined, identity: string): void {
    if (run.workflowTask?.speculative) run.workflowTask.unwrittenEvents = [];
    this.flushBuffered(run);
    this.closeRun(run, Status.WORKFLOW_EXECUTION_STATUS_TERMINATED, () =>
      this.writeEvent(run, {
        eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
        workflowExecutionTerminatedEventAttributes: { reason, details, identity },
      }),
    );
  }

  private timeOutRun(run: WorkflowRun): void {
    if (isClosed(run)) return;
    const timeoutFailure: Failure = { message: 'workflow timed out', timeoutFailureInfo: { timeoutType: TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE } };
    const retry = this.workflowRetry(run, timeoutFailure);
    const nextRunId = retry ? randomUUID() : '';
    this.flushBuffered(run);
    this.closeRun(run, Status.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, () =>
      this.writeEvent(run, {
        eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
        workflowExecutionTimedOutEventAttributes: {
          retryState: retry ? RetryState.RETRY_STATE_IN_PROGRESS : run.retryPolicy ? RetryState.RETRY_STATE_TIMEOUT : RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET,
          newExecutionRunId: nextRunId,
        },
      }),
    );
    if (retry) this.startRetryRun(run, retry.delayMs, timeoutFailure, nextRunId);
  }

  /** A workflow retry policy lets a failed run start again (same workflow id, next attempt). */
  private workflowRetry(run: WorkflowRun, failure: Failure | null): { delayMs: number } | undefined {
    if (!run.retryPolicy) return undefined;
    const retry = normalizeRetryPolicy(run.retryPolicy);
    const decision = retryDecision(retry, run.attempt, failure, this.clock.now(), run.executionDeadlineMs);
    return decision.retry ? { delayMs: decision.delayMs } : undefined;
  }

  private startRetryRun(previous: WorkflowRun, delayMs: number, failure: Failure | null, runId: string): void {
    const started = previous.history[0]?.workflowExecutionStartedEventAttributes;
    const next = this.createRun({
      namespace: previous.namespace,
      workflowId: previous.workflowId,
      workflowType: previous.workflowType,
      taskQueue: previous.taskQueue,
      input: started?.input,
      header: started?.header,
      memo: previous.memo,
      searchAttributes: previous.searchAttributes,
      executionTimeoutMs: previous.executionTimeoutMs,
      runTimeoutMs: previous.runTimeoutMs,
      workflowTaskTimeoutMs: previous.workflowTaskTimeoutMs,
      retryPolicy: previous.retryPolicy,
      identity: started?.identity ?? '',
      requestId: randomUUID(),
      startDelayMs: delayMs,
      runId,
      attempt: previous.attempt + 1,
      firstRunId: previous.firstRunId,
      executionDeadlineMs: previous.executionDeadlineMs,
      parent: previous.parent,
      root: { workflowId: previous.rootWorkflowId, runId: previous.rootRunId },
      continued: {
        previousRunId: previous.runId,
        initiator: api.enums.v1.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_RETRY,
        lastCompletionResult: null,
        failure,
      },
    });
    previous.nextRunId = next.runId;
    this.touch(previous);
  }

  private continueAsNew(
    run: WorkflowRun,
    attributes: temporal.api.command.v1.IContinueAsNewWorkflowExecutionCommandAttributes,
    completedEventId: number,
  ): void {
    const newRunId = randomUUID();
    const workflowType = attributes.workflowType?.name || run.workflowType;
    const taskQueue = attributes.taskQueue?.name || run.taskQueue;
    const runTimeoutMs = durationMs(attributes.workflowRunTimeout) ?? run.runTimeoutMs;
    const taskTimeoutMs = durationMs(attributes.workflowTaskTimeout) ?? run.workflowTaskTimeoutMs;
    this.closeRun(run, Status.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, () =>
      this.writeEvent(run, {
        eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
        workflowExecutionContinuedAsNewEventAttributes: {
          newExecutionRunId: newRunId,
          workflowType: { name: workflowType },
          taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          input: attributes.input,
          workflowRunTimeout: runTimeoutMs ? duration(runTimeoutMs) : null,
          workflowTaskTimeout: duration(taskTimeoutMs),
          workflowTaskCompletedEventId: int64(completedEventId),
          backoffStartInterval: attributes.backoffStartInterval,
          initiator: attributes.initiator,
          failure: attributes.failure,
          lastCompletionResult: attributes.lastCompletionResult,
          header: attributes.header,
          memo: attributes.memo,
          searchAttributes: attributes.searchAttributes,
        },
      }),
    );
    const next = this.createRun({
      namespace: run.namespace,
      workflowId: run.workflowId,
      workflowType,
      taskQueue,
      input: attributes.input,
      header: attributes.header,
      memo: attributes.memo?.fields ? recordOf(attributes.memo.fields) : { ...run.memo },
      searchAttributes: attributes.searchAttributes?.indexedFields
        ? recordOf(attributes.searchAttributes.indexedFields)
        : { ...run.searchAttributes },
      executionTimeoutMs: run.executionTimeoutMs,
      runTimeoutMs,
      workflowTaskTimeoutMs: taskTimeoutMs,
      retryPolicy: attributes.retryPolicy ?? run.retryPolicy,
      identity: '',
      requestId: randomUUID(),
      startDelayMs: durationMs(attributes.backoffStartInterval),
      runId: newRunId,
      firstRunId: run.firstRunId,
      executionDeadlineMs: run.executionDeadlineMs,
      parent: run.parent,
      root: { workflowId: run.rootWorkflowId, runId: run.rootRunId },
      continued: {
        previousRunId: run.runId,
        initiator: attributes.initiator ?? api.enums.v1.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW,
        lastCompletionResult: attributes.lastCompletionResult,
        failure: attributes.failure,
      },
    });
    run.nextRunId = next.runId;
    this.touch(run);
  }

  // ---------------------------------------------------------------------------------------------
  // Children and external workflows

  private initiateChild(
    run: WorkflowRun,
    attributes: temporal.api.command.v1.IStartChildWorkflowExecutionCommandAttributes,
    completedEventId: number,
    afterCompletion: Array<() => void>,
  ): void {
    const namespace = attributes.namespace || run.namespace;
    const workflowId = attributes.workflowId ?? '';
    const workflowType = attributes.workflowType?.name ?? '';
    const taskQueue = attributes.taskQueue?.name || run.taskQueue;
    const initiatedEventId = this.writeEvent(run, {
      eventType: EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
      startChildWorkflowExecutionInitiatedEventAttributes: {
        namespace,
        workflowId,
        workflowType: { name: workflowType },
        taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        input: attributes.input,
        workflowExecutionTimeout: attributes.workflowExecutionTimeout,
        workflowRunTimeout: attributes.workflowRunTimeout,
        workflowTaskTimeout: attributes.workflowTaskTimeout,
        parentClosePolicy: attributes.parentClosePolicy,
        control: attributes.control,
        workflowTaskCompletedEventId: int64(completedEventId),
        workflowIdReusePolicy: attributes.workflowIdReusePolicy,
        retryPolicy: attributes.retryPolicy,
        cronSchedule: attributes.cronSchedule,
        header: attributes.header,
        memo: attributes.memo,
        searchAttributes: attributes.searchAttributes,
      },
    });
    const child: ChildWorkflow = {
      initiatedEventId,
      namespace,
      workflowId,
      workflowType,
      parentClosePolicy: attributes.parentClosePolicy ?? ParentClosePolicy.PARENT_CLOSE_POLICY_UNSPECIFIED,
      runId: undefined,
      startedEventId: undefined,
    };
    run.children.set(initiatedEventId, child);
    afterCompletion.push(() => {
      if (isClosed(run)) return;
      let childRun: WorkflowRun;
      try {
        if (
          this.checkStartAllowed(
            namespace,
            workflowId,
            '',
            attributes.workflowIdReusePolicy ?? api.enums.v1.WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED,
            api.enums.v1.WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
          )
        ) {
          throw workflowAlreadyStarted('', '');
        }
        childRun = this.createRun({
          namespace,
          workflowId,
          workflowType,
          taskQueue,
          input: attributes.input,
          header: attributes.header,
          memo: recordOf(attributes.memo?.fields),
          searchAttributes: recordOf(attributes.searchAttributes?.indexedFields),
          executionTimeoutMs: durationMs(attributes.workflowExecutionTimeout),
          runTimeoutMs: durationMs(attributes.workflowRunTimeout),
          workflowTaskTimeoutMs: durationMs(attributes.workflowTaskTimeout),
          retryPolicy: attributes.retryPolicy,
          identity: '',
          requestId: randomUUID(),
          startDelayMs: undefined,
          parent: { namespace: run.namespace, workflowId: run.workflowId, runId: run.runId, initiatedEventId },
          root: { workflowId: run.rootWorkflowId, runId: run.rootRunId },
        });
      } catch (error) {
        if (!(error instanceof RpcError)) throw error;
        run.children.delete(initiatedEventId);
        this.deliverPlainEvent(run, {
          eventType: EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED,
          startChildWorkflowExecutionFailedEventAttributes: {
            namespace,
            workflowId,
            workflowType: { name: workflowType },
            cause: api.enums.v1.StartChildWorkflowExecutionFailedCause.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS,
            control: attributes.control,
            initiatedEventId: int64(initiatedEventId),
            workflowTaskCompletedEventId: int64(completedEventId),
          },
        });
        return;
      }
      child.runId = childRun.runId;
      this.deliverEvent(run, {
        kind: 'childStarted',
        event: {
          eventType: EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
          childWorkflowExecutionStartedEventAttributes: {
            namespace,
            initiatedEventId: int64(initiatedEventId),
            workflowExecution: { workflowId, runId: childRun.runId },
            workflowType: { name: workflowType },
            header: attributes.header,
          },
        },
      });
    });
  }

  /** Tells the parent (if any) how this child ended; continue-as-new and retries are not an end. */
  private notifyParent(run: WorkflowRun): void {
    const link = run.parent;
    if (!link || run.status === Status.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW || run.nextRunId !== undefined) return;
    const parent = this.runsById.get(link.runId);
    if (!parent || isClosed(parent)) return;
    if (!parent.children.has(link.initiatedEventId)) return;
    parent.children.delete(link.initiatedEventId);
    this.touch(parent);
    const closeEvent = run.history[run.history.length - 1];
    // startedEventId is filled in when the event is written (the started event may still be buffered).
    const common = {
      namespace: run.namespace,
      workflowExecution: { workflowId: run.workflowId, runId: run.runId },
      workflowType: { name: run.workflowType },
      initiatedEventId: int64(link.initiatedEventId),
      startedEventId: int64(0),
    };
    const event = childClosedEvent(run.status, common, closeEvent);
    if (event) this.deliverEvent(parent, { kind: 'childClosed', event });
  }

  private applyParentClosePolicies(run: WorkflowRun): void {
    if (run.status === Status.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW) return;
    for (const child of run.children.values()) {
      const childRun = this.currentRun(child.namespace, child.workflowId);
      if (!childRun || isClosed(childRun) || childRun.parent?.runId !== run.runId) continue;
      if (child.parentClosePolicy === ParentClosePolicy.PARENT_CLOSE_POLICY_ABANDON) continue;
      if (child.parentClosePolicy === ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL) {
        this.requestCancel(childRun, 'by parent close policy', '', undefined);
      } else {
        this.terminateRun(childRun, 'by parent close policy', null, '');
      }
    }
    run.children.clear();
  }

  private initiateExternalSignal(
    run: WorkflowRun,
    attributes: temporal.api.command.v1.ISignalExternalWorkflowExecutionCommandAttributes,
    completedEventId: number,
    afterCompletion: Array<() => void>,
  ): void {
    const namespace = attributes.namespace || run.namespace;
    const execution = attributes.execution ?? {};
    const initiatedEventId = this.writeEvent(run, {
      eventType: EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
      signalExternalWorkflowExecutionInitiatedEventAttributes: {
        namespace,
        workflowExecution: execution,
        signalName: attributes.signalName,
        input: attributes.input,
        control: attributes.control,
        childWorkflowOnly: attributes.childWorkflowOnly,
        header: attributes.header,
        workflowTaskCompletedEventId: int64(completedEventId),
      },
    });
    afterCompletion.push(() => {
      const target = this.openRunOrUndefined(namespace, execution);
      if (target) {
        this.signalRun(target, attributes.signalName ?? '', attributes.input, attributes.header, '', {
          workflowId: run.workflowId,
          runId: run.runId,
        });
        this.deliverPlainEvent(run, {
          eventType: EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
          externalWorkflowExecutionSignaledEventAttributes: {
            initiatedEventId: int64(initiatedEventId),
            namespace,
            workflowExecution: { workflowId: target.workflowId, runId: target.runId },
            control: attributes.control,
          },
        });
      } else {
        this.deliverPlainEvent(run, {
          eventType: EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
          signalExternalWorkflowExecutionFailedEventAttributes: {
            cause: api.enums.v1.SignalExternalWorkflowExecutionFailedCause.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
            workflowTaskCompletedEventId: int64(completedEventId),
            namespace,
            workflowExecution: execution,
            initiatedEventId: int64(initiatedEventId),
            control: attributes.control,
          },
        });
      }
    });
  }

  private initiateExternalCancel(
    run: WorkflowRun,
    attributes: temporal.api.command.v1.IRequestCancelExternalWorkflowExecutionCommandAttributes,
    completedEventId: number,
    afterCompletion: Array<() => void>,
  ): void {
    const namespace = attributes.namespace || run.namespace;
    const execution = { workflowId: attributes.workflowId ?? '', runId: attributes.runId ?? '' };
    const initiatedEventId = this.writeEvent(run, {
      eventType: EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
      requestCancelExternalWorkflowExecutionInitiatedEventAttributes: {
        namespace,
        workflowExecution: execution,
        control: attributes.control,
        childWorkflowOnly: attributes.childWorkflowOnly,
        reason: attributes.reason,
        workflowTaskCompletedEventId: int64(completedEventId),
      },
    });
    afterCompletion.push(() => {
      const target = this.openRunOrUndefined(namespace, execution);
      if (target) {
        this.requestCancel(target, attributes.reason ?? '', '', {
          initiatedEventId,
          execution: { workflowId: run.workflowId, runId: run.runId },
        });
        this.deliverPlainEvent(run, {
          eventType: EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
          externalWorkflowExecutionCancelRequestedEventAttributes: {
            initiatedEventId: int64(initiatedEventId),
            namespace,
            workflowExecution: { workflowId: target.workflowId, runId: target.runId },
          },
        });
      } else {
        this.deliverPlainEvent(run, {
          eventType: EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
          requestCancelExternalWorkflowExecutionFailedEventAttributes: {
            cause: api.enums.v1.CancelExternalWorkflowExecutionFailedCause.CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
            workflowTaskCompletedEventId: int64(completedEventId),
            namespace,
            workflowExecution: execution,
            initiatedEventId: int64(initiatedEventId),
            control: attributes.control,
          },
        });
      }
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Activities

  private scheduleActivity(
    run: WorkflowRun,
    attributes: temporal.api.command.v1.IScheduleActivityTaskCommandAttributes,
    completedEventId: number,
    dispatch: boolean,
  ): Activity {
    const now = this.clock.now();
    const remainingExecutionMs = run.executionDeadlineMs ? run.executionDeadlineMs - now : undefined;
    let scheduleToCloseMs = durationMs(attributes.scheduleToCloseTimeout) ?? remainingExecutionMs;
    if (scheduleToCloseMs !== undefined && remainingExecutionMs !== undefined) {
      scheduleToCloseMs = Math.min(scheduleToCloseMs, remainingExecutionMs);
    }
    const startToCloseMs = durationMs(attributes.startToCloseTimeout) ?? scheduleToCloseMs;
    if (startToCloseMs === undefined) {
      throw invalidArgument('A valid StartToClose or ScheduleToCloseTimeout is not set on ScheduleActivityTaskCommand.');
    }
    const scheduleToStartMs = durationMs(attributes.scheduleToStartTimeout) ?? scheduleToCloseMs;
    const heartbeatMs = durationMs(attributes.heartbeatTimeout);
    const retry = normalizeRetryPolicy(attributes.retryPolicy);
    const retryPolicy: RetryPolicy = {
      initialInterval: duration(retry.initialIntervalMs),
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: duration(retry.maximumIntervalMs),
      maximumAttempts: retry.maximumAttempts,
      nonRetryableErrorTypes: retry.nonRetryableErrorTypes,
    };
    const taskQueue = attributes.taskQueue?.name || run.taskQueue;
    const scheduledEventId = this.writeEvent(run, {
      eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
      activityTaskScheduledEventAttributes: {
        activityId: attributes.activityId,
        activityType: attributes.activityType,
        taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        header: attributes.header,
        input: attributes.input,
        scheduleToCloseTimeout: scheduleToCloseMs !== undefined ? duration(scheduleToCloseMs) : null,
        scheduleToStartTimeout: scheduleToStartMs !== undefined ? duration(scheduleToStartMs) : null,
        startToCloseTimeout: duration(startToCloseMs),
        heartbeatTimeout: heartbeatMs !== undefined ? duration(heartbeatMs) : null,
        workflowTaskCompletedEventId: int64(completedEventId),
        retryPolicy,
      },
    });
    const activity: Activity = {
      run,
      scheduledEventId,
      activityId: attributes.activityId ?? '',
      activityType: attributes.activityType?.name ?? '',
      taskQueue,
      header: attributes.header,
      input: attributes.input,
      scheduleToCloseMs,
      scheduleToStartMs,
      startToCloseMs,
      heartbeatMs,
      retryPolicy,
      retry,
      firstScheduledTimeMs: now,
      state: 'scheduled',
      attempt: 1,
      attemptScheduledTimeMs: now,
      startedTimeMs: undefined,
      startedIdentity: '',
      startedRequestId: '',
      heartbeatDetails: undefined,
      lastHeartbeatTimeMs: undefined,
      lastFailure: undefined,
      cancelRequestedEventId: undefined,
      retryAtMs: undefined,
      timers: [],
      attemptTimers: [],
    };
    run.activities.set(scheduledEventId, activity);
    this.armScheduleToCloseTimeout(activity);
    this.makeActivityAvailable(activity, dispatch);
    return activity;
  }

  private armScheduleToCloseTimeout(activity: Activity): void {
    const deadline = this.activityDeadline(activity);
    if (deadline === undefined) return;
    activity.timers.push(
      this.clock.schedule(deadline, () => this.timeOutActivity(activity, activity.attempt, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE)),
    );
  }

  private makeActivityAvailable(activity: Activity, dispatch = true): void {
    activity.state = 'scheduled';
    activity.attemptScheduledTimeMs = this.clock.now();
    activity.retryAtMs = undefined;
    this.queueActivityAttempt(activity, dispatch);
  }

  /** A scheduled attempt: outstanding (it locks time skipping), its schedule-to-start timeout, its queue. */
  private queueActivityAttempt(activity: Activity, dispatch: boolean): void {
    this.outstandingActivities.add(activity);
    if (activity.scheduleToStartMs !== undefined) {
      const attempt = activity.attempt;
      activity.attemptTimers.push(
        this.clock.schedule(activity.attemptScheduledTimeMs + activity.scheduleToStartMs, () =>
          this.timeOutActivity(activity, attempt, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START),
        ),
      );
    }
    this.touch(activity.run);
    if (dispatch) this.dispatchActivity(activity);
  }

  private clearAttemptTimers(activity: Activity): void {
    for (const timer of activity.attemptTimers) timer.cancel();
    activity.attemptTimers = [];
  }

  private dropActivity(activity: Activity): void {
    this.clearAttemptTimers(activity);
    for (const timer of activity.timers) timer.cancel();
    activity.timers = [];
    this.outstandingActivities.delete(activity);
    this.touch(activity.run);
    this.clock.requestSkipCheck();
  }

  async pollActivityTaskQueue(
    request: temporal.api.workflowservice.v1.PollActivityTaskQueueRequest,
    cancellation: Cancellation,
  ): Promise<temporal.api.workflowservice.v1.IPollActivityTaskQueueResponse> {
    const queue = this.taskQueue(request.namespace, request.taskQueue?.name ?? '');
    const build = (item: { activity: Activity; attempt: number }) =>
      this.startActivityTask(item.activity, item.attempt, request.identity);
    while (queue.activityBacklog.length > 0) {
      const response = build(queue.activityBacklog.shift()!);
      if (response) return response;
    }
    if (this.closed) return {};
    return this.waitForPoll(queue.activityPollers, build, cancellation, {});
  }

  private startActivityTask(
    activity: Activity,
    attempt: number,
    identity: string,
  ): temporal.api.workflowservice.v1.IPollActivityTaskQueueResponse | undefined {
    const { run } = activity;
    if (isClosed(run) || run.activities.get(activity.scheduledEventId) !== activity) return undefined;
    if (activity.state !== 'scheduled' || activity.attempt !== attempt) return undefined;
    const now = this.clock.now();
    this.clearAttemptTimers(activity);
    activity.state = 'started';
    activity.startedTimeMs = now;
    activity.startedIdentity = identity;
    activity.startedRequestId = randomUUID();
    this.touch(run);
    activity.attemptTimers.push(
      this.clock.schedule(now + activity.startToCloseMs, () =>
        this.timeOutActivity(activity, attempt, TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE),
      ),
    );
    this.armHeartbeatTimeout(activity);
    return {
      taskToken: encodeToken({ kind: 'activity', runId: run.runId, scheduledEventId: activity.scheduledEventId, attempt }),
      workflowNamespace: run.namespace,
      workflowType: { name: run.workflowType },
      workflowExecution: { workflowId: run.workflowId, runId: run.runId },
      activityType: { name: activity.activityType },
      activityId: activity.activityId,
      header: activity.header,
      input: activity.input,
      heartbeatDetails: activity.heartbeatDetails,
      scheduledTime: timestamp(activity.firstScheduledTimeMs),
      currentAttemptScheduledTime: timestamp(activity.attemptScheduledTimeMs),
      startedTime: timestamp(now),
      attempt,
      // Always present (zero = none): the SDK requires the field.
      scheduleToCloseTimeout: duration(activity.scheduleToCloseMs ?? 0),
      startToCloseTimeout: duration(activity.startToCloseMs),
      heartbeatTimeout: activity.heartbeatMs !== undefined ? duration(activity.heartbeatMs) : null,
      retryPolicy: activity.retryPolicy,
    };
  }

  private heartbeatTimers = new WeakMap<Activity, ClockTimer>();

  private armHeartbeatTimeout(activity: Activity): void {
    this.heartbeatTimers.get(activity)?.cancel();
    if (activity.heartbeatMs === undefined) return;
    const attempt = activity.attempt;
    const timer = this.clock.schedule(this.clock.now() + activity.heartbeatMs, () =>
      this.timeOutActivity(activity, attempt, TimeoutType.TIMEOUT_TYPE_HEARTBEAT),
    );
    this.heartbeatTimers.set(activity, timer);
    activity.attemptTimers.push(timer);
  }

  private startedActivityFor(token: Uint8Array): Activity {
    const decoded = decodeToken(token);
    if (decoded.kind !== 'activity') throw invalidArgument('not an activity task token');
    const run = this.runsById.get(decoded.runId);
    const activity = run?.activities.get(decoded.scheduledEventId);
    if (!run || isClosed(run) || !activity || activity.attempt !== decoded.attempt || activity.state !== 'started') {
      throw notFound('activity task not found');
    }
    return activity;
  }

  private startedActivityById(request: { namespace: string; workflowId: string; runId: string; activityId: string }): Activity {
    const run = this.findOpenRun(request.namespace, { workflowId: request.workflowId, runId: request.runId });
    for (const activity of run.activities.values()) {
      if (activity.activityId === request.activityId && activity.state === 'started') return activity;
    }
    throw notFound(`activity "${request.activityId}" is not running`);
  }

  /** Ends the activity with its started event (written now, as the real server does) and a final event. */
  private finishActivity(activity: Activity, finalEvent: HistoryEvent): void {
    const { run } = activity;
    run.activities.delete(activity.scheduledEventId);
    this.dropActivity(activity);
    const started: HistoryEvent | undefined =
      activity.state === 'started'
        ? {
            eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
            activityTaskStartedEventAttributes: {
              scheduledEventId: int64(activity.scheduledEventId),
              identity: activity.startedIdentity,
              requestId: activity.startedRequestId,
              attempt: activity.attempt,
              lastFailure: activity.lastFailure ?? null,
            },
          }
        : undefined;
    this.deliverEvent(run, { kind: 'activityResult', started, final: finalEvent });
  }

  respondActivityTaskCompleted(request: temporal.api.workflowservice.v1.RespondActivityTaskCompletedRequest): object {
    return this.completeActivity(this.startedActivityFor(request.taskToken), request);
  }

  respondActivityTaskCompletedById(request: temporal.api.workflowservice.v1.RespondActivityTaskCompletedByIdRequest): object {
    return this.completeActivity(this.startedActivityById(request), request);
  }

  private completeActivity(activity: Activity, request: { result?: Payloads | null; identity?: string | null }): object {
    this.finishActivity(activity, {
      eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
      activityTaskCompletedEventAttributes: {
        result: request.result,
        scheduledEventId: int64(activity.scheduledEventId),
        identity: request.identity,
      },
    });
    return {};
  }

  respondActivityTaskFailed(request: temporal.api.workflowservice.v1.RespondActivityTaskFailedRequest): object {
    return this.failActivity(this.startedActivityFor(request.taskToken), request);
  }

  respondActivityTaskFailedById(request: temporal.api.workflowservice.v1.RespondActivityTaskFailedByIdRequest): object {
    return this.failActivity(this.startedActivityById(request), request);
  }

  private failActivity(
    activity: Activity,
    request: { failure?: Failure | null; lastHeartbeatDetails?: Payloads | null; identity?: string | null },
  ): object {
    if (request.lastHeartbeatDetails?.payloads?.length) activity.heartbeatDetails = request.lastHeartbeatDetails;
    const failure = request.failure ?? { message: 'activity failed' };
    const decision = retryDecision(activity.retry, activity.attempt, failure, this.clock.now(), this.activityDeadline(activity));
    if (decision.retry && activity.cancelRequestedEventId === undefined) {
      this.retryActivity(activity, failure, decision.delayMs);
      return {};
    }
    this.finishActivity(activity, {
      eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
      activityTaskFailedEventAttributes: {
        failure,
        scheduledEventId: int64(activity.scheduledEventId),
        identity: request.identity,
        retryState: decision.retry ? RetryState.RETRY_STATE_CANCEL_REQUESTED : decision.retryState,
      },
    });
    return {};
  }

  respondActivityTaskCanceled(request: temporal.api.workflowservice.v1.RespondActivityTaskCanceledRequest): object {
    return this.cancelActivity(this.startedActivityFor(request.taskToken), request);
  }

  respondActivityTaskCanceledById(request: temporal.api.workflowservice.v1.RespondActivityTaskCanceledByIdRequest): object {
    return this.cancelActivity(this.startedActivityById(request), request);
  }

  private cancelActivity(activity: Activity, request: { details?: Payloads | null; identity?: string | null }): object {
    this.finishActivity(activity, {
      eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
      activityTaskCanceledEventAttributes: {
        details: request.details,
        latestCancelRequestedEventId: int64(activity.cancelRequestedEventId ?? 0),
        scheduledEventId: int64(activity.scheduledEventId),
        identity: request.identity,
      },
    });
    return {};
  }

  recordActivityTaskHeartbeat(
    request: temporal.api.workflowservice.v1.RecordActivityTaskHeartbeatRequest,
  ): temporal.api.workflowservice.v1.IRecordActivityTaskHeartbeatResponse {
    return this.heartbeatActivity(this.startedActivityFor(request.taskToken), request.details);
  }

  recordActivityTaskHeartbeatById(
    request: temporal.api.workflowservice.v1.RecordActivityTaskHeartbeatByIdRequest,
  ): temporal.api.workflowservice.v1.IRecordActivityTaskHeartbeatByIdResponse {
    return this.heartbeatActivity(this.startedActivityById(request), request.details);
  }

  private heartbeatActivity(
    activity: Activity,
    details: Payloads | null | undefined,
  ): temporal.api.workflowservice.v1.IRecordActivityTaskHeartbeatResponse {
    if (details) activity.heartbeatDetails = details;
    activity.lastHeartbeatTimeMs = this.clock.now();
    this.touch(activity.run);
    this.armHeartbeatTimeout(activity);
    return { cancelRequested: activity.cancelRequestedEventId !== undefined };
  }

  private activityDeadline(activity: Activity): number | undefined {
    return activity.scheduleToCloseMs !== undefined ? activity.firstScheduledTimeMs + activity.scheduleToCloseMs : undefined;
  }

  private retryActivity(activity: Activity, failure: Failure, delayMs: number): void {
    this.clearAttemptTimers(activity);
    this.outstandingActivities.delete(activity);
    activity.lastFailure = failure;
    activity.attempt++;
    activity.state = 'backoff';
    activity.startedTimeMs = undefined;
    activity.retryAtMs = this.clock.now() + delayMs;
    this.touch(activity.run);
    this.armActivityRetry(activity);
    this.clock.requestSkipCheck();
  }

  private armActivityRetry(activity: Activity): void {
    const attempt = activity.attempt;
    activity.attemptTimers.push(
      this.clock.schedule(activity.retryAtMs ?? this.clock.now(), () => {
        if (activity.attempt !== attempt || activity.state !== 'backoff') return;
        activity.attemptTimers = [];
        this.makeActivityAvailable(activity);
      }),
    );
  }

  private timeOutActivity(activity: Activity, attempt: number, timeoutType: temporal.api.enums.v1.TimeoutType): void {
    const { run } = activity;
    if (isClosed(run) || run.activities.get(activity.scheduledEventId) !== activity || activity.attempt !== attempt) return;
    const label = {
      [TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE]: 'StartToClose',
      [TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START]: 'ScheduleToStart',
      [TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE]: 'ScheduleToClose',
      [TimeoutType.TIMEOUT_TYPE_HEARTBEAT]: 'Heartbeat',
      [TimeoutType.TIMEOUT_TYPE_UNSPECIFIED]: 'Unspecified',
    }[timeoutType];
    const failure: Failure = {
      message: `activity ${label} timeout`,
      source: 'Server',
      timeoutFailureInfo: { timeoutType, lastHeartbeatDetails: activity.heartbeatDetails ?? null },
    };
    const retryable =
      (timeoutType === TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE || timeoutType === TimeoutType.TIMEOUT_TYPE_HEARTBEAT) &&
      activity.cancelRequestedEventId === undefined;
    if (retryable) {
      const decision = retryDecision(activity.retry, activity.attempt, failure, this.clock.now(), this.activityDeadline(activity));
      if (decision.retry) {
        this.retryActivity(activity, failure, decision.delayMs);
        return;
      }
    }
    const retryState = retryable ? RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED : RetryState.RETRY_STATE_TIMEOUT;
    const finalRetryState =
      retryable && activity.retry.maximumAttempts === 0 ? RetryState.RETRY_STATE_TIMEOUT : retryState;
    if (activity.lastFailure && timeoutType === TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE) failure.cause = activity.lastFailure;
    this.finishActivity(activity, {
      eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
      activityTaskTimedOutEventAttributes: {
        failure,
        scheduledEventId: int64(activity.scheduledEventId),
        retryState: finalRetryState,
      },
    });
  }

  /** Returns true when the cancellation completed at once (not started), which needs a new task. */
  private requestCancelActivity(run: WorkflowRun, scheduledEventId: number, completedEventId: number): boolean {
    const activity = run.activities.get(scheduledEventId);
    if (!activity) return false;
    const cancelRequestedEventId = this.writeEvent(run, {
      eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
      activityTaskCancelRequestedEventAttributes: {
        scheduledEventId: int64(scheduledEventId),
        workflowTaskCompletedEventId: int64(completedEventId),
      },
    });
    activity.cancelRequestedEventId = cancelRequestedEventId;
    if (activity.state === 'started') return false;
    run.activities.delete(scheduledEventId);
    this.dropActivity(activity);
    this.writeEvent(run, {
      eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
      activityTaskCanceledEventAttributes: {
        latestCancelRequestedEventId: int64(cancelRequestedEventId),
        scheduledEventId: int64(scheduledEventId),
        startedEventId: int64(0),
      },
    });
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Signals, cancellation, termination

  private signalRun(
    run: WorkflowRun,
    signalName: string,
    input: Payloads | null | undefined,
    header: Header | null | undefined,
    identity: string,
    externalWorkflowExecution?: temporal.api.common.v1.IWorkflowExecution,
  ): void {
    this.deliverPlainEvent(run, {
      eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
      workflowExecutionSignaledEventAttributes: {
        signalName,
        input,
        header,
        identity,
        externalWorkflowExecution: externalWorkflowExecution ?? null,
      },
    });
  }

  signalWorkflowExecution(request: temporal.api.workflowservice.v1.SignalWorkflowExecutionRequest): object {
    const run = this.findOpenRun(request.namespace, request.workflowExecution);
    this.signalRun(run, request.signalName, request.input, request.header, request.identity);
    return {};
  }

  private requestCancel(
    run: WorkflowRun,
    reason: string,
    identity: string,
    external: { initiatedEventId: number; execution: temporal.api.common.v1.IWorkflowExecution } | undefined,
  ): void {
    if (run.cancelRequested) return;
    run.cancelRequested = true;
    this.deliverPlainEvent(run, {
      eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
      workflowExecutionCancelRequestedEventAttributes: {
        cause: reason,
        identity,
        externalInitiatedEventId: int64(external?.initiatedEventId ?? 0),
        externalWorkflowExecution: external?.execution ?? null,
      },
    });
  }

  requestCancelWorkflowExecution(request: temporal.api.workflowservice.v1.RequestCancelWorkflowExecutionRequest): object {
    const run = this.findOpenRun(request.namespace, request.workflowExecution);
    this.requestCancel(run, request.reason, request.identity, undefined);
    return {};
  }

  terminateWorkflowExecution(request: temporal.api.workflowservice.v1.TerminateWorkflowExecutionRequest): object {
    const run = this.findOpenRun(request.namespace, request.workflowExecution);
    this.terminateRun(run, request.reason, request.details, request.identity);
    return {};
  }

  // ---------------------------------------------------------------------------------------------
  // Queries

  async queryWorkflow(
    request: temporal.api.workflowservice.v1.QueryWorkflowRequest,
    cancellation: Cancellation,
  ): Promise<temporal.api.workflowservice.v1.IQueryWorkflowResponse> {
    const run = this.findRun(request.namespace, request.execution);
    const QueryRejectCondition = api.enums.v1.QueryRejectCondition;
    if (isClosed(run)) {
      const notOpen = request.queryRejectCondition === QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_OPEN;
      const notCleanly =
        request.queryRejectCondition === QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY &&
        run.status !== Status.WORKFLOW_EXECUTION_STATUS_COMPLETED;
      if (notOpen || notCleanly) return { queryRejected: { status: run.status } };
    }
    const outcome = await new Promise<QueryOutcome>((resolve) => {
      const query: PendingQuery = {
        id: randomUUID(),
        run,
        query: request.query ?? {},
        settled: false,
        settle: (result) => {
          if (query.settled) return;
          query.settled = true;
          this.pendingQueries.delete(query.id);
          stopListening();
          this.shutdownListeners.delete(onAbort);
          resolve(result);
        },
      };
      const onAbort = (): void => query.settle({ error: new RpcError(1, 'query cancelled') });
      const stopListening = cancellation.onCancel(onAbort);
      this.shutdownListeners.add(onAbort);
      this.pendingQueries.set(query.id, query);
      const task = run.workflowTask;
      if (isClosed(run) || !task) this.dispatchQueryTask(query);
      else if (task.startedEventId === 0) task.queries.push(query);
      else run.queriesAwaitingTask.push(query);
    });
    if ('error' in outcome) throw outcome.error;
    return { queryResult: outcome.answer ?? null };
  }

  private dispatchQueryTask(query: PendingQuery): void {
    if (query.settled) return;
    this.dispatchWorkflow(query.run.namespace, query.run.taskQueue, { kind: 'query', query });
  }

  private startQueryTask(query: PendingQuery): temporal.api.workflowservice.v1.IPollWorkflowTaskQueueResponse | undefined {
    if (query.settled) return undefined;
    const { run } = query;
    return {
      taskToken: encodeToken({ kind: 'query', queryId: query.id }),
      workflowExecution: { workflowId: run.workflowId, runId: run.runId },
      workflowType: { name: run.workflowType },
      previousStartedEventId: int64(run.lastCompletedStartedEventId),
      startedEventId: int64(run.lastCompletedStartedEventId),
      attempt: 1,
      history: { events: run.history },
      query: query.query,
      workflowExecutionTaskQueue: { name: run.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      scheduledTime: timestamp(this.clock.now()),
      startedTime: timestamp(this.clock.now()),
    };
  }

  respondQueryTaskCompleted(request: temporal.api.workflowservice.v1.RespondQueryTaskCompletedRequest): object {
    const decoded = decodeToken(request.taskToken);
    if (decoded.kind !== 'query') throw invalidArgument('not a query task token');
    const query = this.pendingQueries.get(decoded.queryId);
    if (!query) throw notFound('query not found');
    if (request.completedType === api.enums.v1.QueryResultType.QUERY_RESULT_TYPE_ANSWERED) {
      query.settle({ answer: request.queryResult });
    } else {
      query.settle({ error: queryFailed(request.errorMessage, request.failure) });
    }
    return {};
  }

  // ---------------------------------------------------------------------------------------------
  // Updates

  async updateWorkflowExecution(
    request: temporal.api.workflowservice.v1.UpdateWorkflowExecutionRequest,
    cancellation: Cancellation,
  ): Promise<temporal.api.workflowservice.v1.IUpdateWorkflowExecutionResponse> {
    const run = this.findOpenRun(request.namespace, request.workflowExecution);
    const updateRequest: UpdateRequest = request.request ?? {};
    const updateId = updateRequest.meta?.updateId || randomUUID();
    let update = run.updates.get(updateId);
    if (!update) {
      update = { updateId, request: updateRequest, stage: 'admitted', acceptedEventId: undefined, outcome: undefined, abandoned: undefined };
      run.updates.set(updateId, update);
      this.touch(run);
      const task = run.workflowTask;
      if (!task) this.scheduleWorkflowTask(run, { speculative: true });
      else if (task.startedEventId !== 0) run.workflowTaskNeeded = true;
      this.clock.requestSkipCheck();
    }
    const waitForCompleted = request.waitPolicy?.lifecycleStage === UpdateStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED;
    return this.awaitUpdate(run, update, waitForCompleted, cancellation);
  }

  /** Update-with-start: the start (usually with conflict policy USE_EXISTING), then the update. */
  async executeMultiOperation(
    request: temporal.api.workflowservice.v1.ExecuteMultiOperationRequest,
    cancellation: Cancellation,
  ): Promise<temporal.api.workflowservice.v1.IExecuteMultiOperationResponse> {
    const [first, second] = request.operations;
    if (request.operations.length !== 2 || !first?.startWorkflow || !second?.updateWorkflow) {
      throw invalidArgument('ExecuteMultiOperation supports exactly [startWorkflow, updateWorkflow]');
    }
    const start = first.startWorkflow as temporal.api.workflowservice.v1.StartWorkflowExecutionRequest;
    const startResponse = this.startWorkflowExecution(start);
    const update = second.updateWorkflow as temporal.api.workflowservice.v1.UpdateWorkflowExecutionRequest;
    const updateResponse = await this.updateWorkflowExecution(update, cancellation);
    return { responses: [{ startWorkflow: startResponse }, { updateWorkflow: updateResponse }] };
  }

  deleteWorkflowExecution(request: temporal.api.workflowservice.v1.DeleteWorkflowExecutionRequest): object {
    const run = this.findRun(request.namespace, request.workflowExecution);
    if (!isClosed(run)) this.terminateRun(run, 'Delete workflow execution', null, '');
    this.runsById.delete(run.runId);
    this.store?.runDeleted(run);
    const key = this.key(run.namespace, run.workflowId);
    const remaining = (this.runsByKey.get(key) ?? []).filter((other) => other !== run);
    if (remaining.length > 0) this.runsByKey.set(key, remaining);
    else this.runsByKey.delete(key);
    return {};
  }

  async pollWorkflowExecutionUpdate(
    request: temporal.api.workflowservice.v1.PollWorkflowExecutionUpdateRequest,
    cancellation: Cancellation,
  ): Promise<temporal.api.workflowservice.v1.IPollWorkflowExecutionUpdateResponse> {
    const run = this.findRun(request.namespace, request.updateRef?.workflowExecution);
    const updateId = request.updateRef?.updateId ?? '';
    const update = run.updates.get(updateId);
    if (!update) throw notFound(`update "${updateId}" not found`);
    const waitForCompleted = request.waitPolicy?.lifecycleStage !== UpdateStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED;
    return this.awaitUpdate(run, update, waitForCompleted, cancellation);
  }

  private async awaitUpdate(
    run: WorkflowRun,
    update: UpdateState,
    waitForCompleted: boolean,
    cancellation: Cancellation,
  ): Promise<temporal.api.workflowservice.v1.IUpdateWorkflowExecutionResponse> {
    const reached = (): boolean =>
      update.abandoned !== undefined || update.stage === 'completed' || (!waitForCompleted && update.stage === 'accepted');
    if (!reached()) {
      await new Promise<void>((resolve) => {
        const waiters = this.updateWaiters.get(update) ?? new Set<() => void>();
        this.updateWaiters.set(update, waiters);
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(onChange);
          run.listeners.delete(onChange);
          stopListening();
          this.shutdownListeners.delete(finish);
          resolve();
        };
        const onChange = (): void => {
          if (reached()) finish();
        };
        const timer = setTimeout(finish, UPDATE_WAIT_MS);
        waiters.add(onChange);
        run.listeners.add(onChange);
        const stopListening = cancellation.onCancel(finish);
        this.shutdownListeners.add(finish);
      });
    }
    if (update.abandoned && update.stage !== 'completed') throw update.abandoned;
    const stage =
      update.stage === 'completed'
        ? UpdateStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED
        : update.stage === 'accepted'
          ? UpdateStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED
          : UpdateStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED;
    return {
      updateRef: { workflowExecution: { workflowId: run.workflowId, runId: run.runId }, updateId: update.updateId },
      outcome: update.stage === 'completed' ? update.outcome : null,
      stage,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Reading state

  async getWorkflowExecutionHistory(
    request: temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest,
    cancellation: Cancellation,
  ): Promise<temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryResponse> {
    const run = this.findRun(request.namespace, request.execution);
    const HistoryEventFilterType = api.enums.v1.HistoryEventFilterType;
    if (request.historyEventFilterType === HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT) {
      if (!isClosed(run) && request.waitNewEvent) {
        await this.waitForRun(run, () => isClosed(run), cancellation, LONG_POLL_TIMEOUT_MS);
      }
      if (!isClosed(run)) return { history: { events: [] }, nextPageToken: new Uint8Array() };
      const closeEvent = run.history[run.history.length - 1]!;
      return { history: { events: [closeEvent] }, nextPageToken: new Uint8Array() };
    }
    const token = request.nextPageToken?.length ? Buffer.from(request.nextPageToken).toString('utf8') : '';
    const fromIndex = token ? Number(token) : 0;
    if (request.waitNewEvent && run.history.length <= fromIndex && !isClosed(run)) {
      await this.waitForRun(run, () => run.history.length > fromIndex || isClosed(run), cancellation, LONG_POLL_TIMEOUT_MS);
    }
    const pageSize = request.maximumPageSize > 0 ? request.maximumPageSize : 1000;
    const events = run.history.slice(fromIndex, fromIndex + pageSize);
    const nextIndex = fromIndex + events.length;
    const more = nextIndex < run.history.length || (request.waitNewEvent && !isClosed(run));
    return {
      history: { events },
      nextPageToken: more ? Buffer.from(String(nextIndex)) : new Uint8Array(),
    };
  }

  private executionInfo(run: WorkflowRun): ExecutionInfo {
    return {
      execution: { workflowId: run.workflowId, runId: run.runId },
      type: { name: run.workflowType },
      startTime: timestamp(run.startTimeMs),
      closeTime: run.closeTimeMs !== undefined ? timestamp(run.closeTimeMs) : null,
      status: run.status,
      historyLength: int64(run.history.length),
      executionTime: timestamp(run.executionTimeMs),
      memo: { fields: run.memo },
      searchAttributes: { indexedFields: run.searchAttributes },
      taskQueue: run.taskQueue,
      parentNamespaceId: run.parent?.namespace ?? '',
      parentExecution: run.parent ? { workflowId: run.parent.workflowId, runId: run.parent.runId } : null,
      rootExecution: { workflowId: run.rootWorkflowId, runId: run.rootRunId },
      firstRunId: run.firstRunId,
      stateTransitionCount: int64(run.history.length),
      executionDuration: run.closeTimeMs !== undefined ? duration(run.closeTimeMs - run.startTimeMs) : null,
    };
  }

  describeWorkflowExecution(
    request: temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest,
  ): temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse {
    const run = this.findRun(request.namespace, request.execution);
    const ActivityState = api.enums.v1.PendingActivityState;
    const task = run.workflowTask;
    return {
      executionConfig: {
        taskQueue: { name: run.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        workflowExecutionTimeout: run.executionTimeoutMs ? duration(run.executionTimeoutMs) : null,
        workflowRunTimeout: run.runTimeoutMs ? duration(run.runTimeoutMs) : null,
        defaultWorkflowTaskTimeout: duration(run.workflowTaskTimeoutMs),
      },
      workflowExecutionInfo: this.executionInfo(run),
      pendingActivities: [...run.activities.values()].map((activity) => ({
        activityId: activity.activityId,
        activityType: { name: activity.activityType },
        state:
          activity.cancelRequestedEventId !== undefined
            ? ActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED
            : activity.state === 'started'
              ? ActivityState.PENDING_ACTIVITY_STATE_STARTED
              : ActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
        heartbeatDetails: activity.heartbeatDetails ?? null,
        lastHeartbeatTime: activity.lastHeartbeatTimeMs !== undefined ? timestamp(activity.lastHeartbeatTimeMs) : null,
        lastStartedTime: activity.startedTimeMs !== undefined ? timestamp(activity.startedTimeMs) : null,
        attempt: activity.attempt,
        maximumAttempts: activity.retry.maximumAttempts,
        scheduledTime: timestamp(activity.attemptScheduledTimeMs),
        expirationTime: activity.scheduleToCloseMs !== undefined ? timestamp(activity.firstScheduledTimeMs + activity.scheduleToCloseMs) : null,
        lastFailure: activity.lastFailure ?? null,
        lastWorkerIdentity: activity.startedIdentity,
      })),
      pendingChildren: [...run.children.values()].map((child) => ({
        workflowId: child.workflowId,
        runId: child.runId ?? '',
        workflowTypeName: child.workflowType,
        initiatedId: int64(child.initiatedEventId),
        parentClosePolicy: child.parentClosePolicy,
      })),
      pendingWorkflowTask: task
        ? {
            state:
              task.startedEventId !== 0
                ? api.enums.v1.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED
                : api.enums.v1.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED,
            scheduledTime: timestamp(task.scheduledTimeMs),
            originalScheduledTime: timestamp(task.scheduledTimeMs),
            startedTime: task.startedTimeMs !== undefined ? timestamp(task.startedTimeMs) : null,
            attempt: task.attempt,
          }
        : null,
    };
  }

  listWorkflowExecutions(
    request: temporal.api.workflowservice.v1.ListWorkflowExecutionsRequest,
  ): temporal.api.workflowservice.v1.IListWorkflowExecutionsResponse {
    const matches = this.visibleRuns(request.namespace, request.query);
    const offset = request.nextPageToken?.length ? Number(Buffer.from(request.nextPageToken).toString('utf8')) : 0;
    const pageSize = request.pageSize > 0 ? request.pageSize : 1000;
    const page = matches.slice(offset, offset + pageSize);
    const next = offset + page.length;
    return {
      executions: page.map((run) => this.executionInfo(run)),
      nextPageToken: next < matches.length ? Buffer.from(String(next)) : new Uint8Array(),
    };
  }

  countWorkflowExecutions(
    request: temporal.api.workflowservice.v1.CountWorkflowExecutionsRequest,
  ): temporal.api.workflowservice.v1.ICountWorkflowExecutionsResponse {
    return { count: int64(this.visibleRuns(request.namespace, request.query).length) };
  }

  private visibleRuns(namespace: string, query: string): WorkflowRun[] {
    let predicate;
    try {
      predicate = parseVisibilityQuery(query);
    } catch (error) {
      throw invalidArgument(error instanceof Error ? error.message : String(error));
    }
    const runs = [...this.runsById.values()].filter(
      (run) =>
        run.namespace === namespace &&
        matchesVisibilityQuery(predicate, {
          WorkflowId: run.workflowId,
          RunId: run.runId,
          WorkflowType: run.workflowType,
          ExecutionStatus: visibilityStatusName(run.status),
          StartTime: run.startTimeMs,
          CloseTime: run.closeTimeMs,
          ExecutionTime: run.executionTimeMs,
          TaskQueue: run.taskQueue,
        }),
    );
    // Newest first, as the real visibility store orders by start time.
    return runs.sort((a, b) => b.startTimeMs - a.startTimeMs);
  }

  // ---------------------------------------------------------------------------------------------
  // Workers and time

  shutdownWorker(request: temporal.api.workflowservice.v1.ShutdownWorkerRequest): object {
    if (request.stickyTaskQueue) {
      const key = `${request.namespace}\u0000${request.stickyTaskQueue}`;
      const queue = this.taskQueues.get(key);
      for (const poller of queue?.workflowPollers.splice(0) ?? []) poller.release();
      // The worker is gone: its runs' tasks go to the normal queue at once, with the full history.
      for (const run of this.runsById.values()) {
        if (run.namespace === request.namespace && run.stickyQueue === request.stickyTaskQueue) this.clearStickiness(run);
      }
      this.taskQueues.delete(key);
    }
    return {};
  }

  /** ResetStickyTaskQueue: the run's next task goes to the normal queue with the full history. */
  resetStickyTaskQueue(request: temporal.api.workflowservice.v1.ResetStickyTaskQueueRequest): object {
    const run = this.findRun(request.namespace, request.execution);
    this.clearStickiness(run);
    return {};
  }

  /** TestService sleep: returns once virtual time has advanced by the duration (skipping towards it). */
  async sleep(durationToSleep: google.protobuf.IDuration | null | undefined, cancellation: Cancellation): Promise<void> {
    await this.sleepUntil(this.clock.now() + (durationMs(durationToSleep) ?? 0), cancellation);
  }

  async sleepUntil(targetMs: number, cancellation: Cancellation): Promise<void> {
    await Promise.race([
      this.clock.sleepUntil(targetMs),
      new Promise<void>((resolve) => {
        cancellation.onCancel(resolve);
        this.shutdownListeners.add(resolve);
      }),
    ]);
  }

  currentTime(): number {
    return this.clock.now();
  }

}

type ChildEventCommon = temporal.api.history.v1.IChildWorkflowExecutionTerminatedEventAttributes;

/** The parent's event for a child that closed with `status`, or undefined for a status that is not an end. */
function childClosedEvent(
  status: temporal.api.enums.v1.WorkflowExecutionStatus,
  common: ChildEventCommon,
  closeEvent: HistoryEvent | undefined,
): HistoryEvent | undefined {
  switch (status) {
    case Status.WORKFLOW_EXECUTION_STATUS_COMPLETED:
      return {
        eventType: EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
        childWorkflowExecutionCompletedEventAttributes: { ...common, result: closeEvent?.workflowExecutionCompletedEventAttributes?.result },
      };
    case Status.WORKFLOW_EXECUTION_STATUS_FAILED:
      return {
        eventType: EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
        childWorkflowExecutionFailedEventAttributes: {
          ...common,
          failure: closeEvent?.workflowExecutionFailedEventAttributes?.failure,
          retryState: closeEvent?.workflowExecutionFailedEventAttributes?.retryState,
        },
      };
    case Status.WORKFLOW_EXECUTION_STATUS_CANCELED:
      return {
        eventType: EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED,
        childWorkflowExecutionCanceledEventAttributes: { ...common, details: closeEvent?.workflowExecutionCanceledEventAttributes?.details },
      };
    case Status.WORKFLOW_EXECUTION_STATUS_TERMINATED:
      return { eventType: EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED, childWorkflowExecutionTerminatedEventAttributes: common };
    case Status.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
      return {
        eventType: EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
        childWorkflowExecutionTimedOutEventAttributes: {
          ...common,
          retryState: closeEvent?.workflowExecutionTimedOutEventAttributes?.retryState,
        },
      };
    default:
      return undefined;
  }
}

/** The id of the ChildWorkflowExecutionStarted event of the child initiated by `initiatedEventId` (0 if none). */
function childStartedEventId(run: WorkflowRun, initiatedEventId: number): number {
  for (let index = run.history.length - 1; index >= 0; index--) {
    const started = run.history[index]!.childWorkflowExecutionStartedEventAttributes;
    if (started && toNumber(started.initiatedEventId) === initiatedEventId) return index + 1;
  }
  return 0;
}

function isWorkflowClosingCommand(type: temporal.api.enums.v1.CommandType | null | undefined): boolean {
  return (
    type === CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION ||
    type === CommandType.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION ||
    type === CommandType.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION ||
    type === CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION
  );
}

function mergePayloadMap(target: Record<string, Payload>, fields: { [k: string]: Payload }): void {
  for (const [name, payload] of Object.entries(fields)) {
    // An empty payload (no data) removes the entry, as with search attributes set to undefined.
    if (!payload.data || payload.data.length === 0) delete target[name];
    else target[name] = payload;
  }
}

export function normalizeRetryPolicy(policy: RetryPolicy | null | undefined): ActivityRetry {
  const initialIntervalMs = durationMs(policy?.initialInterval) ?? 1000;
  return {
    initialIntervalMs,
    backoffCoefficient: policy?.backoffCoefficient && policy.backoffCoefficient >= 1 ? policy.backoffCoefficient : 2,
    maximumIntervalMs: durationMs(policy?.maximumInterval) ?? initialIntervalMs * 100,
    maximumAttempts: policy?.maximumAttempts ?? 0,
    nonRetryableErrorTypes: [...(policy?.nonRetryableErrorTypes ?? [])],
  };
}

type RetryDecision = { retry: true; delayMs: number } | { retry: false; retryState: temporal.api.enums.v1.RetryState };

function retryDecision(
  retry: ActivityRetry,
  attempt: number,
  failure: Failure | null | undefined,
  nowMs: number,
  deadlineMs: number | undefined,
): RetryDecision {
  const info = failure?.applicationFailureInfo;
  if (info?.nonRetryable) return { retry: false, retryState: RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE };
  if (info?.type && retry.nonRetryableErrorTypes.includes(info.type)) {
    return { retry: false, retryState: RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE };
  }
  if (retry.maximumAttempts > 0 && attempt >= retry.maximumAttempts) {
    return { retry: false, retryState: RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED };
  }
  const explicitDelay = durationMs(info?.nextRetryDelay);
  const delayMs =
    explicitDelay ??
    Math.min(retry.initialIntervalMs * Math.pow(retry.backoffCoefficient, attempt - 1), retry.maximumIntervalMs);
  if (deadlineMs !== undefined && nowMs + delayMs >= deadlineMs) {
    return { retry: false, retryState: RetryState.RETRY_STATE_TIMEOUT };
  }
  return { retry: true, delayMs };
}

function retryStateOfRun(run: WorkflowRun, failure: Failure | null): temporal.api.enums.v1.RetryState {
  if (!run.retryPolicy) return RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET;
  const retry = normalizeRetryPolicy(run.retryPolicy);
  const decision = retryDecision(retry, run.attempt, failure, 0, undefined);
  return decision.retry ? RetryState.RETRY_STATE_TIMEOUT : decision.retryState;
}

