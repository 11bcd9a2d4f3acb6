/**
 * Log records that stay in the bytes they arrived in. `decodeExportRequest` checks each received
 * LogRecord once (structure, wire types, UTF-8) and keeps it as a `WireLogRecord`: one object holding
 * the request buffer and the record's byte range, instead of the ~20 objects a decoded tree costs.
 * Reading a field decodes the record (once, with the generated code); writing one keeps the change in
 * that decoded copy. While no field that can be changed in place (`body`, `attributes`) has been read
 * and none has been set, the record is "clean": OTLP/JSON is written straight from its bytes, and
 * OTLP protobuf forwards them as they are (unknown fields included).
 *
 * The received buffer must not be written after decoding: receivers own the bodies they read.
 */
import { createRequire } from 'node:module';
import { isUtf8 } from 'node:buffer';
import { cloneAnyValue, findAttribute } from './any-value.js';
import type { AnyValue, KeyValue, LogRecord, Long, ResourceLogs } from './model.js';

const require = createRequire(import.meta.url);
interface Codec {
  decode(r: unknown, l?: number): unknown;
  encode(m: unknown, w?: unknown): { finish(): Uint8Array };
}
const root = require('../generated/otlp.cjs') as { opentelemetry: { proto: Record<string, Record<string, Record<string, Codec>>> } };
const LogRecordCodec: Codec = root.opentelemetry.proto.logs!.v1!.LogRecord!;
const LongCtor = require('long') as typeof Long;
/** The generated class's prototype holds the defaults of absent fields. */
const DEFAULTS = (LogRecordCodec as unknown as { prototype: LogRecord }).prototype;

function asBuffer(b: Uint8Array): WireBuffer {
  return (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)) as WireBuffer;
}
const minimal = require('protobufjs/minimal') as { Reader: { create(b: Uint8Array): { pos: number } } };

/** Decodes bytes [start, end) of `buf` as a LogRecord with the generated code. */
export function decodeLogRecordAt(buf: Uint8Array, start: number, end: number): LogRecord {
  const reader = minimal.Reader.create(buf);
  reader.pos = start;
  return LogRecordCodec.decode(reader, end - start) as LogRecord;
}

type WireBuffer = Buffer & { utf8Slice(start: number, end: number): string };

/** End of the field `findField` found last. */
let fieldEnd = 0;

/**
 * Content start of top-level field `field` of the checked record in [start, end) (after its length
 * prefix for length-delimited fields), or -1; sets `fieldEnd`. A checked record holds each at most once.
 */
function findField(buf: Uint8Array, start: number, end: number, field: number): number {
  at = start;
  while (at < end) {
    const tag = varint32Low(buf);
    const wt = tag & 7;
    if (tag >>> 3 === field) {
      if (wt === 2) {
        const n = varint32Low(buf);
        fieldEnd = at + n;
      } else fieldEnd = wt === 1 ? at + 8 : wt === 5 ? at + 4 : at;
      return at;
    }
    skipChecked(buf, wt);
  }
  return -1;
}

/** Low 32 bits (unsigned) of the varint at `at` of a checked record (advances). */
function varint32Low(buf: Uint8Array): number {
  let v = 0;
  for (let shift = 0; shift < 32; shift += 7) {
    const c = buf[at++]!;
    v |= (c & 0x7f) << shift;
    if (c < 0x80) return v >>> 0;
  }
  while (buf[at++]! >= 0x80);
  return v >>> 0;
}

/** Skips a value of wire type `wt` at `at` in a checked record. */
function skipChecked(buf: Uint8Array, wt: number): void {
  if (wt === 0) while (buf[at++]! >= 0x80);
  else if (wt === 1) at += 8;
  else if (wt === 5) at += 4;
  else {
    const n = varint32Low(buf); // before the add: `at += f()` would read `at` before f moves it
    at += n;
  }
}

/** True when bytes [start, end) are the UTF-8 of `key`. */
export function keyEquals(buf: WireBuffer, start: number, end: number, key: string): boolean {
  const n = key.length;
  if (end - start === n) {
    for (let i = 0; i < n; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) return buf.utf8Slice(start, end) === key;
      if (buf[start + i] !== c) return false;
    }
    return true;
  }
  // UTF-8 of non-ASCII text is longer than its UTF-16 length; ASCII text has equal lengths.
  if (end - start < n) return false;
  for (let i = 0; i < n; i++) if (key.charCodeAt(i) >= 0x80) return buf.utf8Slice(start, end) === key;
  return false;
}

