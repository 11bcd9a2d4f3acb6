/**
 * Loki's push request, `logproto.PushRequest` (grafana/loki pkg/push/push.proto), as Loki's HTTP push
 * API takes it (protobuf, snappy block-compressed):
 *
 *   message PushRequest   { repeated StreamAdapter streams = 1; }
 *   message StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
 *   message EntryAdapter  { google.protobuf.Timestamp timestamp = 1; string line = 2;
 *                           repeated LabelPairAdapter structuredMetadata = 3; }
 *   message LabelPairAdapter { string name = 1; string value = 2; }
 *
 * The encoder writes with protobufjs' Writer directly (what protobufjs static code does) so no message
 * objects are built per entry. `logprotoRoot` is the same schema as a reflection Root, for decoding
 * (tests, tooling) and to check the encoder against.
 */
import protobuf from 'protobufjs';

export const LOGPROTO_DESCRIPTOR = {
  nested: {
    logproto: {
      nested: {
        PushRequest: { fields: { streams: { rule: 'repeated', type: 'StreamAdapter', id: 1 } } },
        StreamAdapter: {
          fields: {
            labels: { type: 'string', id: 1 },
            entries: { rule: 'repeated', type: 'EntryAdapter', id: 2 },
            hash: { type: 'uint64', id: 3 },
          },
        },
        EntryAdapter: {
          fields: {
            timestamp: { type: 'google.protobuf.Timestamp', id: 1 },
            line: { type: 'string', id: 2 },
            structuredMetadata: { rule: 'repeated', type: 'LabelPairAdapter', id: 3 },
          },
        },
        LabelPairAdapter: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
      },
    },
    google: {
      nested: {
        protobuf: {
          nested: { Timestamp: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } } },
        },
      },
    },
  },
};

export const logprotoRoot = protobuf.Root.fromJSON(LOGPROTO_DESCRIPTOR);
export const PushRequestType = logprotoRoot.lookupType('logproto.PushRequest');

/** One entry: timestamp split into seconds/nanos, the line. */
export interface LokiEntry {
  seconds: number;
  nanos: number;
  line: string;
  /** The entry's ns timestamp as decimal (for the JSON encoding). */
  ns: string;
}

export interface LokiStream {
  /** `{a="x", b="y"}`, names sorted. */
  labels: string;
  /** The same labels as pairs (sorted), for the JSON encoding. */
  pairs: readonly (readonly [string, string])[];
  entries: LokiEntry[];
}

function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  return 5;
}

function timestampSize(seconds: number, nanos: number): number {
  let n = 0;
  if (seconds !== 0) n += 1 + (seconds < 2 ** 31 ? varintSize(seconds) : 10);
  if (nanos !== 0) n += 1 + varintSize(nanos);
  return n;
}

/** Exact encoded size of an EntryAdapter field (tag + length + message) for a line of `lineBytes` bytes. */
export function entryFieldSize(seconds: number, nanos: number, lineBytes: number): number {
  const ts = timestampSize(seconds, nanos);
  const msg = 1 + varintSize(ts) + ts + (lineBytes > 0 ? 1 + varintSize(lineBytes) + lineBytes : 0);
  return 1 + varintSize(msg) + msg;
}

/** Upper bound of a stream's encoded overhead (tag + length of the StreamAdapter + its labels field). */
export function streamOverheadSize(labelsBytes: number): number {
  return 1 + 5 + 1 + varintSize(labelsBytes) + labelsBytes;
}

/** Encodes a PushRequest. */
export function encodePushRequest(streams: readonly LokiStream[]): Uint8Array {
  const w = protobuf.Writer.create();
  for (let i = 0; i < streams.length; i++) {
    const s = streams[i]!;
    w.uint32(10).fork();
    if (s.labels) w.uint32(10).string(s.labels);
    const entries = s.entries;
    for (let j = 0; j < entries.length; j++) {
      const e = entries[j]!;
      w.uint32(18).fork();
      w.uint32(10).fork();
      if (e.seconds !== 0) w.uint32(8).int64(e.seconds);
      if (e.nanos !== 0) w.uint32(16).int32(e.nanos);
      w.ldelim();
      if (e.line) w.uint32(18).string(e.line);
      w.ldelim();
    }
    w.ldelim();
  }
  return w.finish();
}

/** Loki's JSON push body: `{"streams":[{"stream":{…},"values":[["<ns>","<line>"],…]}]}`. */
export function encodePushRequestJson(streams: readonly LokiStream[]): string {
  let s = '{"streams":[';
  for (let i = 0; i < streams.length; i++) {
    const st = streams[i]!;
    if (i) s += ',';
    s += '{"stream":{';
    for (let k = 0; k < st.pairs.length; k++) s += `${k ? ',' : ''}${JSON.stringify(st.pairs[k]![0])}:${JSON.stringify(st.pairs[k]![1])}`;
    s += '},"values":[';
    const entries = st.entries;
    for (let j = 0; j < entries.length; j++) s += `${j ? ',' : ''}["${entries[j]!.ns}",${JSON.stringify(entries[j]!.line)}]`;
    s += ']}';
  }
  return `${s}]}`;
}
