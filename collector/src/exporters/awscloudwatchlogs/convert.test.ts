/**
 * Golden tests for `convertToCloudWatchLogs` on the shared record set. Every expected message below is
 * written by hand from upstream `cwLogBody` (field order body, severity_number,
 * severity_text, dropped_attributes_count, flags, trace_id, span_id, attributes, scope, resource; all
 * omitempty; map keys sorted; `<>&` escaped as \u003c \u003e \u0026) and the PutLogEvents API limits.
 */
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { nanosFromMillis, type AnyValue, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import { goldenRequest } from '../testdata/golden-records.js';
import { awsCloudWatchLogsExporterConfigSchema } from './config.js';
import {
  compileNameTemplate,
  convertToCloudWatchLogs,
  nearestCloudWatchRetention,
  type CloudWatchConvertOptions,
} from './convert.js';

const GOLDEN_MS = 1705314600123; // 1705314600123456789 ns, truncated to ms
const NOW = GOLDEN_MS + 1000;

const TRACE = '"trace_id":"437ab4d83468c540bb0f3398a39faa59","span_id":"2e26da881214cd7c"';
const SCOPE = '"scope":{"name":"golden-scope","version":"2.0.0","attributes":{"scope.attr":"s"}}';
const SEV_SCOPE = '"scope":{"name":"severity-scope"}';
const RESOURCE =
  '"resource":{"deployment.environment":"prod","host.name":"web-1","k8s.pod.name":"checkout-7d9f","service.instance.id":"pod-7",' +
  '"service.name":"checkout","service.namespace":"shop","service.version":"1.4.2","telemetry.sdk.language":"nodejs"}';
const INFO = '"severity_number":9,"severity_text":"INFO","flags":1';

/** Hand-written expected messages (raw_log: false), by golden.case. */
const EXPECTED: Record<string, string> = {
  'string-body': `{"body":"GET /checkout 500 in 12ms","severity_number":17,"severity_text":"ERROR","flags":1,${TRACE},"attributes":{"cache.hit":false,"duration_ms":12.5,"golden.case":"string-body","http.method":"GET","http.status_code":500},${SCOPE},${RESOURCE}}`,
  'map-body': `{"body":{"msg":"order placed","order":{"id":1042,"total":99.95},"tags":["a","b"]},${INFO},${TRACE},"attributes":{"golden.case":"map-body","user.id":"u-17"},${SCOPE},${RESOURCE}}`,
  'array-body': `{"body":["one",2,true],${INFO},${TRACE},"attributes":{"golden.case":"array-body"},${SCOPE},${RESOURCE}}`,
  'bytes-body': `{"body":"3q2+7w==",${INFO},${TRACE},"attributes":{"golden.case":"bytes-body"},${SCOPE},${RESOURCE}}`,
  'empty-body': `{${INFO},${TRACE},"attributes":{"golden.case":"empty-body"},${SCOPE},${RESOURCE}}`,
  'empty-string-body': `{"body":"",${INFO},${TRACE},"attributes":{"golden.case":"empty-string-body"},${SCOPE},${RESOURCE}}`,
  'no-timestamp': `{"body":"case no-timestamp",${INFO},${TRACE},"attributes":{"golden.case":"no-timestamp"},${SCOPE},${RESOURCE}}`,
  'no-timestamps': `{"body":"case no-timestamps",${INFO},${TRACE},"attributes":{"golden.case":"no-timestamps"},${SCOPE},${RESOURCE}}`,
  'zero-ids': `{"body":"case zero-ids","severity_number":9,"severity_text":"INFO","attributes":{"golden.case":"zero-ids"},${SCOPE},${RESOURCE}}`,
  'no-ids': `{"body":"case no-ids","severity_number":9,"severity_text":"INFO","attributes":{"golden.case":"no-ids"},${SCOPE},${RESOURCE}}`,
  'nested-attributes': `{"body":"case nested-attributes",${INFO},${TRACE},"attributes":{"golden.case":"nested-attributes","html":"\\u003cb\\u003e\\u0026\\u003c/b\\u003e","http":{"request":{"headers":{"x-id":"abc"},"method":"POST"},"status":201},"list":[1,[2]]},${SCOPE},${RESOURCE}}`,
  'non-ascii': `{"body":"Grüße, 世界! 🚀 naïve café",${INFO},${TRACE},"attributes":{"city":"Zürich","emoji":"✅","golden.case":"non-ascii"},${SCOPE},${RESOURCE}}`,
  'severity-text-only': `{"body":"case severity-text-only","severity_text":"warning","flags":1,${TRACE},"attributes":{"golden.case":"severity-text-only"},${SCOPE},${RESOURCE}}`,
  event: `{"body":"case event",${INFO},${TRACE},"attributes":{"event.name":"checkout.completed","golden.case":"event"},${SCOPE},${RESOURCE}}`,
  'severity-0': `{"body":"severity 0","flags":1,${TRACE},"attributes":{"golden.case":"severity-0"},${SEV_SCOPE},${RESOURCE}}`,
  'severity-5': `{"body":"severity 5","severity_number":5,"severity_text":"DEBUG","flags":1,${TRACE},"attributes":{"golden.case":"severity-5"},${SEV_SCOPE},${RESOURCE}}`,
  'severity-24': `{"body":"severity 24","severity_number":24,"severity_text":"FATAL4","flags":1,${TRACE},"attributes":{"golden.case":"severity-24"},${SEV_SCOPE},${RESOURCE}}`,
};

function options(over: Partial<CloudWatchConvertOptions> = {}): CloudWatchConvertOptions {
  return { rawLog: false, logGroup: compileNameTemplate('/app/logs', 'group'), logStream: compileNameTemplate('main', 'stream'), defaultRetentionDays: 0, ...over };
}

function caseOf(lr: LogRecord): string {
  return lr.attributes[0]!.value!.stringValue!;
}

const str = (s: string): AnyValue => ({ stringValue: s });

function oneResource(records: LogRecord[], resourceAttrs: ResourceLogs['resource'] = { attributes: [], droppedAttributesCount: 0 }): ResourceLogs[] {
  return [{ resource: resourceAttrs, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: records }] }];
}