/**
 * The KeyValue in [start, end): its value (null when it has none) when its key is `key`, else undefined.
 * Leaves `at` anywhere.
 */
function keyValueIn(buf: WireBuffer, start: number, end: number, key: string): AnyValue | null | undefined {
  let keyStart = start;
  let keyEnd = start;
  let valueStart = -1;
  let valueEnd = 0;
  at = start;
  while (at < end) {
    const tag = varint32Low(buf);
    if (tag === 0x0a || tag === 0x12) {
      const n = varint32Low(buf);
      if (tag === 0x0a) {
        keyStart = at;
        keyEnd = at + n;
      } else {
        valueStart = at;
        valueEnd = at + n;
      }
      at += n;
    } else skipChecked(buf, tag & 7);
  }
  if (!keyEquals(buf, keyStart, keyEnd, key)) return undefined;
  return valueStart < 0 ? null : (decodeMessageAt(AnyValueCodec, buf, valueStart, valueEnd) as AnyValue);
}

/** Upserts `kvs` into `attrs` with copies of their values (the shared originals stay untouched). */
function applyUpserts(attrs: KeyValue[], kvs: readonly KeyValue[]): void {
  for (const kv of kvs) {
    let found = false;
    for (let i = 0; i < attrs.length; i++) {
      if (attrs[i]!.key !== kv.key) continue;
      attrs[i]!.value = cloneAnyValue(kv.value);
      found = true;
    }
    if (!found) attrs.push({ key: kv.key, value: cloneAnyValue(kv.value) });
  }
}

/** The decoded record with its own body and attributes (the rest is never changed in place). */
function cloneDecoded(r: LogRecord): LogRecord {
  const c = decodeLogRecordAt(EMPTY_RECORD, 0, 0);
  c.timeUnixNano = r.timeUnixNano;
  c.observedTimeUnixNano = r.observedTimeUnixNano;
  c.severityNumber = r.severityNumber;
  c.severityText = r.severityText;
  c.body = cloneAnyValue(r.body);
  c.attributes = r.attributes.map((kv) => ({ key: kv.key, value: cloneAnyValue(kv.value) }));
  c.droppedAttributesCount = r.droppedAttributesCount;
  c.flags = r.flags;
  c.traceId = r.traceId;
  c.spanId = r.spanId;
  c.eventName = r.eventName;
  return c;
}

const EMPTY_RECORD = new Uint8Array(0);

/** Most attributes an overlay holds before the record is decoded instead (the encoders keep a bit each). */
const MAX_OVERLAY = 31;

export class WireLogRecord implements LogRecord {
  /** The received bytes (never written); the record is [wireStart, wireEnd). */
  private bytesOf: WireBuffer;
  private start: number;
  private end: number;
  /** Trace and span id are absent or 16 and 8 bytes long (found by the check on receipt). */
  readonly idsStandard: boolean;
  private tree: LogRecord | null = null;
  private changed = false;
  private upserts: readonly KeyValue[] | null = null;

  constructor(wire: Uint8Array, start: number, end: number, idsStandard: boolean) {
    this.bytesOf = asBuffer(wire);
    this.start = start;
    this.end = end;
    this.idsStandard = idsStandard;
  }

  get wire(): WireBuffer {
    return this.bytesOf;
  }

  get wireStart(): number {
    return this.start;
  }

  get wireEnd(): number {
    return this.end;
  }

  /** Moves the record to a copy of its bytes at `start` of `to` (see `compactWireRecords`). */
  rebase(to: Buffer, start: number): void {
    this.bytesOf = to as WireBuffer;
    this.end = start + (this.end - this.start);
    this.start = start;
  }

  /** True while the bytes (with `overlay`) still are the record: nothing set, `body`/`attributes` never handed out. */
  get wireClean(): boolean {
    return !this.changed;
  }

  /**
   * Attributes set over the bytes' attributes while clean: each replaces the value of every attribute with
   * its key, or is appended when there is none. Shared, never changed in place.
   */
  get overlay(): readonly KeyValue[] | null {
    return this.upserts;
  }

