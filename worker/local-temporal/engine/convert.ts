import Long from 'long';
import type { google, temporal } from '@temporalio/proto';

export type Timestamp = google.protobuf.ITimestamp;
export type Duration = google.protobuf.IDuration;
export type Payloads = temporal.api.common.v1.IPayloads;

export function int64(value: number): Long {
  return Long.fromNumber(value);
}

export function toNumber(value: Long | number | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  return value.toNumber();
}

export function timestamp(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds: int64(seconds), nanos: Math.round((ms - seconds * 1000) * 1_000_000) };
}

export function timestampMs(value: Timestamp | null | undefined): number | undefined {
  if (!value) return undefined;
  return toNumber(value.seconds) * 1000 + Math.floor((value.nanos ?? 0) / 1_000_000);
}

export function duration(ms: number): Duration {
  const seconds = Math.floor(ms / 1000);
  return { seconds: int64(seconds), nanos: Math.round((ms - seconds * 1000) * 1_000_000) };
}

/** Milliseconds of a proto Duration; undefined when unset or zero (Temporal's "not set"). */
export function durationMs(value: Duration | null | undefined): number | undefined {
  if (!value) return undefined;
  const ms = toNumber(value.seconds) * 1000 + Math.floor((value.nanos ?? 0) / 1_000_000);
  return ms > 0 ? ms : undefined;
}
