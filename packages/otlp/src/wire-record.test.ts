import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  cloneResourceLogs, decodeExportRequest, decodeExportRequestTree, encodeExportRequest, encodeResourceLogsJsonInto,
  compactWireRecords, invalidUtf8Replacements, JsonByteWriter, recordValuesMayMatch, upsertAttributes, WireLogRecord, type AnyValue, type ExportLogsServiceRequest, type KeyValue, type LogRecord, type ValueProbe,
} from './index.js';
import { Gen, prng } from './testdata/random-records.js';

function json(req: ExportLogsServiceRequest): string {
  const w = new JsonByteWriter(16);
  for (const rl of req.resourceLogs) encodeResourceLogsJsonInto(rl, w);
  return w.bytes().toString('latin1');
}

function records(req: ExportLogsServiceRequest): LogRecord[] {
  return req.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
}

/** A request of one record whose bytes are `record`, built by hand. */
function requestWithRecord(record: Uint8Array): Uint8Array {
  const sl = protobuf.Writer.create().uint32(0x12).bytes(record).finish();
  const rl = protobuf.Writer.create().uint32(0x12).bytes(sl).finish();
  return protobuf.Writer.create().uint32(0x0a).bytes(rl).finish();
}

/** Record bytes: time, severity 9, body "hello", one attribute, then the extra bytes given. */
function recordBytes(extra: (w: protobuf.Writer) => void = () => {}): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32(9).fixed64(1_700_000_000_000);
  w.uint32(16).int32(9);
  w.uint32(42).fork().uint32(10).string('hello').ldelim();
  w.uint32(50).fork().uint32(10).string('k').uint32(18).fork().uint32(10).string('v').ldelim().ldelim();
  extra(w);
  return w.finish();
}