  /** Another record over the same bytes (and overlay), for consumers that change their copy. */
  copy(): WireLogRecord {
    const c = new WireLogRecord(this.wire, this.wireStart, this.wireEnd, this.idsStandard);
    if (this.changed) c.tree = cloneDecoded(this.tree!);
    c.changed = this.changed;
    c.upserts = this.upserts;
    return c;
  }

  /** The decoded record (decoded on first use, overlay applied). Reading through it keeps the bytes. */
  decoded(): LogRecord {
    if (this.tree === null) this.tree = decodeLogRecordAt(this.wire, this.wireStart, this.wireEnd);
    if (this.upserts !== null) {
      applyUpserts(this.tree.attributes, this.upserts);
      this.upserts = null;
      this.changed = true;
    }
    return this.tree;
  }

  /** The decoded record for a change. */
  private edit(): LogRecord {
    const t = this.decoded();
    this.changed = true;
    return t;
  }

  /** A decoded copy (overlay applied) that is not kept: for a reader that may want to change the record. */
  peek(): LogRecord {
    if (this.changed) return this.decoded();
    const t = decodeLogRecordAt(this.wire, this.wireStart, this.wireEnd);
    if (this.upserts !== null) applyUpserts(t.attributes, this.upserts);
    return t;
  }

  /** Makes `tree` (from `peek()`, then changed) the record. */
  adopt(tree: LogRecord): void {
    this.tree = tree;
    this.upserts = null;
    this.changed = true;
  }

  /**
   * Upserts `kvs` in order (see `overlay`); while clean, nothing is decoded and `kvs` is kept as it is:
   * a caller may share one array between records, and must never change it afterwards.
   */
  upsertAttributes(kvs: readonly KeyValue[]): void {
    if (this.changed) applyUpserts(this.edit().attributes, kvs);
    else if (this.upserts === null) this.upserts = kvs;
    else {
      const merged = this.upserts.slice();
      for (const kv of kvs) {
        const i = merged.findIndex((m) => m.key === kv.key);
        if (i >= 0) merged[i] = kv;
        else merged.push(kv);
      }
      this.upserts = merged;
      if (merged.length > MAX_OVERLAY) this.decoded();
    }
  }

  /** Value of the first attribute `key` (the overlay's if it sets it), decoded alone; don't change it. */
  attribute(key: string): AnyValue | undefined {
    if (this.changed) return findAttribute(this.tree!.attributes, key);
    if (this.upserts !== null) {
      for (const kv of this.upserts) if (kv.key === key) return kv.value ?? undefined;
    }
    return this.wireAttribute(key) ?? undefined;
  }

  /** The bytes' first attribute `key` (overlay not applied): its value, null without one, undefined when absent. */
  wireAttribute(key: string): AnyValue | null | undefined {
    const buf = this.wire;
    const end = this.wireEnd;
    at = this.wireStart;
    while (at < end) {
      const tag = varint32Low(buf);
      const wt = tag & 7;
      if (tag !== 0x32) {
        skipChecked(buf, wt);
        continue;
      }
      const n = varint32Low(buf);
      const kvEnd = at + n;
      const found = keyValueIn(buf, at, kvEnd, key);
      if (found !== undefined) return found;
      at = kvEnd;
    }
    return undefined;
  }

