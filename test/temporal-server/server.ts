import { Server, ServerCredentials } from '@grpc/grpc-js';
import { temporal } from '@temporalio/proto';
import { timestamp, timestampMs } from './convert';
import { TemporalEngine } from './engine';
import { bindService, type CallContext, type UnaryHandler } from './grpc';

type WS = typeof temporal.api.workflowservice.v1;
type Request<Name extends keyof WS> = WS[Name] extends abstract new (...args: never[]) => infer Instance ? Instance : never;

const SERVER_VERSION = '1.24.0-fieldops-test-server';

export interface TemporalTestServerOptions {
  /** 0 or unset: any free port. */
  port?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** true: virtual clock with TestService time skipping; false: wall clock (the offline dev engine). */
  timeSkipping: boolean;
}

export interface TemporalTestServer {
  /** host:port to give Connection.connect / NativeConnection.connect. */
  address: string;
  port: number;
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
        eagerWorkflowStart: false,
        sdkMetadata: true,
        countGroupByExecutionStatus: false,
        nexus: false,
      },
    }),
    DescribeNamespace: async (request: Request<'DescribeNamespaceRequest'>) => ({
      namespaceInfo: {
        name: request.namespace || 'default',
        id: request.namespace || 'default',
        state: temporal.api.enums.v1.NamespaceState.NAMESPACE_STATE_REGISTERED,
        description: 'in-memory namespace of the fieldops Temporal test server',
        capabilities: { syncUpdate: true, asyncUpdate: true, eagerWorkflowStart: false },
      },
      config: { workflowExecutionRetentionTtl: { seconds: 86_400 } },
      isGlobalNamespace: false,
    }),
    StartWorkflowExecution: async (request: Request<'StartWorkflowExecutionRequest'>) => engine.startWorkflowExecution(request),
    SignalWithStartWorkflowExecution: async (request: Request<'SignalWithStartWorkflowExecutionRequest'>) =>
      engine.signalWithStartWorkflowExecution(request),
    SignalWorkflowExecution: async (request: Request<'SignalWorkflowExecutionRequest'>) => engine.signalWorkflowExecution(request),
    RequestCancelWorkflowExecution: async (request: Request<'RequestCancelWorkflowExecutionRequest'>) =>
      engine.requestCancelWorkflowExecution(request),
    TerminateWorkflowExecution: async (request: Request<'TerminateWorkflowExecutionRequest'>) =>
      engine.terminateWorkflowExecution(request),
    QueryWorkflow: (request: Request<'QueryWorkflowRequest'>, context: CallContext) => engine.queryWorkflow(request, context.signal),
    UpdateWorkflowExecution: (request: Request<'UpdateWorkflowExecutionRequest'>, context: CallContext) =>
      engine.updateWorkflowExecution(request, context.signal),
    PollWorkflowExecutionUpdate: (request: Request<'PollWorkflowExecutionUpdateRequest'>, context: CallContext) =>
      engine.pollWorkflowExecutionUpdate(request, context.signal),
    DescribeWorkflowExecution: async (request: Request<'DescribeWorkflowExecutionRequest'>) =>
      engine.describeWorkflowExecution(request),
    GetWorkflowExecutionHistory: (request: Request<'GetWorkflowExecutionHistoryRequest'>, context: CallContext) =>
      engine.getWorkflowExecutionHistory(request, context.signal),
    ListWorkflowExecutions: async (request: Request<'ListWorkflowExecutionsRequest'>) => engine.listWorkflowExecutions(request),
    CountWorkflowExecutions: async (request: Request<'CountWorkflowExecutionsRequest'>) => engine.countWorkflowExecutions(request),
    PollWorkflowTaskQueue: (request: Request<'PollWorkflowTaskQueueRequest'>, context: CallContext) =>
      engine.pollWorkflowTaskQueue(request, context.signal),
    RespondWorkflowTaskCompleted: async (request: Request<'RespondWorkflowTaskCompletedRequest'>) =>
      engine.respondWorkflowTaskCompleted(request),
    RespondWorkflowTaskFailed: async (request: Request<'RespondWorkflowTaskFailedRequest'>) => engine.respondWorkflowTaskFailed(request),
    RespondQueryTaskCompleted: async (request: Request<'RespondQueryTaskCompletedRequest'>) => engine.respondQueryTaskCompleted(request),
    PollActivityTaskQueue: (request: Request<'PollActivityTaskQueueRequest'>, context: CallContext) =>
      engine.pollActivityTaskQueue(request, context.signal),
    RespondActivityTaskCompleted: async (request: Request<'RespondActivityTaskCompletedRequest'>) =>
      engine.respondActivityTaskCompleted(request),
    RespondActivityTaskFailed: async (request: Request<'RespondActivityTaskFailedRequest'>) => engine.respondActivityTaskFailed(request),
    RespondActivityTaskCanceled: async (request: Request<'RespondActivityTaskCanceledRequest'>) =>
      engine.respondActivityTaskCanceled(request),
    RecordActivityTaskHeartbeat: async (request: Request<'RecordActivityTaskHeartbeatRequest'>) =>
      engine.recordActivityTaskHeartbeat(request),
    ShutdownWorker: async (request: Request<'ShutdownWorkerRequest'>) => engine.shutdownWorker(request),
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
    UnlockTimeSkippingWithSleep: async (request: temporal.api.testservice.v1.SleepRequest, context: CallContext) => {
      await engine.sleep(request.duration, context.signal);
      return {};
    },
    Sleep: async (request: temporal.api.testservice.v1.SleepRequest, context: CallContext) => {
      await engine.sleep(request.duration, context.signal);
      return {};
    },
    SleepUntil: async (request: temporal.api.testservice.v1.SleepUntilRequest, context: CallContext) => {
      await engine.sleepUntil(timestampMs(request.timestamp) ?? 0, context.signal);
      return {};
    },
    GetCurrentTime: async () => ({ time: timestamp(engine.currentTime()) }),
  };
}

/** Starts the server in this process. */
export async function startTemporalTestServer(options: TemporalTestServerOptions): Promise<TemporalTestServer> {
  const host = options.host ?? '127.0.0.1';
  const engine = new TemporalEngine({ timeSkipping: options.timeSkipping });
  const activeCalls = new Set<AbortController>();
  const reportError = (method: string, error: unknown): void => {
    console.error(`[temporal-test-server] ${method} failed:`, error);
  };
  const server = new Server({ 'grpc.max_receive_message_length': 128 * 1024 * 1024, 'grpc.max_send_message_length': 128 * 1024 * 1024 });
  const workflowService = bindService('temporal.api.workflowservice.v1.WorkflowService', workflowServiceHandlers(engine), reportError, activeCalls);
  server.addService(workflowService.definition, workflowService.implementation);
  const testService = bindService('temporal.api.testservice.v1.TestService', testServiceHandlers(engine), reportError, activeCalls);
  server.addService(testService.definition, testService.implementation);
  // Operator and health services are not served: every call to them answers UNIMPLEMENTED.

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port ?? 0}`, ServerCredentials.createInsecure(), (error, boundPort) => {
      if (error) reject(error);
      else resolve(boundPort);
    });
  });
  let closing: Promise<void> | undefined;
  return {
    address: `${host}:${port}`,
    port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        engine.shutdown();
        for (const call of activeCalls) call.abort();
        server.tryShutdown(() => resolve());
        // Streams that the peer never closes must not keep the process alive.
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2_000).unref();
      });
      return closing;
    },
  };
}
