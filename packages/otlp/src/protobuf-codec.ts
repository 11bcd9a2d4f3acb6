/** OTLP protobuf codec over the committed protobufjs static code (generated/otlp.cjs, see `npm run proto`). */
import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import type { MessageCodec } from '../generated/otlp.cjs';
import type { ExportLogsServiceRequest, ExportLogsServiceResponse, Long } from './model.js';
import { encodeExportRequestForwarding, holdsWireRecords } from './wire-encode.js';
import { decodeExportRequestWire } from './wire-record.js';

const require = createRequire(import.meta.url);
// Both src/ and dist/ sit beside generated/, so one relative path serves tests and the build.
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access -- the generated protobufjs root is untyped */
const root = require('../generated/otlp.cjs') as { opentelemetry: any; google: any };

// Strings with invalid UTF-8 decode with U+FFFD in place of the bad bytes (as upstream's Go decoder does).
// Count them, so the replacement is not silent: a U+FFFD in the result is checked against the bytes.
let invalidUtf8 = 0;
interface BufferReaderLike { buf: Buffer & { utf8Slice(start: number, end: number): string }; pos: number; len: number; uint32(): number }
const minimal = require('protobufjs/minimal') as { BufferReader: { prototype: { string: (this: BufferReaderLike) => string } } };
minimal.BufferReader.prototype.string = function readString(this: BufferReaderLike): string {
  const len = this.uint32();
  const start = this.pos;
  const end = Math.min(start + len, this.len);
  this.pos = end;
  const s = this.buf.utf8Slice(start, end); // as protobufjs does: no argument checks per string
  if (s.indexOf('\uFFFD') !== -1 && !isUtf8(this.buf.subarray(start, end))) invalidUtf8++;
  return s;
};

// 64-bit fields: protobufjs builds a LongBits and then a Long for each; build the Long directly (the
// same value and type). Two timestamps per record made these a third of decode time.
interface ReaderLike { buf: Uint8Array; pos: number; len: number }
interface ReaderProto { fixed64: (this: ReaderLike) => Long; int64: (this: ReaderLike) => Long }
const readerProto = (require('protobufjs/minimal') as { Reader: { prototype: ReaderProto } }).Reader.prototype;
const LongCtor = require('long') as typeof Long;
const slowFixed64 = readerProto.fixed64;
const slowInt64 = readerProto.int64;
readerProto.fixed64 = function readFixed64(this: ReaderLike): Long {
  const p = this.pos;
  if (p + 8 > this.len) return slowFixed64.call(this); // throws protobufjs's out-of-range error
  const b = this.buf;
  this.pos = p + 8;
  return new LongCtor(b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24), b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24), true);
};
readerProto.int64 = function readInt64(this: ReaderLike): Long {
  // Values below 2^28 (status codes, counts, durations) take at most four varint bytes.
  const b = this.buf;
  const p = this.pos;
  let v = 0;
  for (let i = 0; i < 4 && p + i < this.len; i++) {
    const c = b[p + i]!;
    v |= (c & 0x7f) << (7 * i);
    if (c < 0x80) {
      this.pos = p + i + 1;
      return new LongCtor(v, 0, false);
    }
  }
  return slowInt64.call(this);
};

/**
 * Strings decoded so far (protobuf and OTLP/JSON, process-wide) whose invalid UTF-8 or lone surrogates
 * were replaced with U+FFFD. Receivers read it before and after decoding a request.
 */
export function invalidUtf8Replacements(): number {
  return invalidUtf8;
}

/** Adds to the count (the JSON codec). */
export function countInvalidUtf8(n: number): void {
  invalidUtf8 += n;
}

const v1 = root.opentelemetry.proto.collector.logs.v1;
const RequestCodec: MessageCodec = v1.ExportLogsServiceRequest;
const ResponseCodec: MessageCodec = v1.ExportLogsServiceResponse;
const StatusCodec: MessageCodec = root.google.rpc.Status;
const RetryInfoCodec: MessageCodec = root.google.rpc.RetryInfo;
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access */

/**
 * Decodes an ExportLogsServiceRequest, keeping each well-formed record in the received bytes (see
 * `WireLogRecord`: `buf` must not be written afterwards). Throws (protobufjs error) on malformed input.
 */
export function decodeExportRequest(buf: Uint8Array): ExportLogsServiceRequest {
  let req: ExportLogsServiceRequest | null = null;
  try {
    req = decodeExportRequestWire(buf) as ExportLogsServiceRequest | null;
  } catch {
    // The generated decoder below throws its own error for the same input.
  }
  return req ?? (RequestCodec.decode(buf) as ExportLogsServiceRequest);
}

/** Decodes every record into objects (no bytes kept): for callers that reuse `buf`. */
export function decodeExportRequestTree(buf: Uint8Array): ExportLogsServiceRequest {
  return RequestCodec.decode(buf) as ExportLogsServiceRequest;
}

/** Encodes a request; records still in their received bytes are copied as they are. */
export function encodeExportRequest(req: ExportLogsServiceRequest): Uint8Array {
  if (holdsWireRecords(req.resourceLogs)) return encodeExportRequestForwarding(req);
  return RequestCodec.encode(req).finish();
}

export function decodeExportResponse(buf: Uint8Array): ExportLogsServiceResponse {
  return ResponseCodec.decode(buf);
}

export function encodeExportResponse(res: ExportLogsServiceResponse): Uint8Array {
  return ResponseCodec.encode(res).finish();
}

/** google.rpc.Status, the body of OTLP/HTTP failures and of gRPC `grpc-status-details-bin`. */
export interface RpcStatus {
  code: number;
  message: string;
  details?: { typeUrl: string; value: Uint8Array }[];
}

export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

export function encodeRpcStatus(status: RpcStatus): Uint8Array {
  return StatusCodec.encode(status).finish();
}

export function decodeRpcStatus(buf: Uint8Array): RpcStatus {
  return StatusCodec.decode(buf) as RpcStatus;
}

/** A google.rpc.RetryInfo detail carrying the delay the client should wait. */
export function encodeRetryInfo(delayMs: number): { typeUrl: string; value: Uint8Array } {
  const seconds = Math.floor(delayMs / 1000);
  const nanos = Math.round((delayMs - seconds * 1000) * 1e6);
  return { typeUrl: RETRY_INFO_TYPE_URL, value: RetryInfoCodec.encode({ retryDelay: { seconds, nanos } }).finish() };
}

/** Delay in ms from a RetryInfo detail inside a Status, if present. */
export function retryDelayFromStatus(status: RpcStatus): number | undefined {
  for (const d of status.details ?? []) {
    if (d.typeUrl !== RETRY_INFO_TYPE_URL) continue;
    const info = RetryInfoCodec.decode(d.value) as { retryDelay?: { seconds?: { toNumber(): number } | number; nanos?: number } };
    const s = info.retryDelay?.seconds;
    const secs = typeof s === 'number' ? s : s ? s.toNumber() : 0;
    return secs * 1000 + (info.retryDelay?.nanos ?? 0) / 1e6;
  }
  return undefined;
}