  // Scalars are read from the bytes until the record is decoded (no tree for a reader of one field).
  get timeUnixNano(): Long { return this.tree ? this.tree.timeUnixNano : this.fixed64(1, DEFAULTS.timeUnixNano); }
  set timeUnixNano(v: Long) { this.edit().timeUnixNano = v; }
  get observedTimeUnixNano(): Long { return this.tree ? this.tree.observedTimeUnixNano : this.fixed64(11, DEFAULTS.observedTimeUnixNano); }
  set observedTimeUnixNano(v: Long) { this.edit().observedTimeUnixNano = v; }
  get severityNumber(): number {
    if (this.tree) return this.tree.severityNumber;
    const p = findField(this.wire, this.wireStart, this.wireEnd, 2);
    if (p < 0) return DEFAULTS.severityNumber;
    at = p;
    return varint32Low(this.wire) | 0;
  }
  set severityNumber(v: number) { this.edit().severityNumber = v; }
  get severityText(): string { return this.tree ? this.tree.severityText : this.text(3, DEFAULTS.severityText); }
  set severityText(v: string) { this.edit().severityText = v; }
  // Body and attributes can be changed in place by whoever holds them: handing them out ends "clean".
  get body(): AnyValue | null | undefined { return this.edit().body; }
  set body(v: AnyValue | null | undefined) { this.edit().body = v; }
  get attributes(): KeyValue[] { return this.edit().attributes; }
  set attributes(v: KeyValue[]) { this.edit().attributes = v; }
  get droppedAttributesCount(): number {
    if (this.tree) return this.tree.droppedAttributesCount;
    const p = findField(this.wire, this.wireStart, this.wireEnd, 7);
    if (p < 0) return DEFAULTS.droppedAttributesCount;
    at = p;
    return varint32Low(this.wire);
  }
  set droppedAttributesCount(v: number) { this.edit().droppedAttributesCount = v; }
  get flags(): number {
    if (this.tree) return this.tree.flags;
    const p = findField(this.wire, this.wireStart, this.wireEnd, 8);
    const b = this.wire;
    return p < 0 ? DEFAULTS.flags : (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }
  set flags(v: number) { this.edit().flags = v; }
  get traceId(): Uint8Array { return this.tree ? this.tree.traceId : this.bytes(9, DEFAULTS.traceId); }
  set traceId(v: Uint8Array) { this.edit().traceId = v; }
  get spanId(): Uint8Array { return this.tree ? this.tree.spanId : this.bytes(10, DEFAULTS.spanId); }
  set spanId(v: Uint8Array) { this.edit().spanId = v; }
  get eventName(): string { return this.tree ? this.tree.eventName : this.text(12, DEFAULTS.eventName); }
  set eventName(v: string) { this.edit().eventName = v; }

  private fixed64(field: number, absent: Long): Long {
    const p = findField(this.wire, this.wireStart, this.wireEnd, field);
    if (p < 0) return absent;
    const b = this.wire;
    return new LongCtor(b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24), b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24), true);
  }

  private text(field: number, absent: string): string {
    const p = findField(this.wire, this.wireStart, this.wireEnd, field);
    return p < 0 ? absent : this.wire.utf8Slice(p, fieldEnd);
  }

  /** A view of a bytes field, as the generated decoder gives for a Buffer. */
  private bytes(field: number, absent: Uint8Array): Uint8Array {
    const p = findField(this.wire, this.wireStart, this.wireEnd, field);
    return p < 0 ? absent : this.wire.subarray(p, fieldEnd);
  }

  /** `JSON.stringify` and structured logging see the record's fields, not its storage. */
  toJSON(): LogRecord {
    return this.decoded();
  }
}

/** The record's bytes when they still are the record, else undefined. */
export function cleanWireBytes(r: LogRecord): WireLogRecord | undefined {
  return r instanceof WireLogRecord && r.wireClean ? r : undefined;
}

/** The record as a plain decoded tree (a WireLogRecord's decoded copy; any other record as is). */
export function plainLogRecord(r: LogRecord): LogRecord {
  return r instanceof WireLogRecord ? r.decoded() : r;
}

// ---------------------------------------------------------------------------------------------------
// Checking a received record. Anything this check does not accept (a wire type that does not match the
// schema, a repeated singular field, two members of AnyValue's oneof, groups, invalid UTF-8, deep
// nesting) makes the caller decode that record eagerly with the generated code, which is the reference
// for what such input means (and throws its own error for truly malformed input).

/** Read position of the checker (module state: no object per call). */
let at = 0;

/** A varint of at most 32 bits at `at` (advances), or -1 when truncated or longer. */
function varint32(buf: Uint8Array, end: number): number {
  let v = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= end) return -1;
    const c = buf[at++]!;
    v += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) return v > 0xffffffff ? -1 : v;
  }
  return -1;
}

/** Skips a varint of up to 10 bytes; false when truncated or longer. */
function skipVarint(buf: Uint8Array, end: number): boolean {
  for (let i = 0; i < 10; i++) {
    if (at >= end) return false;
    if (buf[at++]! < 0x80) return true;
  }
  return false;
}

