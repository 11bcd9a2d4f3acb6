import { describe, expect, it } from 'vitest';
import { anyValueFrom, keyValuesFrom, type LogRecord, type Resource } from '@tributary/otlp';
import { compileMatcher, compileQuery, parseLogQL, LogQLParseError, parseTime, TimeParseError, planRollup, parseQuery } from './index.js';

const resource: Resource = { attributes: keyValuesFrom({ 'service.name': 'checkout', 'k8s.pod.name': 'checkout-1' }), droppedAttributesCount: 0 };
function rec(body: string, severity: number, attrs: Record<string, unknown> = {}): LogRecord {
  return { timeUnixNano: 0 as never, observedTimeUnixNano: 0 as never, severityNumber: severity, severityText: '', body: anyValueFrom(body), attributes: keyValuesFrom(attrs), droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '' };
}
const records = [rec('GET /health 200', 9, { status: 200 }), rec('upstream Timeout after 5s', 17, { status: 504 }), rec('order placed', 13, { user: 'ann' })];
const run = (m: { matches: (r: Resource, s: null, l: LogRecord) => boolean }) => records.map((r, i) => (m.matches(resource, null, r) ? i : -1)).filter((i) => i >= 0);

describe('LogQL', () => {
  it.each([
    ['{service_name="checkout"}', [0, 1, 2]],
    ['{service_name="checkout", level="error"}', [1]],
    ['{level=~"warn|error"}', [1, 2]],
    ['{level!="info"}', [1, 2]],
    ['{k8s_pod_name="checkout-1"} |= "Timeout"', [1]],
    ['{service_name="checkout"} |= "timeout"', []],
    ['{service_name="checkout"} != "health"', [1, 2]],
    ['{service_name="checkout"} |~ "[0-9]+s$"', [1]],
    ['{service_name="checkout"} !~ "^GET"', [1, 2]],
    ['{service_name="checkout"} | json | status >= 500', [1]],
    ['{service_name="checkout"} | logfmt | user = "ann"', [2]],
    ['{service_name="checkout"} | user =~ "a.*"', [2]],
    ['service_name="checkout" |= "order"', [2]],
  ])('%s selects %j', (q, expected) => {
    const resolve = (label: string, after: boolean) => (label === 'k8s_pod_name' ? { kind: 'resource' as const, key: 'k8s.pod.name' } : label === 'service_name' ? { kind: 'service' as const } : label === 'level' ? { kind: 'severity' as const } : after ? { kind: 'attr' as const, key: label } : { kind: 'attr' as const, key: label });
    expect(run(compileMatcher(parseLogQL(q, resolve).node))).toEqual(expected);
  });

  it('parses metric queries with ranges and grouping', () => {
    expect(parseLogQL('sum by (level) (count_over_time({service_name="x"}[5m]))').metric).toEqual({ fn: 'count_over_time', rangeMs: 300_000, aggregation: { op: 'sum', by: ['level'] } });
    expect(parseLogQL('rate({service_name="x"} |= "e" [1m])').metric).toEqual({ fn: 'rate', rangeMs: 60_000 });
    expect(parseLogQL('count without (level) (rate({a="b"}[30s]))').metric?.aggregation).toEqual({ op: 'count', without: ['level'] });
  });

  it.each([
    ['{service_name="x"', 17],
    ['{service_name="x"} | line_format "{{.a}}"', 21],
    ['quantile_over_time(0.9, {a="b"}[5m])', 0],
    ['{a="b"} |~ "("', 11],
    ['{}', 1],
  ])('%j fails at %i', (q, pos) => {
    try {
      parseLogQL(q);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(LogQLParseError);
      expect((e as LogQLParseError).position).toBe(pos);
    }
  });
});

describe('time and plans', () => {
  const now = Date.parse('2026-12-04T12:00:00Z');
  it.each([
    ['now', now],
    ['now-15m', now - 900_000],
    ['now - 2d', now - 2 * 86_400_000],
    ['2026-12-04T10:00:00Z', Date.parse('2026-12-04T10:00:00Z')],
    ['2026-12-04T10:00:00.123456789+01:00', Date.parse('2026-12-04T09:00:00.123Z') + 0.456789],
    ['1796378400', 1796378400_000],
    ['1796378400123', 1796378400123],
    ['1796378400123456', 1796378400123.456],
    ['1796378400123456789', 1796378400123.456],
    ['1796378400.5', 1796378400500],
  ])('%s', (text, ms) => {
    expect(parseTime(text, 'start', now)).toBeCloseTo(ms, 3);
  });

  it('refuses what is not a time, naming the parameter', () => {
    expect(() => parseTime('yesterday', 'start')).toThrow(TimeParseError);
    expect(() => parseTime('now-5q', 'end')).toThrow(/^end: invalid relative time/);
  });

  it('uses the rollup only for services and severities', () => {
    expect(planRollup(parseQuery('service:a severity>=warn'))).toEqual({ where: 'service = ? AND severity >= ?', params: ['a', 13] });
    expect(planRollup(parseQuery('level:error'))?.where).toBe('severity >= ? AND severity <= ?');
    expect(planRollup(parseQuery('service:a timeout'))).toBeUndefined();
    expect(planRollup(parseQuery(''))).toEqual({ where: '1', params: [] });
  });

  it('compileQuery builds both back ends once: FTS drives word queries', () => {
    const q = compileQuery('timeout service:checkout');
    expect(q.sql.ftsMatch).toBe('"timeout"');
    expect(q.sql.where).toContain('resources');
    expect(run(q.matcher)).toEqual([1]);
  });
});
