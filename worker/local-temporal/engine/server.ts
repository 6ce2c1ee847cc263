import { Server, ServerCredentials } from '@grpc/grpc-js';
import { temporal } from '@temporalio/proto';
import type { Cancellation } from './cancellation';
import { timestamp, timestampMs } from './convert';
import { TemporalEngine } from './engine';
import { bindService, type CallContext, type UnaryHandler } from './grpc';

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
  /** Time skipping only: the virtual time to start at (epoch ms), e.g. to run a test on a past calendar date. */
  startTimeMs?: number | undefined;
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

/** Starts the server in this process. */
export async function startTemporalTestServer(options: TemporalTestServerOptions): Promise<TemporalTestServer> {
  const host = options.host ?? '127.0.0.1';
  const engine = new TemporalEngine({ timeSkipping: options.timeSkipping, startTimeMs: options.timeSkipping ? options.startTimeMs : undefined });
  const activeCalls = new Set<Cancellation>();
  const reportError = (method: string, error: unknown): void => {
    console.error(`[temporal-test-server] ${method} failed:`, error);
  };
  const server = new Server({
    'grpc.max_receive_message_length': 128 * 1024 * 1024,
    'grpc.max_send_message_length': 128 * 1024 * 1024,
    'grpc.enable_channelz': 0,
  });
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
        for (const call of activeCalls) call.cancel();
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