/** Skips the value of a field of wire type `wt`; false when it cannot (groups, bad lengths). */
function skipValue(buf: Uint8Array, end: number, wt: number): boolean {
  switch (wt) {
    case 0:
      return skipVarint(buf, end);
    case 1:
      at += 8;
      return at <= end;
    case 2: {
      const n = varint32(buf, end);
      if (n < 0) return false;
      at += n;
      return at <= end;
    }
    case 5:
      at += 4;
      return at <= end;
    default:
      return false;
  }
}

/** A length-delimited field's end (after its length at `at`), or -1. */
function lengthEnd(buf: Uint8Array, end: number): number {
  const n = varint32(buf, end);
  if (n < 0) return -1;
  const e = at + n;
  return e <= end ? e : -1;
}

/** True when bytes [start, end) are valid UTF-8 (ASCII checked here, the rest natively). */
function utf8Ok(buf: Uint8Array, start: number, end: number): boolean {
  let or = 0;
  for (let i = start; i < end; i++) or |= buf[i]!;
  return or < 0x80 || isUtf8(buf.subarray(start, end));
}

const MAX_DEPTH = 32;

function checkAnyValue(buf: Uint8Array, end: number, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  let members = 0;
  while (at < end) {
    const tag = varint32(buf, end);
    if (tag < 0) return false;
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field >= 1 && field <= 7) {
      if (++members > 1) return false;
      if (field === 2 || field === 3) {
        if (wt !== 0 || !skipVarint(buf, end)) return false;
      } else if (field === 4) {
        if (wt !== 1) return false;
        at += 8;
        if (at > end) return false;
      } else {
        if (wt !== 2) return false;
        const e = lengthEnd(buf, end);
        if (e < 0) return false;
        if (field === 1) {
          if (!utf8Ok(buf, at, e)) return false;
          at = e;
        } else if (field === 7) at = e;
        else if (!checkValues(buf, e, field === 6, depth + 1)) return false;
      }
    } else if (!skipValue(buf, end, wt)) return false;
  }
  return at === end;
}

/** ArrayValue (`kv` false) or KeyValueList (`kv` true): repeated field 1. */
function checkValues(buf: Uint8Array, end: number, kv: boolean, depth: number): boolean {
  while (at < end) {
    const tag = varint32(buf, end);
    if (tag < 0) return false;
    if (tag >>> 3 === 1) {
      if ((tag & 7) !== 2) return false;
      const e = lengthEnd(buf, end);
      if (e < 0) return false;
      if (!(kv ? checkKeyValue(buf, e, depth) : checkAnyValue(buf, e, depth))) return false;
    } else if (!skipValue(buf, end, tag & 7)) return false;
  }
  return at === end;
}

function checkKeyValue(buf: Uint8Array, end: number, depth: number): boolean {
  let seen = 0;
  while (at < end) {
    const tag = varint32(buf, end);
    if (tag < 0) return false;
    const field = tag >>> 3;
    if (field === 1 || field === 2) {
      if ((tag & 7) !== 2 || seen & field) return false;
      seen |= field;
      const e = lengthEnd(buf, end);
      if (e < 0) return false;
      if (field === 1) {
        if (!utf8Ok(buf, at, e)) return false;
        at = e;
      } else if (!checkAnyValue(buf, e, depth + 1)) return false;
    } else if (!skipValue(buf, end, tag & 7)) return false;
  }
  return at === end;
}

/** Wire type of each LogRecord field (index = field number), -1 for numbers the schema does not use. */
const LOG_RECORD_WIRE_TYPE = [-1, 1, 0, 2, -1, 2, 2, 0, 5, 2, 2, 1, 2];

/** Whether the record the last `checkWireLogRecord` accepted has ids of the standard lengths (0, 16 / 8). */
let checkedIdsStandard = true;