describe('records kept in their received bytes', () => {
  it('give the same OTLP/JSON and OTLP protobuf as decoded records, on thousands of random requests', () => {
    const g = new Gen(prng(977));
    let wire = 0;
    let total = 0;
    for (let i = 0; i < 1000; i++) {
      const bytes = encodeExportRequest({ resourceLogs: [g.resourceLogs(), g.resourceLogs()] });
      const kept = decodeExportRequest(bytes);
      const tree = decodeExportRequestTree(bytes);
      const want = records(tree);
      records(kept).forEach((r, k) => {
        total++;
        if (!(r instanceof WireLogRecord)) return;
        wire++;
        // Scalars read from the bytes, before anything decodes the record.
        const w = want[k]!;
        expect([r.timeUnixNano.toString(), r.observedTimeUnixNano.toString(), r.severityNumber, r.severityText, r.droppedAttributesCount, r.flags, Buffer.from(r.traceId).toString('hex'), Buffer.from(r.spanId).toString('hex'), r.eventName])
          .toEqual([w.timeUnixNano.toString(), w.observedTimeUnixNano.toString(), w.severityNumber, w.severityText, w.droppedAttributesCount, w.flags, Buffer.from(w.traceId).toString('hex'), Buffer.from(w.spanId).toString('hex'), w.eventName]);
        expect(r.wireClean).toBe(true);
      });
      expect(json(kept)).toBe(json(tree));
      // Forwarded bytes decode to the same tree.
      expect(decodeExportRequestTree(encodeExportRequest(kept))).toEqual(tree);
      expect(kept).toEqual(tree);
    }
    // Records with lone surrogates (invalid UTF-8 on the wire) are decoded instead: most stay bytes.
    expect(wire / total).toBeGreaterThan(0.3);
    expect(total).toBeGreaterThan(1500);
  });

  it('write attributes set over the bytes (an overlay) as the decoded record gets them, replaced in place or appended', () => {
    const g = new Gen(prng(41));
    const big = 'é"\n'.repeat(40_000);
    for (let i = 0; i < 300; i++) {
      const bytes = encodeExportRequest({ resourceLogs: [g.resourceLogs()] });
      const kept = decodeExportRequest(bytes);
      const tree = decodeExportRequestTree(bytes);
      const keys = [...new Set(records(tree).flatMap((r) => r.attributes.map((kv) => kv.key)))];
      const overlay = [
        { key: keys[i % Math.max(1, keys.length)] ?? 'absent', value: { stringValue: i % 7 === 0 ? big : 'set' } },
        { key: 'retention.days', value: { intValue: 30 } },
      ];
      for (const r of records(kept)) upsertAttributes(r, overlay);
      for (const r of records(tree)) upsertAttributes(r, overlay);
      expect(json(kept)).toBe(json(tree));
      expect(decodeExportRequestTree(encodeExportRequest(kept))).toEqual(decodeExportRequestTree(encodeExportRequest(tree)));
    }
  });

  it('move to one buffer of their own when the requests they came in are mostly gone', () => {
    // One record left of each of 40 requests of ~100 KB: the queue would hold 4 MB for 40 records.
    const kept: ExportLogsServiceRequest = { resourceLogs: [] };
    const want: string[] = [];
    for (let n = 0; n < 40; n++) {
      const req = decodeExportRequest(encodeExportRequest({ resourceLogs: [{ resource: null, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: Array.from({ length: 100 }, (_, i) => ({
        timeUnixNano: undefined as never, observedTimeUnixNano: undefined as never, severityNumber: 9, severityText: '', body: { stringValue: `r${n}-${i} ${'x'.repeat(1000)}` },
        attributes: [{ key: 'n', value: { intValue: n } }], droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
      })) }] }] }));
      const rl = req.resourceLogs[0]!;
      rl.scopeLogs[0]!.logRecords.length = 1;
      kept.resourceLogs.push(rl);
    }
    const recs = records(kept) as WireLogRecord[];
    upsertAttributes(recs[3]!, [{ key: 'n', value: { intValue: -1 } }]);
    want.push(json(kept));
    const freed = compactWireRecords(kept.resourceLogs);
    expect(freed).toBeGreaterThan(3_000_000);
    expect(new Set(recs.map((r) => r.wire.buffer)).size).toBe(1);
    expect(recs[0]!.wire.buffer.byteLength).toBeLessThan(50_000);
    expect(json(kept)).toBe(want[0]);
    expect(decodeExportRequestTree(encodeExportRequest(kept)).resourceLogs.map((rl) => rl.scopeLogs[0]!.logRecords[0]!.body!.stringValue!.split(' ')[0])).toEqual(recs.map((_, n) => `r${n}-0`));
    // Nothing to gain: left as they are.
    expect(compactWireRecords(kept.resourceLogs)).toBe(0);
  });

  it('show every value to a probe without decoding: nested body and attribute values, numbers, the overlay', () => {
    const seen: string[] = [];
    const probe: ValueProbe = {
      text: (b, st, en) => (seen.push(Buffer.from(b.subarray(st, en)).toString()), Buffer.from(b.subarray(st, en)).includes('@')),
      string: (x) => (seen.push(x), x.includes('@')),
      number: (n) => (seen.push(String(n)), n === 42),
    };
    const rec = (body: AnyValue, attrs: KeyValue[]): WireLogRecord => {
      const bytes = encodeExportRequest({ resourceLogs: [{ resource: null, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: [{
        timeUnixNano: undefined as never, observedTimeUnixNano: undefined as never, severityNumber: 9, severityText: 'a@b', body, attributes: attrs,
        droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: 'x@y',
      }] }] }] });
      return records(decodeExportRequest(bytes))[0] as WireLogRecord;
    };
    const nested: AnyValue = { kvlistValue: { values: [{ key: 'k', value: { arrayValue: { values: [{ stringValue: 'deep' }, { doubleValue: 1.5 }, { intValue: 7 }] } } }] } };
    const r = rec(nested, [{ key: 'a', value: { kvlistValue: { values: [{ key: 'in', value: { stringValue: 'inner' } }] } } }]);
    expect(recordValuesMayMatch(r, probe)).toBe(false);
    // Every value, not the keys, severity text or event name.
    expect(seen).toEqual(['deep', '1.5', '7', 'inner']);
    expect(r.wireClean).toBe(true);
    expect(recordValuesMayMatch(rec(nested, [{ key: 'a', value: { arrayValue: { values: [{ stringValue: 'm@x' }] } } }]), probe)).toBe(true);
    expect(recordValuesMayMatch(rec({ intValue: 42 }, []), probe)).toBe(true);
    const o = rec({ stringValue: 'plain' }, []);
    upsertAttributes(o, [{ key: 'set', value: { stringValue: 'over@lay' } }]);
    expect(recordValuesMayMatch(o, probe)).toBe(true);
  });

  it('keep fields this schema does not know when forwarded', () => {
    const rec = recordBytes((w) => w.uint32((100 << 3) | 0).uint32(42).uint32((101 << 3) | 2).string('future'));
    const kept = decodeExportRequest(requestWithRecord(rec));
    const r = records(kept)[0]!;
    expect(r).toBeInstanceOf(WireLogRecord);
    const out = Buffer.from(encodeExportRequest(kept));
    expect(out.includes(Buffer.from(rec))).toBe(true);
    // Decoding drops them, as before.
    expect(decodeExportRequestTree(out)).toEqual(decodeExportRequestTree(requestWithRecord(rec)));
  });

  it('re-encode a record a processor changed, and only that one', () => {
    const rec = recordBytes();
    const sl = protobuf.Writer.create();
    for (let i = 0; i < 3; i++) sl.uint32(0x12).bytes(rec);
    const rl = protobuf.Writer.create().uint32(0x12).bytes(sl.finish()).finish();
    const bytes = protobuf.Writer.create().uint32(0x0a).bytes(rl).finish();
    const kept = decodeExportRequest(bytes);
    const [a, b, c] = records(kept) as [LogRecord, LogRecord, LogRecord];
    for (const r of [a, b, c]) expect(r).toBeInstanceOf(WireLogRecord);
    a.severityText = 'CHANGED';
    b.attributes.push({ key: 'added', value: { intValue: 7 } });
    const before = c.severityNumber; // reading a scalar keeps the bytes
    expect((a as WireLogRecord).wireClean).toBe(false);
    expect((b as WireLogRecord).wireClean).toBe(false);
    expect((c as WireLogRecord).wireClean).toBe(true);
    const back = records(decodeExportRequestTree(encodeExportRequest(kept)));
    expect(back[0]!.severityText).toBe('CHANGED');
    expect(back[1]!.attributes.at(-1)).toEqual({ key: 'added', value: { intValue: expect.anything() as unknown } });
    expect(back[2]!.severityNumber).toBe(before);
    expect(json(kept)).toContain('"severityText":"CHANGED"');
    expect(json(kept)).toContain('{"key":"added","value":{"intValue":"7"}}');
    // Clones of clean records share the bytes; changing a clone leaves the original alone.
    const copy = cloneResourceLogs(kept.resourceLogs);
    const cc = records({ resourceLogs: copy })[2]!;
    expect(cc).toBeInstanceOf(WireLogRecord);
    cc.eventName = 'other';
    expect(c.eventName).not.toBe('other');
  });

  it('decode unusual records as the generated decoder does (duplicates, wrong wire types, two oneof members)', () => {
    const cases = [
      recordBytes((w) => w.uint32(16).int32(17)), // severity twice: the last wins
      recordBytes((w) => w.uint32(42).fork().uint32(10).string('second body').ldelim()), // body twice
      recordBytes((w) => w.uint32(42).fork().uint32(10).string('s').uint32(16).bool(true).ldelim()), // two members
      recordBytes((w) => w.uint32(19).fork().ldelim().uint32(20).int32(1)), // groups
      recordBytes((w) => w.uint32(7 << 3 | 1).fixed64(3)), // droppedAttributesCount as fixed64
    ];
    for (const rec of cases) {
      const bytes = requestWithRecord(rec);
      let want: unknown;
      let wantError: string | undefined;
      try {
        want = decodeExportRequestTree(bytes);
      } catch (err) {
        wantError = (err as Error).message;
      }
      if (wantError !== undefined) expect(() => decodeExportRequest(bytes)).toThrow(wantError);
      else {
        const got = decodeExportRequest(bytes);
        expect(records(got)[0]).not.toBeInstanceOf(WireLogRecord);
        expect(got).toEqual(want);
        expect(json(got)).toBe(json(want as ExportLogsServiceRequest));
      }
    }
  });

  it('count invalid UTF-8 on receipt, as decoding did', () => {
    const rec = recordBytes((w) => w.uint32(26).bytes(Buffer.from([0x41, 0xff, 0x42])));
    const bytes = requestWithRecord(rec);
    const before = invalidUtf8Replacements();
    const got = decodeExportRequest(bytes);
    expect(invalidUtf8Replacements() - before).toBe(1);
    expect(records(got)[0]!.severityText).toBe('A\uFFFDB');
  });

  it('throw the generated decoder\'s error for truncated input', () => {
    const bytes = requestWithRecord(recordBytes());
    for (const cut of [bytes.length - 1, bytes.length - 7, 5]) {
      const part = bytes.subarray(0, cut);
      expect(() => decodeExportRequestTree(part)).toThrow();
      const message = (() => {
        try {
          decodeExportRequestTree(part);
          return '';
        } catch (err) {
          return (err as Error).message;
        }
      })();
      expect(() => decodeExportRequest(part)).toThrow(message);
    }
  });

  it('stay intact while nobody writes the received buffer, and show that they refer to it', () => {
    const bytes = Buffer.from(requestWithRecord(recordBytes()));
    const kept = decodeExportRequest(bytes);
    const r = records(kept)[0] as WireLogRecord;
    expect(r.wire.buffer).toBe(bytes.buffer);
    const first = json(kept);
    expect(first).toContain('"body":{"stringValue":"hello"}');
    expect(json(kept)).toBe(first);
  });
});