function rec(ms: number, body = 'x', attrs: LogRecord['attributes'] = []): LogRecord {
  return {
    timeUnixNano: nanosFromMillis(ms), observedTimeUnixNano: Long.UZERO, severityNumber: 0, severityText: '', body: str(body),
    attributes: attrs, droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
  };
}

describe('convertToCloudWatchLogs: golden records', () => {
  it('builds the upstream JSON message for every case, in one sorted call', () => {
    const conv = convertToCloudWatchLogs(goldenRequest().resourceLogs, options(), NOW);
    expect(conv.calls).toHaveLength(1);
    const call = conv.calls[0]!;
    expect(call.logGroupName).toBe('/app/logs');
    expect(call.logStreamName).toBe('main');
    expect(call.logEvents).toHaveLength(14 + 25);
    const byCase = new Map(call.records.map((r, i) => [caseOf(r.lr), call.logEvents[i]!]));
    for (const [name, message] of Object.entries(EXPECTED)) {
      expect(byCase.get(name)?.message, name).toBe(message);
      expect(() => JSON.parse(message)).not.toThrow();
    }
    // Integer milliseconds; no observed-time fallback: a missing time is "now".
    expect(byCase.get('string-body')!.timestamp).toBe(GOLDEN_MS);
    expect(byCase.get('no-timestamp')!.timestamp).toBe(NOW);
    expect(byCase.get('no-timestamps')!.timestamp).toBe(NOW);
    // Sorted by timestamp (stable): the two "now" events come last, in input order.
    expect(call.records.slice(-2).map((r) => caseOf(r.lr))).toEqual(['no-timestamp', 'no-timestamps']);
    const ts = call.logEvents.map((e) => e.timestamp);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    expect(conv.dropped).toEqual({ too_old: 0, too_new: 0, empty: 0 });
    expect(call.bytes).toBe(call.logEvents.reduce((n, e) => n + Buffer.byteLength(e.message) + 26, 0));
    expect(call.retentionInDays).toBeUndefined();
  });

  it('raw_log: the message is Body.AsString(); empty messages are dropped and counted', () => {
    const conv = convertToCloudWatchLogs(goldenRequest().resourceLogs, options({ rawLog: true }), NOW);
    const call = conv.calls[0]!;
    const byCase = new Map(call.records.map((r, i) => [caseOf(r.lr), call.logEvents[i]!.message]));
    expect(byCase.get('string-body')).toBe('GET /checkout 500 in 12ms');
    expect(byCase.get('map-body')).toBe('{"msg":"order placed","order":{"id":1042,"total":99.95},"tags":["a","b"]}');
    expect(byCase.get('array-body')).toBe('["one",2,true]');
    expect(byCase.get('bytes-body')).toBe('3q2+7w==');
    expect(byCase.get('non-ascii')).toBe('Grüße, 世界! 🚀 naïve café');
    expect(byCase.get('severity-3')).toBe('severity 3');
    expect(byCase.has('empty-body')).toBe(false);
    expect(byCase.has('empty-string-body')).toBe(false);
    expect(conv.dropped.empty).toBe(2);
    expect(call.logEvents).toHaveLength(39 - 2);
  });
});

