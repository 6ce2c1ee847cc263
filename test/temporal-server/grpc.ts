import type { MethodDefinition, sendUnaryData, ServerUnaryCall, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import * as protoRoot from '@temporalio/proto';
import type { Method, Root, Service, Type } from 'protobufjs';
import { RpcError, unimplemented } from './errors';

/** What a handler may know about its call: long polls stop waiting when the caller goes away. */
export interface CallContext {
  readonly signal: AbortSignal;
}

/**
 * A unary handler for one RPC. The request is the decoded protobufjs message of the method's
 * request type; `never` lets each handler declare its own concrete request type.
 */
export type UnaryHandler = (request: never, context: CallContext) => Promise<object>;

const root = protoRoot as unknown as Root;

/** TEMPORAL_TEST_SERVER_TRACE=1 logs every call and answer to stderr. */
const TRACE = process.env.TEMPORAL_TEST_SERVER_TRACE === '1';

/**
 * A grpc-js service definition for a Temporal proto service, with protobufjs encoding, and an
 * implementation in which every method without a handler answers UNIMPLEMENTED.
 */
export function bindService(
  serviceName: string,
  handlers: Readonly<Record<string, UnaryHandler>>,
  onError: (method: string, error: unknown) => void,
  activeCalls: Set<AbortController>,
): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
  const service: Service = root.lookupService(serviceName);
  const definition: Record<string, MethodDefinition<object, object>> = {};
  const implementation: UntypedServiceImplementation = {};
  for (const method of service.methodsArray as Method[]) {
    method.resolve();
    const requestType = method.resolvedRequestType as Type;
    const responseType = method.resolvedResponseType as Type;
    definition[method.name] = {
      path: `/${serviceName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      originalName: method.name,
      requestSerialize: (message: object) => Buffer.from(requestType.encode(message).finish()),
      requestDeserialize: (bytes: Buffer) => requestType.decode(bytes),
      responseSerialize: (message: object) => Buffer.from(responseType.encode(message).finish()),
      responseDeserialize: (bytes: Buffer) => responseType.decode(bytes),
    };
    const handler = handlers[method.name];
    implementation[method.name] = (call: ServerUnaryCall<object, object>, callback: sendUnaryData<object>) => {
      if (!handler) {
        const error = unimplemented(method.name);
        callback({ code: error.code, details: error.message });
        return;
      }
      if (TRACE) console.error(`[temporal-test-server] ${method.name} ${JSON.stringify(call.request).slice(0, 2000)}`);
      const controller = new AbortController();
      activeCalls.add(controller);
      call.on('cancelled', () => controller.abort());
      handler(call.request as never, { signal: controller.signal }).then(
        (response) => {
          activeCalls.delete(controller);
          if (TRACE) console.error(`[temporal-test-server] ${method.name} -> ${JSON.stringify(response).slice(0, 2000)}`);
          callback(null, response);
        },
        (error: unknown) => {
          activeCalls.delete(controller);
          if (error instanceof RpcError) {
            callback({ code: error.code, details: error.message, metadata: error.metadata() });
            return;
          }
          onError(method.name, error);
          callback({ code: status.INTERNAL, details: error instanceof Error ? error.message : String(error) });
        },
      );
    };
  }
  return { definition, implementation };
}