/** True when bytes [start, end) are a LogRecord that can stay in its bytes (see above). */
export function checkWireLogRecord(buf: Uint8Array, start: number, end: number): boolean {
  at = start;
  let seen = 0;
  checkedIdsStandard = true;
  while (at < end) {
    const tag = varint32(buf, end);
    if (tag < 0) return false;
    const field = tag >>> 3;
    const wt = tag & 7;
    const want = field < LOG_RECORD_WIRE_TYPE.length ? LOG_RECORD_WIRE_TYPE[field]! : -1;
    if (want < 0) {
      if (!skipValue(buf, end, wt)) return false;
      continue;
    }
    if (wt !== want) return false;
    if (field !== 6) {
      const bit = 1 << field;
      if (seen & bit) return false;
      seen |= bit;
    }
    if (wt !== 2) {
      if (!skipValue(buf, end, wt)) return false;
      continue;
    }
    const e = lengthEnd(buf, end);
    if (e < 0) return false;
    if (field === 3 || field === 12) {
      if (!utf8Ok(buf, at, e)) return false;
      at = e;
    } else if (field === 5) {
      if (!checkAnyValue(buf, e, 1)) return false;
    } else if (field === 6) {
      if (!checkKeyValue(buf, e, 1)) return false;
    } else {
      // trace / span id: any bytes (the receiver refuses other lengths than 16 / 8)
      const n = e - at;
      if (n !== 0 && n !== (field === 9 ? 16 : 8)) checkedIdsStandard = false;
      at = e;
    }
  }
  return at === end;
}

// ---------------------------------------------------------------------------------------------------
// The request around the records: ResourceLogs and ScopeLogs are built as the generated code builds
// them (same classes, same own fields), Resource and InstrumentationScope decoded by it.

interface ScopeLogsObject { scope?: unknown; logRecords: LogRecord[]; schemaUrl: string }
interface ResourceLogsObject { resource?: unknown; scopeLogs: ScopeLogsObject[]; schemaUrl: string }
interface RequestObject { resourceLogs: ResourceLogsObject[] }
type Generated = Record<string, Record<string, Record<string, unknown>>>;
const generated = root.opentelemetry.proto as unknown as Generated;
const RequestCtor = (generated['collector'] as unknown as Generated)['logs']!['v1']!['ExportLogsServiceRequest'] as new () => RequestObject;
const ResourceLogsCtor = generated['logs']!['v1']!['ResourceLogs'] as new () => ResourceLogsObject;
const ScopeLogsCtor = generated['logs']!['v1']!['ScopeLogs'] as new () => ScopeLogsObject;
const ResourceCodec = generated['resource']!['v1']!['Resource'] as Codec;
const ScopeCodec = generated['common']!['v1']!['InstrumentationScope'] as Codec;
const AnyValueCodec = generated['common']!['v1']!['AnyValue'] as Codec;
const Reader = (require('protobufjs/minimal') as { Reader: { create(b: Uint8Array): { pos: number; string(): string } } }).Reader;

/** Decodes a message field whose length prefix starts at `prefixAt` with the generated code. */
function decodeMessageAt(codec: Codec, buf: Uint8Array, contentStart: number, contentEnd: number): unknown {
  const reader = Reader.create(buf);
  reader.pos = contentStart;
  return codec.decode(reader, contentEnd - contentStart);
}

function readStringAt(buf: Uint8Array, prefixAt: number): string {
  const reader = Reader.create(buf);
  reader.pos = prefixAt;
  return reader.string();
}

/**
 * ResourceLogs (`scopes` false) or ScopeLogs (`scopes` true): both are field 1 a message decoded by the
 * generated code (Resource / InstrumentationScope), field 2 the repeated children, field 3 `schema_url`.
 */
function decodeLevel(buf: Uint8Array, end: number, scopes: boolean): ResourceLogsObject | ScopeLogsObject | null {
  const rl = scopes ? null : new ResourceLogsCtor();
  const sl = scopes ? new ScopeLogsCtor() : null;
  while (at < end) {
    const tag = varint32(buf, end);
    if (tag < 0) return null;
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field < 1 || field > 3) {
      if (!skipValue(buf, end, wt)) return null;
      continue;
    }
    if (wt !== 2) return null;
    const prefixAt = at;
    const e = lengthEnd(buf, end);
    if (e < 0) return null;
    const s = at;
    if (field === 1) {
      if (sl !== null) sl.scope = decodeMessageAt(ScopeCodec, buf, s, e);
      else rl!.resource = decodeMessageAt(ResourceCodec, buf, s, e);
    } else if (field === 3) (sl ?? rl!).schemaUrl = readStringAt(buf, prefixAt);
    else if (sl !== null) {
      if (checkWireLogRecord(buf, s, e)) sl.logRecords.push(new WireLogRecord(buf, s, e, checkedIdsStandard));
      else sl.logRecords.push(decodeLogRecordAt(buf, s, e));
    } else {
      const child = decodeLevel(buf, e, true) as ScopeLogsObject | null;
      if (child === null) return null;
      rl!.scopeLogs.push(child);
    }
    at = e;
  }
  return at === end ? (sl ?? rl) : null;
}

