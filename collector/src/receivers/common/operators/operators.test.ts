import { describe, expect, it } from 'vitest';
import { parseComponentId } from '../../../component.js';
import { silentLogger } from '../../../telemetry/logger.js';
import { Telemetry } from '../../../telemetry/metrics.js';
import { newEntry, type Entry } from '../records.js';
import { OperatorChain, operatorsSchema } from './index.js';
import { compileTimeParser, goLayoutToStrptime } from './time-layout.js';

function chain(ops: unknown[], telemetry = new Telemetry()): OperatorChain {
  return new OperatorChain(operatorsSchema.parse(ops), parseComponentId('filelog'), telemetry, silentLogger);
}
const run = (c: OperatorChain, body: unknown, source = 'src'): Entry | undefined => c.process(newEntry(body), source);

describe('operators', () => {
  it('json_parser with embedded timestamp and severity, then move/add/remove', () => {
    const c = chain([
      { type: 'json_parser', timestamp: { parse_from: 'attributes.ts', layout_type: 'epoch', layout: 'ms' }, severity: { parse_from: 'attributes.lvl' } },
      { type: 'move', from: 'attributes.msg', to: 'body' },
      { type: 'add', field: 'resource["service.name"]', value: 'checkout' },
      { type: 'remove', field: 'attributes.ts' },
    ]);
    const e = run(c, '{"ts":1700000000123,"lvl":"warning","msg":"low disk","n":3}')!;
    expect(e.body).toBe('low disk');
    expect(e.timestamp).toBe(1700000000123000000n);
    expect(e.severity).toBe(13);
    expect(e.severityText).toBe('warning');
    expect(e.attributes).toEqual({ lvl: 'warning', n: 3 });
    expect(e.resource).toEqual({ 'service.name': 'checkout' });
  });

  it('regex_parser with Go named groups and a strptime timestamp in a zone', () => {
    const c = chain([{ type: 'regex_parser', regex: '^(?P<time>\\S+ \\S+) \\[(?P<sev>\\w+)\\] (?P<msg>.*)$', timestamp: { parse_from: 'attributes.time', layout: '%Y-%m-%d %H:%M:%S.%L', location: 'Europe/Paris' }, severity: { parse_from: 'attributes.sev', mapping: { error: 'oops' } } }]);
    const e = run(c, '2024-07-01 12:00:00.250 [OOPS] it broke')!;
    expect(e.attributes.msg).toBe('it broke');
    expect(e.timestamp).toBe(BigInt(Date.parse('2024-07-01T10:00:00.250Z')) * 1_000_000n);
    expect(e.severity).toBe(17);
  });

  it('time layouts: gotime and epoch', () => {
    expect(goLayoutToStrptime('2006-01-02T15:04:05.000Z07:00')).toBe('%Y-%m-%dT%H:%M:%S.%L%z');
    expect(compileTimeParser('gotime', '02/Jan/2006:15:04:05 -0700', undefined).parse('10/Oct/2000:13:55:36 -0700')).toBe(BigInt(Date.parse('2000-10-10T20:55:36Z')) * 1_000_000n);
    expect(compileTimeParser('epoch', 's.ns', undefined).parse('1700000000.000000001')).toBe(1700000000000000001n);
    expect(() => compileTimeParser('strptime', '%Y', undefined).parse('24')).toThrow(/does not match/);
  });

  it('severity ranges map numbers (HTTP status codes)', () => {
    const c = chain([{ type: 'severity_parser', parse_from: 'body.status', preset: 'none', mapping: { info: { min: 200, max: 399 }, warn: { min: 400, max: 499 }, error: [{ min: 500, max: 599 }] } }]);
    expect(run(c, { status: 404 })!.severity).toBe(13);
    expect(run(c, { status: '503' })!.severity).toBe(17);
  });

  it('on_error: send keeps the entry, drop removes it; errors are counted', () => {
    const t = new Telemetry();
    const send = chain([{ type: 'json_parser' }], t);
    expect(run(send, 'not json')!.body).toBe('not json');
    const drop = chain([{ type: 'json_parser', on_error: 'drop_quiet' }], t);
    expect(run(drop, 'not json')).toBeUndefined();
    expect(t.counter('tributary_receiver_operator_errors_total', '').total()).toBe(2);
  });

  it('container: Docker json-file with a split line, CRI with partial lines, pod metadata from the path', () => {
    const c = chain([{ type: 'container' }]);
    const dockerPath = '/var/lib/docker/containers/0123456789abcdef/0123456789abcdef-json.log';
    expect(run(c, '{"log":"part one ","stream":"stdout","time":"2024-01-01T00:00:00.123456789Z"}', dockerPath)).toBeUndefined();
    const d = run(c, '{"log":"part two\\n","stream":"stdout","time":"2024-01-01T00:00:00.2Z"}', dockerPath)!;
    expect(d.body).toBe('part one part two');
    expect(d.attributes['log.iostream']).toBe('stdout');
    expect(d.timestamp).toBe(1704067200123456789n);
    expect(d.resource['container.id']).toBe('0123456789abcdef');
    const pod = '/var/log/pods/shop_cart-7d9f_0a1b2c3d-1111-2222-3333-444455556666/cart/2.log';
    expect(run(c, '2024-01-01T00:00:01.000000001Z stderr P hello ', pod)).toBeUndefined();
    const e = run(c, '2024-01-01T00:00:01.5Z stderr F world', pod)!;
    expect(e.body).toBe('hello world');
    expect(e.attributes['log.iostream']).toBe('stderr');
    expect(e.resource).toMatchObject({ 'k8s.namespace.name': 'shop', 'k8s.pod.name': 'cart-7d9f', 'k8s.container.name': 'cart', 'k8s.container.restart_count': '2' });
    expect(run(c, 'garbage line', pod)!.body).toBe('garbage line');
  });

  it('bad operators fail validation with the reason', () => {
    expect(() => chain([{ type: 'regex_parser', regex: '(no names)' }])).toThrow(/named capture/);
    expect(() => chain([{ type: 'move', from: 'nowhere', to: 'body' }])).toThrow(/must start with body/);
    expect(() => chain([{ type: 'time_parser', parse_from: 'body', layout: '%Q' }])).toThrow(/unsupported strptime directive/);
    expect(() => operatorsSchema.parse([{ type: 'nope' }])).toThrow();
  });
});
