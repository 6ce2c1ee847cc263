import { Metadata, status } from '@grpc/grpc-js';
import { google, temporal } from '@temporalio/proto';

/** An error answered to the caller as a gRPC status, optionally with Temporal's typed error details. */
export class RpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly details?: google.protobuf.IAny,
  ) {
    super(message);
  }

  /** Trailers carrying a google.rpc.Status with the typed details, as the real server sends them. */
  metadata(): Metadata {
    const metadata = new Metadata();
    if (this.details) {
      const rpcStatus = google.rpc.Status.encode({ code: this.code, message: this.message, details: [this.details] }).finish();
      metadata.set('grpc-status-details-bin', Buffer.from(rpcStatus));
    }
    return metadata;
  }
}

export function notFound(message: string): RpcError {
  return new RpcError(status.NOT_FOUND, message, {
    type_url: 'type.googleapis.com/temporal.api.errordetails.v1.NotFoundFailure',
    value: temporal.api.errordetails.v1.NotFoundFailure.encode({}).finish(),
  });
}

export function invalidArgument(message: string): RpcError {
  return new RpcError(status.INVALID_ARGUMENT, message);
}

export function failedPrecondition(message: string): RpcError {
  return new RpcError(status.FAILED_PRECONDITION, message);
}

export function workflowAlreadyStarted(startRequestId: string, runId: string): RpcError {
  return new RpcError(status.ALREADY_EXISTS, `Workflow execution is already running. RunId: ${runId}`, {
    type_url: 'type.googleapis.com/temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure',
    value: temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure.encode({ startRequestId, runId }).finish(),
  });
}

export function queryFailed(message: string, failure: temporal.api.failure.v1.IFailure | null | undefined): RpcError {
  return new RpcError(status.INVALID_ARGUMENT, message, {
    type_url: 'type.googleapis.com/temporal.api.errordetails.v1.QueryFailedFailure',
    value: temporal.api.errordetails.v1.QueryFailedFailure.encode({ failure: failure ?? null }).finish(),
  });
}

export function unimplemented(method: string): RpcError {
  return new RpcError(status.UNIMPLEMENTED, `${method} is not implemented by the fieldops Temporal test server`);
}