/**
 * An ExportLogsServiceRequest with its records kept as `WireLogRecord`s where they pass the check (the
 * others decoded), or null when the request has to be decoded by the generated code (unusual or
 * malformed framing; it then also gives the error). Throws what the generated code throws for a
 * malformed Resource, scope or record.
 */
export function decodeExportRequestWire(bytes: Uint8Array): RequestObject | null {
  const buf = asBuffer(bytes);
  const req = new RequestCtor();
  const end = buf.length;
  at = 0;
  while (at < end) {
    const tag = varint32(buf, end);
    if (tag < 0) return null;
    if (tag >>> 3 !== 1) {
      if (!skipValue(buf, end, tag & 7)) return null;
      continue;
    }
    if ((tag & 7) !== 2) return null;
    const e = lengthEnd(buf, end);
    if (e < 0) return null;
    const rl = decodeLevel(buf, e, false) as ResourceLogsObject | null;
    if (rl === null) return null;
    req.resourceLogs.push(rl);
    at = e;
  }
  return at === end ? req : null;
}

/**
 * For a record still in its bytes: a decoded copy to work on, which becomes the record only through
 * `adoptLogRecord` (so a processor that changes nothing leaves the bytes in place). Undefined otherwise.
 */
export function peekLogRecord(r: LogRecord): LogRecord | undefined {
  return r instanceof WireLogRecord && r.wireClean ? r.peek() : undefined;
}

/** Makes a copy from `peekLogRecord` the record. */
export function adoptLogRecord(r: LogRecord, copy: LogRecord): void {
  if (r instanceof WireLogRecord) r.adopt(copy);
}

/** The record's body, without decoding a record that is still in its bytes (only the body is). Don't change it. */
export function recordBody(r: LogRecord): AnyValue | null | undefined {
  if (!(r instanceof WireLogRecord) || !r.wireClean) return r.body;
  const p = findField(r.wire, r.wireStart, r.wireEnd, 5);
  return p < 0 ? DEFAULTS.body : (decodeMessageAt(AnyValueCodec, r.wire, p, fieldEnd) as AnyValue);
}

/** Value of the record's first attribute `key`, without decoding a record that is still in its bytes. Don't change it. */
export function recordAttribute(r: LogRecord, key: string): AnyValue | undefined {
  return r instanceof WireLogRecord ? r.attribute(key) : findAttribute(r.attributes, key);
}

/**
 * Sets each of `kvs` on the record (replacing the value of attributes with its key, else appending). A
 * record still in its bytes keeps `kvs` itself (share one array between records; never change it); any
 * other record gets copies of the values.
 */
export function upsertAttributes(r: LogRecord, kvs: readonly KeyValue[]): void {
  if (r instanceof WireLogRecord) r.upsertAttributes(kvs);
  else applyUpserts(r.attributes, kvs);
}

/**
 * Records still in their received buffers keep those buffers alive: a queue holding a few records of many
 * requests would hold every request. When the buffers held are over four times the records' own bytes
 * (and over 1 MiB), copies the records' bytes into one buffer sized to them. Returns the bytes freed.
 */
export function compactWireRecords(rls: readonly ResourceLogs[]): number {
  let used = 0;
  let held = 0;
  const seen = new Set<ArrayBufferLike>();
  for (const rl of rls) {
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        if (!(r instanceof WireLogRecord)) continue;
        used += r.wireEnd - r.wireStart;
        const ab = r.wire.buffer;
        if (!seen.has(ab)) {
          seen.add(ab);
          held += ab.byteLength;
        }
      }
    }
  }
  if (held <= 4 * used || held <= COMPACT_MIN_HELD) return 0;
  const to = Buffer.allocUnsafeSlow(used);
  let p = 0;
  for (const rl of rls) {
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        if (!(r instanceof WireLogRecord)) continue;
        r.wire.copy(to, p, r.wireStart, r.wireEnd);
        r.rebase(to, p);
        p += r.wireEnd - r.wireStart;
      }
    }
  }
  return held - used;
}

