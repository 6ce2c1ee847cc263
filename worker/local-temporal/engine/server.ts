import { Server, ServerCredentials } from '@grpc/grpc-js';
import { temporal } from '@temporalio/proto';
import type { Cancellation } from './cancellation';
import { timestamp, timestampMs } from './convert';
import { TemporalEngine } from './engine';
import { bindService, type CallContext, type UnaryHandler } from './grpc';
import { EnginePersistence } from './persistence';

import wsv1 = temporal.api.workflowservice.v1;
import testv1 = temporal.api.testservice.v1;

const SERVER_VERSION = '1.24.0-fieldops-test-server';

export interface TemporalTestServerOptions {
  /** 0 or unset: any free port. */
  port?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** true: virtual clock with TestService time skipping; false: wall clock (the offline dev engine). */
  timeSkipping: boolean;
  /**
   * The time to start at (epoch ms), e.g. to run a test on a past calendar date; from there time
   * runs at wall-clock speed (and jumps when skipping). Ignored when `dataDir` holds state: time
   * goes on from where it was.
   */
  startTimeMs?: number | undefined;
  /**
   * Keep everything durably in this directory (created if needed) and take it back at start: an
   * RPC that changed state answers once the change is on disk. Unset: nothing is kept.
   */
  dataDir?: string | undefined;
  /** With `dataDir`: compact the journal into a new snapshot past this many bytes (default 64 MiB). */
  compactJournalAfterBytes?: number | undefined;
}

export interface TemporalTestServer {
  /** host:port to give Connection.connect / NativeConnection.connect. */
  address: string;
  port: number;
  /** The server's current time (epoch ms): the wall clock unless a start time or time skipping moved it. */
  now(): number;
  close(): Promise<void>;
}