describe('convertToCloudWatchLogs: limits', () => {
  const T = 1_700_000_000_000;

  it('splits at 10,000 events', () => {
    const records = Array.from({ length: 25_001 }, (_, i) => rec(T + i, `m${i}`));
    const conv = convertToCloudWatchLogs(oneResource(records), options({ rawLog: true }), T + 30_000);
    expect(conv.calls.map((c) => c.logEvents.length)).toEqual([10_000, 10_000, 5_001]);
    expect(conv.calls[1]!.logEvents[0]!.message).toBe('m10000');
  });

  it('splits at 1,048,576 bytes counting 26 bytes per event', () => {
    // 100 KiB messages: 10 fit (10 × (102400+26) = 1,024,260), the 11th would exceed 1 MiB.
    const big = 'a'.repeat(102_400);
    const records = Array.from({ length: 25 }, (_, i) => rec(T + i, big));
    const conv = convertToCloudWatchLogs(oneResource(records), options({ rawLog: true }), T);
    expect(conv.calls.map((c) => c.logEvents.length)).toEqual([10, 10, 5]);
    for (const c of conv.calls) expect(c.bytes).toBeLessThanOrEqual(1_048_576);
    expect(conv.calls[0]!.bytes).toBe(10 * (102_400 + 26));
  });

  it('counts UTF-8 bytes, not characters', () => {
    const euro = '€'.repeat(40_000); // 120,000 bytes
    const conv = convertToCloudWatchLogs(oneResource(Array.from({ length: 9 }, (_, i) => rec(T + i, euro))), options({ rawLog: true }), T);
    expect(conv.calls.map((c) => c.logEvents.length)).toEqual([8, 1]);
  });

  it('starts a new call when the span would exceed 24 h, after sorting', () => {
    const day = 24 * 3600 * 1000;
    const records = [rec(T + day + 1, 'late'), rec(T, 'first'), rec(T + day, 'edge'), rec(T + 5, 'second')];
    const conv = convertToCloudWatchLogs(oneResource(records), options({ rawLog: true }), T + day + 10);
    expect(conv.calls.map((c) => c.logEvents.map((e) => e.message))).toEqual([['first', 'second', 'edge'], ['late']]);
  });

  it('drops events older than 14 days or more than 2 h ahead, and counts them', () => {
    const now = T;
    const records = [
      rec(now - 14 * 86_400_000 - 1, 'too old'), rec(now - 14 * 86_400_000 + 1000, 'old but ok'),
      rec(now + 2 * 3_600_000 + 1, 'too new'), rec(now + 3_600_000, 'ahead but ok'),
    ];
    const conv = convertToCloudWatchLogs(oneResource(records), options({ rawLog: true }), now);
    // More than 24 h apart: two calls.
    expect(conv.calls.map((c) => c.logEvents.map((e) => e.message))).toEqual([['old but ok'], ['ahead but ok']]);
    expect(conv.dropped).toEqual({ too_old: 1, too_new: 1, empty: 0 });
  });

  it('truncates an event over 256 KiB to 262,144 − 26 − 14 bytes plus the marker, never splitting a character', () => {
    const conv = convertToCloudWatchLogs(oneResource([rec(T, 'b'.repeat(300_000)), rec(T, `${'c'.repeat(262_103)}é${'c'.repeat(100)}`)]), options({ rawLog: true }), T);
    const [a, b] = conv.calls[0]!.logEvents;
    expect(a!.message).toBe(`${'b'.repeat(262_104)}[Truncated...]`);
    expect(Buffer.byteLength(a!.message) + 26).toBe(262_144);
    // 'é' (2 bytes) would straddle the cut at byte 262,104: it is left out whole.
    expect(b!.message).toBe(`${'c'.repeat(262_103)}[Truncated...]`);
    expect(conv.truncated).toBe(2);
  });
});

