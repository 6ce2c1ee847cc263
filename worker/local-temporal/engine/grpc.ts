import type { MethodDefinition, sendUnaryData, ServerUnaryCall, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors';
import zlib from 'node:zlib';
import * as protoRoot from '@temporalio/proto';
import type { Root, Service, Type } from 'protobufjs';
import { Cancellation } from './cancellation';
import { RpcError, unimplemented } from './errors';

/** What a handler may know about its call: long polls stop waiting when the caller goes away. */
export interface CallContext {
  readonly cancellation: Cancellation;
}

/**
 * A unary handler for one RPC. The request is the decoded protobufjs message of the method's
 * request type; `never` lets each handler declare its own concrete request type.
 */
export type UnaryHandler = (request: never, context: CallContext) => Promise<object>;

const root = protoRoot as unknown as Root;

/** TEMPORAL_TEST_SERVER_TRACE=1 logs every call and answer to stderr. */
const TRACE = process.env.TEMPORAL_TEST_SERVER_TRACE === '1';

type Decompress = (this: { maxReceiveMessageSize: number }, message: Buffer, encoding: string) => Buffer | Promise<Buffer>;
let decompressionPatched = false;

/**
 * The SDK's native worker gzips every request, and grpc-js inflates each one through a new zlib
 * stream: that was the largest single cost of this server under load. One-shot synchronous
 * inflation of these small messages is many times cheaper. (Patches a grpc-js internal; if it
 * is ever missing, grpc-js's own path stays in use.)
 */
function useOneShotDecompression(): void {
  if (decompressionPatched) return;
  decompressionPatched = true;
  const prototype = BaseServerInterceptingCall.prototype as unknown as { decompressMessage?: Decompress };
  const original = prototype.decompressMessage;
  if (typeof original !== 'function') return;
  prototype.decompressMessage = function (message, encoding) {
    if (encoding !== 'gzip' && encoding !== 'deflate') return original.call(this, message, encoding);
    const contents = message.subarray(5);
    const options = this.maxReceiveMessageSize > 0 ? { maxOutputLength: this.maxReceiveMessageSize } : {};
    try {
      return encoding === 'gzip' ? zlib.gunzipSync(contents, options) : zlib.inflateSync(contents, options);
    } catch {
      // Corrupt or oversized: grpc-js's own path answers with the proper status.
      return original.call(this, message, encoding);
    }
  };
}

/**
 * A grpc-js service definition for a Temporal proto service, with protobufjs encoding, and an
 * implementation in which every method without a handler answers UNIMPLEMENTED.
 */
export function bindService(
  serviceName: string,
  handlers: Readonly<Record<string, UnaryHandler>>,
  onError: (method: string, error: unknown) => void,
  activeCalls: Set<Cancellation>,
): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
  useOneShotDecompression();
  const service: Service = root.lookupService(serviceName);
  const definition: Record<string, MethodDefinition<object, object>> = {};
  const implementation: UntypedServiceImplementation = {};
  for (const method of service.methodsArray) {
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
      const cancellation = new Cancellation();
      activeCalls.add(cancellation);
      call.on('cancelled', () => cancellation.cancel());
      handler(call.request as never, { cancellation }).then(
        (response) => {
          activeCalls.delete(cancellation);
          if (TRACE) console.error(`[temporal-test-server] ${method.name} -> ${JSON.stringify(response).slice(0, 2000)}`);
          callback(null, response);
        },
        (error: unknown) => {
          activeCalls.delete(cancellation);
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
