/**
 * OTLP protobuf for requests that hold received records: a clean `WireLogRecord` is copied as the bytes
 * it arrived in (unknown fields included), every other record, Resource and scope is encoded by the
 * generated code, and the ResourceLogs / ScopeLogs framing around them is written here.
 */
import { createRequire } from 'node:module';
import { JsonByteWriter } from './json-buffer-encoder.js';
import type { ExportLogsServiceRequest, LogRecord, ResourceLogs } from './model.js';
import { cleanWireBytes, plainLogRecord, WireLogRecord } from './wire-record.js';

const require = createRequire(import.meta.url);
interface Encoder {
  encode(m: unknown): { finish(): Uint8Array };
}
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-explicit-any -- the generated protobufjs root is untyped */
const proto = (require('../generated/otlp.cjs') as { opentelemetry: { proto: any } }).opentelemetry.proto;
const LogRecordCodec: Encoder = proto.logs.v1.LogRecord;
const ResourceCodec: Encoder = proto.resource.v1.Resource;
const ScopeCodec: Encoder = proto.common.v1.InstrumentationScope;
const KeyValueCodec: Encoder = proto.common.v1.KeyValue;
/* eslint-enable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-explicit-any */

/**
 * True when some record of the request is a `WireLogRecord` (the generated encoder writes only own
 * properties, and such a record's fields are getters).
 */
export function holdsWireRecords(rls: readonly ResourceLogs[]): boolean {
  for (let i = 0; i < rls.length; i++) {
    const sls = rls[i]!.scopeLogs;
    for (let j = 0; j < sls.length; j++) {
      const recs = sls[j]!.logRecords;
      for (let k = 0; k < recs.length; k++) if (recs[k] instanceof WireLogRecord) return true;
    }
  }
  return false;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** A field's size with its one-byte tag and length prefix. */
function fieldSize(n: number): number {
  return 1 + varintSize(n) + n;
}

/** Per-request scratch: the encoded pieces in write order, sized before anything is written. */
interface Plan {
  pieces: (Uint8Array | WireLogRecord)[];
  sizes: number[];
}

function recordPiece(r: LogRecord): Uint8Array | WireLogRecord {
  const w = cleanWireBytes(r);
  if (w === undefined) return LogRecordCodec.encode(plainLogRecord(r)).finish();
  const overlay = w.overlay;
  if (overlay === null || overlay.length === 0) return w;
  // Attributes set over the bytes: appended as fields when none of their keys is there already.
  for (const kv of overlay) if (w.wireAttribute(kv.key) !== undefined) return LogRecordCodec.encode(plainLogRecord(r)).finish();
  const out = new JsonByteWriter(w.wireEnd - w.wireStart + 64);
  out.rawRange(w.wire, w.wireStart, w.wireEnd);
  for (const kv of overlay) {
    const b = KeyValueCodec.encode(kv).finish();
    out.byte(0x32); // LogRecord.attributes = 6
    out.varint(b.length);
    out.raw(b);
  }
  return out.bytes();
}

function pieceSize(p: Uint8Array | WireLogRecord): number {
  return p instanceof WireLogRecord ? p.wireEnd - p.wireStart : p.length;
}

const scratch = new JsonByteWriter(256);

function stringBytes(s: string): Uint8Array {
  scratch.reset();
  scratch.pbString(s);
  return scratch.copy();
}

/**
 * Encodes the request; the bytes equal the generated encoder's wherever no record is in its received
 * bytes (field order of each record is then the sender's, and fields this schema does not know stay).
 */
export function encodeExportRequestForwarding(req: ExportLogsServiceRequest): Uint8Array {
  const plan: Plan = { pieces: [], sizes: [] };
  // Sizes are computed bottom-up: a ScopeLogs' size is pushed before its pieces' sizes are known, so
  // its slot is filled in once they are.
  let total = 0;
  const rls = req.resourceLogs;
  for (let i = 0; i < rls.length; i++) {
    const rl = rls[i]!;
    const rlSlot = plan.sizes.length;
    plan.sizes.push(0);
    let rlSize = addPiece(plan, present(rl, 'resource') ? ResourceCodec.encode(rl.resource).finish() : ABSENT);
    const sls = rl.scopeLogs;
    for (let j = 0; j < sls.length; j++) {
      const sl = sls[j]!;
      const slSlot = plan.sizes.length;
      plan.sizes.push(0);
      let slSize = addPiece(plan, present(sl, 'scope') ? ScopeCodec.encode(sl.scope).finish() : ABSENT);
      const recs = sl.logRecords;
      for (let k = 0; k < recs.length; k++) {
        const piece = recordPiece(recs[k]!);
        plan.pieces.push(piece);
        slSize += fieldSize(pieceSize(piece));
      }
      slSize += addPiece(plan, present(sl, 'schemaUrl') ? stringBytes(sl.schemaUrl) : ABSENT);
      plan.sizes[slSlot] = slSize;
      rlSize += fieldSize(slSize);
    }
    rlSize += addPiece(plan, present(rl, 'schemaUrl') ? stringBytes(rl.schemaUrl) : ABSENT);
    plan.sizes[rlSlot] = rlSize;
    total += fieldSize(rlSize);
  }

  const out = new JsonByteWriter(total + 16);
  let piece = 0;
  let size = 0;
  for (let i = 0; i < rls.length; i++) {
    const rl = rls[i]!;
    out.byte(0x0a); // ExportLogsServiceRequest.resource_logs = 1
    out.varint(plan.sizes[size++]!);
    const resource = plan.pieces[piece++] as Uint8Array;
    if (resource !== ABSENT) writeField(out, 0x0a, resource);
    const sls = rl.scopeLogs;
    for (let j = 0; j < sls.length; j++) {
      const sl = sls[j]!;
      out.byte(0x12); // ResourceLogs.scope_logs = 2
      out.varint(plan.sizes[size++]!);
      const scope = plan.pieces[piece++] as Uint8Array;
      if (scope !== ABSENT) writeField(out, 0x0a, scope);
      const n = sl.logRecords.length;
      for (let k = 0; k < n; k++) {
        const p = plan.pieces[piece++]!;
        out.byte(0x12); // ScopeLogs.log_records = 2
        if (p instanceof WireLogRecord) {
          out.varint(p.wireEnd - p.wireStart);
          out.rawRange(p.wire, p.wireStart, p.wireEnd);
        } else {
          out.varint(p.length);
          out.raw(p);
        }
      }
      const url = plan.pieces[piece++] as Uint8Array;
      if (url !== ABSENT) writeField(out, 0x1a, url);
    }
    const url = plan.pieces[piece++] as Uint8Array;
    if (url !== ABSENT) writeField(out, 0x1a, url);
  }
  return out.bytes();
}

/** A field left out (the generated encoder writes a field that is set as an own property). */
const ABSENT = new Uint8Array(0);

function present(o: object, key: string): boolean {
  return (o as Record<string, unknown>)[key] != null && Object.hasOwn(o, key);
}

/** Adds a resource, scope or schema_url piece; returns its size as a field (0 when absent). */
function addPiece(plan: Plan, b: Uint8Array): number {
  plan.pieces.push(b);
  return b === ABSENT ? 0 : fieldSize(b.length);
}

function writeField(out: JsonByteWriter, tag: number, b: Uint8Array): void {
  out.byte(tag);
  out.varint(b.length);
  out.raw(b);
}