const COMPACT_MIN_HELD = 1024 * 1024;

/** What `recordValuesMayMatch` asks of each value it finds. */
export interface ValueProbe {
  /** The valid UTF-8 text [start, end) of `buf` (a string value) might hold a match. */
  text(buf: Uint8Array, start: number, end: number): boolean;
  /** A string value given as a string (attributes set over the bytes) might hold a match. */
  string(s: string): boolean;
  /** An int value (exact below 2^53) or a double value might hold a match once rendered as text. */
  number(n: number, isDouble: boolean): boolean;
}

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);

function anyValueMayMatch(buf: Uint8Array, p: number, end: number, probe: ValueProbe): boolean {
  at = p;
  while (at < end) {
    const tag = varint32Low(buf);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 || field === 5 || field === 6) {
      const n = varint32Low(buf);
      const s = at;
      const e = s + n;
      if (field === 1) {
        if (probe.text(buf, s, e)) return true;
      } else if (messagesMayMatch(buf, s, e, 0x0a, field === 6, probe)) return true;
      at = e;
    } else if (field === 3) {
      // int64 varint: low and high words.
      let lo = 0;
      let hi = 0;
      for (let shift = 0; shift < 64; shift += 7) {
        const c = buf[at++]!;
        if (shift < 28) lo |= (c & 0x7f) << shift;
        else if (shift === 28) {
          lo |= (c & 0x0f) << 28;
          hi |= (c & 0x7f) >> 4;
        } else hi |= (c & 0x7f) << (shift - 32);
        if (c < 0x80) break;
      }
      if (probe.number(hi * 4294967296 + (lo >>> 0), false)) return true;
    } else if (field === 4) {
      for (let i = 0; i < 8; i++) F64_BYTES[i] = buf[at + i]!;
      at += 8;
      if (probe.number(F64[0]!, true)) return true;
    } else skipChecked(buf, wt);
  }
  return false;
}

/**
 * The messages of the field with `tag` in [p, end), each an AnyValue (`kv` false) or a KeyValue (`kv` true,
 * whose value is its field 2), checked in turn.
 */
function messagesMayMatch(buf: Uint8Array, p: number, end: number, tag: number, kv: boolean, probe: ValueProbe): boolean {
  let q = p;
  while (q < end) {
    at = q;
    const t = varint32Low(buf);
    if (t !== tag) {
      skipChecked(buf, t & 7);
      q = at;
      continue;
    }
    const n = varint32Low(buf);
    const s = at;
    q = s + n;
    if (kv ? messagesMayMatch(buf, s, q, 0x12, false, probe) : anyValueMayMatch(buf, s, q, probe)) return true;
  }
  return false;
}

function plainValueMayMatch(v: AnyValue | null | undefined, probe: ValueProbe): boolean {
  if (v == null) return false;
  if (v.stringValue != null) return probe.string(v.stringValue);
  if (v.intValue != null) return probe.number(typeof v.intValue === 'number' ? v.intValue : v.intValue.toNumber(), false);
  if (v.doubleValue != null) return probe.number(v.doubleValue, true);
  if (v.kvlistValue != null) return v.kvlistValue.values.some((kv) => plainValueMayMatch(kv.value, probe));
  if (v.arrayValue != null) return v.arrayValue.values.some((x) => plainValueMayMatch(x, probe));
  return false;
}

/**
 * False when no value of a record still in its bytes (body, attribute values, values nested in them,
 * attributes set over the bytes) can hold a match according to `probe`: one pass over the string bytes,
 * nothing decoded. True otherwise, and for any other record (the caller then looks at it decoded).
 */
export function recordValuesMayMatch(r: LogRecord, probe: ValueProbe): boolean {
  if (!(r instanceof WireLogRecord) || !r.wireClean) return true;
  const overlay = r.overlay;
  if (overlay !== null) for (const kv of overlay) if (plainValueMayMatch(kv.value, probe)) return true;
  // The body (field 5), then the attributes (field 6).
  return messagesMayMatch(r.wire, r.wireStart, r.wireEnd, 0x2a, false, probe)
    || messagesMayMatch(r.wire, r.wireStart, r.wireEnd, 0x32, true, probe);
}