function workflowServiceHandlers(engine: TemporalEngine): Record<string, UnaryHandler> {
  const handlers = {
    GetSystemInfo: async () => ({
      serverVersion: SERVER_VERSION,
      capabilities: {
        signalAndQueryHeader: true,
        internalErrorDifferentiation: true,
        activityFailureIncludeHeartbeat: true,
        supportsSchedules: false,
        encodedFailureAttributes: true,
        buildIdBasedVersioning: false,
        upsertMemo: true,
        eagerWorkflowStart: true,
        sdkMetadata: true,
        countGroupByExecutionStatus: false,
        nexus: false,
      },
    }),
    DescribeNamespace: async (request: wsv1.DescribeNamespaceRequest) => ({
      namespaceInfo: {
        name: request.namespace || 'default',
        id: request.namespace || 'default',
        state: temporal.api.enums.v1.NamespaceState.NAMESPACE_STATE_REGISTERED,
        description: 'in-memory namespace of the fieldops Temporal test server',
        capabilities: { syncUpdate: true, asyncUpdate: true, eagerWorkflowStart: true },
      },
      config: { workflowExecutionRetentionTtl: { seconds: 86_400 } },
      isGlobalNamespace: false,
    }),
    StartWorkflowExecution: async (request: wsv1.StartWorkflowExecutionRequest) => engine.startWorkflowExecution(request),
    SignalWithStartWorkflowExecution: async (request: wsv1.SignalWithStartWorkflowExecutionRequest) =>
      engine.signalWithStartWorkflowExecution(request),
    SignalWorkflowExecution: async (request: wsv1.SignalWorkflowExecutionRequest) => engine.signalWorkflowExecution(request),
    RequestCancelWorkflowExecution: async (request: wsv1.RequestCancelWorkflowExecutionRequest) =>
      engine.requestCancelWorkflowExecution(request),
    TerminateWorkflowExecution: async (request: wsv1.TerminateWorkflowExecutionRequest) =>
      engine.terminateWorkflowExecution(request),
    QueryWorkflow: (request: wsv1.QueryWorkflowRequest, context: CallContext) => engine.queryWorkflow(request, context.cancellation),
    UpdateWorkflowExecution: (request: wsv1.UpdateWorkflowExecutionRequest, context: CallContext) =>
      engine.updateWorkflowExecution(request, context.cancellation),
    ExecuteMultiOperation: (request: wsv1.ExecuteMultiOperationRequest, context: CallContext) =>
      engine.executeMultiOperation(request, context.cancellation),
    DeleteWorkflowExecution: async (request: wsv1.DeleteWorkflowExecutionRequest) => engine.deleteWorkflowExecution(request),
    ResetStickyTaskQueue: async (request: wsv1.ResetStickyTaskQueueRequest) => engine.resetStickyTaskQueue(request),
    PollWorkflowExecutionUpdate: (request: wsv1.PollWorkflowExecutionUpdateRequest, context: CallContext) =>
      engine.pollWorkflowExecutionUpdate(request, context.cancellation),
    DescribeWorkflowExecution: async (request: wsv1.DescribeWorkflowExecutionRequest) =>
      engine.describeWorkflowExecution(request),
    GetWorkflowExecutionHistory: (request: wsv1.GetWorkflowExecutionHistoryRequest, context: CallContext) =>
      engine.getWorkflowExecutionHistory(request, context.cancellation),
    ListWorkflowExecutions: async (request: wsv1.ListWorkflowExecutionsRequest) => engine.listWorkflowExecutions(request),
    CountWorkflowExecutions: async (request: wsv1.CountWorkflowExecutionsRequest) => engine.countWorkflowExecutions(request),
    PollWorkflowTaskQueue: (request: wsv1.PollWorkflowTaskQueueRequest, context: CallContext) =>
      engine.pollWorkflowTaskQueue(request, context.cancellation),
    RespondWorkflowTaskCompleted: async (request: wsv1.RespondWorkflowTaskCompletedRequest) =>
      engine.respondWorkflowTaskCompleted(request),
    RespondWorkflowTaskFailed: async (request: wsv1.RespondWorkflowTaskFailedRequest) => engine.respondWorkflowTaskFailed(request),
    RespondQueryTaskCompleted: async (request: wsv1.RespondQueryTaskCompletedRequest) => engine.respondQueryTaskCompleted(request),
    PollActivityTaskQueue: (request: wsv1.PollActivityTaskQueueRequest, context: CallContext) =>
      engine.pollActivityTaskQueue(request, context.cancellation),
    RespondActivityTaskCompleted: async (request: wsv1.RespondActivityTaskCompletedRequest) =>
      engine.respondActivityTaskCompleted(request),
    RespondActivityTaskFailed: async (request: wsv1.RespondActivityTaskFailedRequest) => engine.respondActivityTaskFailed(request),
    RespondActivityTaskCanceled: async (request: wsv1.RespondActivityTaskCanceledRequest) =>
      engine.respondActivityTaskCanceled(request),
    RespondActivityTaskCompletedById: async (request: wsv1.RespondActivityTaskCompletedByIdRequest) =>
      engine.respondActivityTaskCompletedById(request),
    RespondActivityTaskFailedById: async (request: wsv1.RespondActivityTaskFailedByIdRequest) => engine.respondActivityTaskFailedById(request),
    RespondActivityTaskCanceledById: async (request: wsv1.RespondActivityTaskCanceledByIdRequest) =>
      engine.respondActivityTaskCanceledById(request),
    RecordActivityTaskHeartbeatById: async (request: wsv1.RecordActivityTaskHeartbeatByIdRequest) =>
      engine.recordActivityTaskHeartbeatById(request),
    RecordActivityTaskHeartbeat: async (request: wsv1.RecordActivityTaskHeartbeatRequest) =>
      engine.recordActivityTaskHeartbeat(request),
    ShutdownWorker: async (request: wsv1.ShutdownWorkerRequest) => engine.shutdownWorker(request),
  };
  return handlers;
}