describe('convertToCloudWatchLogs: routing and retention', () => {
  const T = 1_700_000_000_000;
  const resource = { attributes: [{ key: 'service.name', value: str('checkout') }], droppedAttributesCount: 0 };

  it('resolves {attr} templates from record attributes, then resource attributes; missing → "undefined"', () => {
    const opts = options({ rawLog: true, logGroup: compileNameTemplate('/app/{service.name}/{retention.class}', 'group'), logStream: compileNameTemplate('{host}:{pod}', 'stream') });
    const records = [
      rec(T, 'a', [{ key: 'retention.class', value: str('audit') }, { key: 'host', value: str('h1') }]),
      rec(T, 'b', [{ key: 'retention.class', value: str('debug') }, { key: 'service.name', value: str('pay ments') }]),
      rec(T, 'c', [{ key: 'pod', value: str('p:1*') }]),
    ];
    const conv = convertToCloudWatchLogs(oneResource(records, resource), opts, T);
    expect(conv.calls.map((c) => [c.logGroupName, c.logStreamName, c.logEvents[0]!.message])).toEqual([
      ['/app/checkout/audit', 'h1:undefined', 'a'],
      // Characters CloudWatch refuses in a group name are replaced by "_" (only in substituted values).
      ['/app/pay_ments/debug', 'undefined:undefined', 'b'],
      // ':' and '*' are not allowed in stream names.
      ['/app/checkout/undefined', 'undefined:p_1_', 'c'],
    ]);
  });

  it('maps retention.days to the nearest allowed value (forever wins; none → log_retention)', () => {
    expect(nearestCloudWatchRetention(90)).toBe(90);
    expect(nearestCloudWatchRetention(100)).toBe(90);
    expect(nearestCloudWatchRetention(2)).toBe(3); // tie 1 vs 3 → the longer
    expect(nearestCloudWatchRetention(10)).toBe(7);
    expect(nearestCloudWatchRetention(11)).toBe(14);
    expect(nearestCloudWatchRetention(5000)).toBe(3653);
    expect(nearestCloudWatchRetention(-1)).toBeUndefined();
    expect(nearestCloudWatchRetention(0)).toBeUndefined();

    const opts = options({ rawLog: true, logGroup: compileNameTemplate('/app/{retention.class}', 'group'), defaultRetentionDays: 30 });
    const days = (n: number) => ({ key: 'retention.days', value: { intValue: n } });
    const cls = (c: string) => ({ key: 'retention.class', value: str(c) });
    const records = [
      rec(T, 'e1', [cls('error'), days(100)]), rec(T, 'e2', [cls('error'), days(60)]),
      rec(T, 'a1', [cls('audit'), days(-1)]), rec(T, 'a2', [cls('audit'), days(400)]),
      rec(T, 'n1'),
    ];
    const conv = convertToCloudWatchLogs(oneResource(records), opts, T);
    expect(Object.fromEntries(conv.calls.map((c) => [c.logGroupName, c.retentionInDays]))).toEqual({
      '/app/error': 90, '/app/audit': undefined, '/app/undefined': 30,
    });
  });

  it('raw_log: EMF bodies name their own group and stream (v1 _aws, v0 log_group_name)', () => {
    const v1 = JSON.stringify({ _aws: { Timestamp: T, LogGroupName: '/emf/v1', LogStreamName: 's1', CloudWatchMetrics: [] }, m: 1 });
    const v0 = JSON.stringify({ log_group_name: '/emf/v0', m: 2 });
    const conv = convertToCloudWatchLogs(oneResource([rec(T, v1), rec(T, v0), rec(T, 'plain')]), options({ rawLog: true }), T);
    expect(conv.calls.map((c) => `${c.logGroupName}|${c.logStreamName}`)).toEqual(['/emf/v1|s1', '/emf/v0|main', '/app/logs|main']);
  });
});

describe('awscloudwatchlogs config', () => {
  it('fills defaults and requires group and stream, naming the path', () => {
    const c = awsCloudWatchLogsExporterConfigSchema.parse({ log_group_name: '/app/{service.name}', log_stream_name: 'main' });
    expect(c).toMatchObject({ region: '', endpoint: '', log_retention: 0, raw_log: false, tags: {}, timeout: 5000 });
    const r = awsCloudWatchLogsExporterConfigSchema.safeParse({ log_stream_name: 'x' });
    expect(r.error!.issues[0]!.path).toEqual(['log_group_name']);
  });

  it('rejects retention values CloudWatch does not allow, bad endpoints, bad templates, unknown keys', () => {
    const base = { log_group_name: 'g', log_stream_name: 's' };
    expect(awsCloudWatchLogsExporterConfigSchema.safeParse({ ...base, log_retention: 31 }).error!.issues[0]!.path).toEqual(['log_retention']);
    expect(awsCloudWatchLogsExporterConfigSchema.safeParse({ ...base, log_retention: 3653 }).success).toBe(true);
    expect(awsCloudWatchLogsExporterConfigSchema.safeParse({ ...base, endpoint: 'ftp://localhost:4566' }).success).toBe(false);
    // Without a scheme, as upstream: HTTPS.
    expect(awsCloudWatchLogsExporterConfigSchema.parse({ ...base, endpoint: 'logs.eu-west-1.amazonaws.com' }).endpoint).toBe('https://logs.eu-west-1.amazonaws.com');
    expect(awsCloudWatchLogsExporterConfigSchema.parse({ ...base, role_arn: 'arn:aws:iam::123456789012:role/x', max_retries: 2, no_verify_ssl: true, proxy_address: 'http://proxy:3128' })).toMatchObject({ max_retries: 2, no_verify_ssl: true });
    expect(awsCloudWatchLogsExporterConfigSchema.safeParse({ ...base, log_group_name: '/app/{service.name' }).success).toBe(false);
    expect(awsCloudWatchLogsExporterConfigSchema.safeParse({ ...base, bogus: 1 }).success).toBe(false);
  });
});