function testServiceHandlers(engine: TemporalEngine): Record<string, UnaryHandler> {
  const clock = engine.clock;
  return {
    LockTimeSkipping: async () => {
      clock.lock();
      return {};
    },
    UnlockTimeSkipping: async () => {
      clock.unlock();
      return {};
    },
    UnlockTimeSkippingWithSleep: async (request: testv1.SleepRequest, context: CallContext) => {
      await engine.sleep(request.duration, context.cancellation);
      return {};
    },
    Sleep: async (request: testv1.SleepRequest, context: CallContext) => {
      await engine.sleep(request.duration, context.cancellation);
      return {};
    },
    SleepUntil: async (request: testv1.SleepUntilRequest, context: CallContext) => {
      await engine.sleepUntil(timestampMs(request.timestamp) ?? 0, context.cancellation);
      return {};
    },
    GetCurrentTime: async () => ({ time: timestamp(engine.currentTime()) }),
  };
}

/** Every handler answers only once the state changes made so far are on disk. */
function answeringWhenDurable(handlers: Record<string, UnaryHandler>, persistence: EnginePersistence): Record<string, UnaryHandler> {
  const durable: Record<string, UnaryHandler> = {};
  for (const [method, handler] of Object.entries(handlers)) {
    durable[method] = async (request, context) => {
      try {
        return await handler(request, context);
      } finally {
        const written = persistence.whenDurable();
        if (written) await written;
      }
    };
  }
  return durable;
}

/** The engine, with the state of `dataDir` restored and kept from now on when one is given. */
async function createEngine(options: TemporalTestServerOptions): Promise<{ engine: TemporalEngine; persistence: EnginePersistence | undefined }> {
  const startTimeMs = options.startTimeMs;
  if (!options.dataDir) return { engine: new TemporalEngine({ timeSkipping: options.timeSkipping, startTimeMs }), persistence: undefined };
  const { persistence, restored } = await EnginePersistence.open(options.dataDir, { compactAfterBytes: options.compactJournalAfterBytes });
  if (restored.droppedTailBytes > 0) {
    console.error(`[temporal-test-server] ${options.dataDir}: dropped ${restored.droppedTailBytes} bytes of a batch a crash left unfinished (never acknowledged)`);
  }
  const engine = new TemporalEngine({
    timeSkipping: options.timeSkipping,
    startTimeMs: restored.skippedMs !== undefined ? Date.now() + restored.skippedMs : startTimeMs,
    store: persistence,
  });
  engine.restore(restored.runs, restored.counters);
  await persistence.attach({ runs: () => engine.runs(), counters: () => engine.counters(), skippedMs: () => engine.clock.skippedMs });
  return { engine, persistence };
}

/** Starts the server in this process. */
export async function startTemporalTestServer(options: TemporalTestServerOptions): Promise<TemporalTestServer> {
  const host = options.host ?? '127.0.0.1';
  const { engine, persistence } = await createEngine(options);
  const activeCalls = new Set<Cancellation>();
  const reportError = (method: string, error: unknown): void => {
    console.error(`[temporal-test-server] ${method} failed:`, error);
  };
  const server = new Server({
    'grpc.max_receive_message_length': 128 * 1024 * 1024,
    'grpc.max_send_message_length': 128 * 1024 * 1024,
    'grpc.enable_channelz': 0,
  });
  const handlers = workflowServiceHandlers(engine);
  const workflowService = bindService(
    'temporal.api.workflowservice.v1.WorkflowService',
    persistence ? answeringWhenDurable(handlers, persistence) : handlers,
    reportError,
    activeCalls,
  );
  server.addService(workflowService.definition, workflowService.implementation);
  const testService = bindService('temporal.api.testservice.v1.TestService', testServiceHandlers(engine), reportError, activeCalls);
  server.addService(testService.definition, testService.implementation);
  // Operator and health services are not served: every call to them answers UNIMPLEMENTED.

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port ?? 0}`, ServerCredentials.createInsecure(), (error, boundPort) => {
      if (error) reject(error);
      else resolve(boundPort);
    });
  }).catch(async (error: unknown) => {
    engine.shutdown();
    await persistence?.close();
    throw error;
  });
  let closing: Promise<void> | undefined;
  return {
    address: `${host}:${port}`,
    port,
    now: () => engine.clock.now(),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        engine.shutdown();
        for (const call of activeCalls) call.cancel();
        server.tryShutdown(() => resolve());
        // Streams that the peer never closes must not keep the process alive.
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2_000).unref();
      }).then(() => persistence?.close());
      return closing;
    },
  };
}
