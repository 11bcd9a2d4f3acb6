import Long from 'long';
import { describe, expect, it } from 'vitest';
import { anyValueFrom, decodeExportRequest, encodeExportRequest, idFromHex, keyValuesFrom, type InstrumentationScope, type LogRecord, type Resource } from '@tributary/otlp';
import { z } from 'zod';
import { compileCondition, conditionError, EvaluationError, ottlCondition, ParseError, severityBound, type LogContext } from './index.js';

interface RecordSpec {
  severityNumber?: number;
  severityText?: string;
  body?: unknown;
  attributes?: Record<string, unknown>;
  traceId?: string;
  eventName?: string;
}

function record(spec: RecordSpec = {}): LogRecord {
  return {
    timeUnixNano: Long.UZERO,
    observedTimeUnixNano: Long.UZERO,
    severityNumber: spec.severityNumber ?? 0,
    severityText: spec.severityText ?? '',
    body: spec.body === undefined ? null : anyValueFrom(spec.body),
    attributes: keyValuesFrom(spec.attributes ?? {}),
    droppedAttributesCount: 0,
    flags: 0,
    traceId: spec.traceId ? idFromHex(spec.traceId, 16) : new Uint8Array(0),
    spanId: new Uint8Array(0),
    eventName: spec.eventName ?? '',
  };
}

function ctx(spec: RecordSpec = {}, resourceAttrs: Record<string, unknown> = {}, scope: Partial<InstrumentationScope> = {}): LogContext {
  const resource: Resource = { attributes: keyValuesFrom(resourceAttrs), droppedAttributesCount: 0 };
  return { record: record(spec), resource, scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0, ...scope } };
}

function check(condition: string, matching: LogContext[], notMatching: LogContext[]): void {
  const c = compileCondition(condition);
  for (const m of matching) expect(c(m), `${condition} should match ${JSON.stringify(m.record.attributes)}`).toBe(true);
  for (const m of notMatching) expect(c(m), `${condition} should not match`).toBe(false);
}

describe('paths and comparisons', () => {
  it('severity_number with SEVERITY_NUMBER_* enums and every operator', () => {
    const warn = ctx({ severityNumber: 13 });
    const info = ctx({ severityNumber: 9 });
    const error = ctx({ severityNumber: 17 });
    check('severity_number < SEVERITY_NUMBER_WARN', [info], [warn, error]);
    check('severity_number <= SEVERITY_NUMBER_WARN', [info, warn], [error]);
    check('severity_number > SEVERITY_NUMBER_WARN', [error], [info, warn]);
    check('severity_number >= SEVERITY_NUMBER_WARN', [warn, error], [info]);
    check('severity_number == SEVERITY_NUMBER_WARN', [warn], [info, error]);
    check('severity_number != SEVERITY_NUMBER_WARN', [info, error], [warn]);
    check('severity_number == 17', [error], [warn]);
    check('SEVERITY_NUMBER_WARN > severity_number', [info], [warn, error]);
    check('log.severity_number >= 17', [error], [info]);
  });

  it('severity_text, event_name, body', () => {
    check('severity_text == "WARN"', [ctx({ severityText: 'WARN' })], [ctx({ severityText: 'warn' }), ctx()]);
    check('event_name == "login"', [ctx({ eventName: 'login' })], [ctx()]);
    check('body == "hello"', [ctx({ body: 'hello' })], [ctx({ body: 'hello!' }), ctx()]);
    check('body == 42', [ctx({ body: 42 })], [ctx({ body: '42' })]);
    check('body.string == "42"', [ctx({ body: 42 }), ctx({ body: '42' })], [ctx({ body: 43 })]);
    check('body["user"] == "bob"', [ctx({ body: { user: 'bob' } })], [ctx({ body: { user: 'al' } }), ctx({ body: {} })]);
    check('body["a"]["b"] == 1', [ctx({ body: { a: { b: 1 } } })], [ctx({ body: { a: { b: 2 } } })]);
    check('body["list"][1] == "y"', [ctx({ body: { list: ['x', 'y'] } })], [ctx({ body: { list: ['y', 'x'] } })]);
  });

  it('attributes, resource.attributes, instrumentation_scope', () => {
    check('attributes["http.route"] == "/health"', [ctx({ attributes: { 'http.route': '/health' } })], [ctx({ attributes: { 'http.route': '/api' } }), ctx()]);
    check('attributes["code"] >= 500', [ctx({ attributes: { code: 503 } }), ctx({ attributes: { code: 500.5 } })], [ctx({ attributes: { code: 404 } }), ctx({ attributes: { code: '503' } })]);
    check('attributes["ok"] == true', [ctx({ attributes: { ok: true } })], [ctx({ attributes: { ok: 'true' } })]);
    check('resource.attributes["service.name"] == "api"', [ctx({}, { 'service.name': 'api' })], [ctx({}, { 'service.name': 'web' }), ctx()]);
    check('instrumentation_scope.name == "io.x"', [ctx({}, {}, { name: 'io.x' })], [ctx({}, {}, { name: 'io.y' })]);
    check('scope.version == "1.2"', [ctx({}, {}, { version: '1.2' })], [ctx()]);
    check('instrumentation_scope.attributes["k"] == "v"', [ctx({}, {}, { attributes: keyValuesFrom({ k: 'v' }) })], [ctx()]);
  });

  it('trace_id.string', () => {
    const hex = '0102030405060708090a0b0c0d0e0f10';
    check(`trace_id.string == "${hex}"`, [ctx({ traceId: hex })], [ctx()]);
    check('trace_id.string == ""', [ctx()], [ctx({ traceId: hex })]);
  });

  it('nil: missing values equal nil, and only nil', () => {
    check('attributes["x"] == nil', [ctx()], [ctx({ attributes: { x: '' } })]);
    check('attributes["x"] != nil', [ctx({ attributes: { x: 0 } })], [ctx()]);
    check('body == nil', [ctx()], [ctx({ body: '' })]);
    check('nil == nil', [ctx()], []);
    check('attributes["x"] < 5', [ctx({ attributes: { x: 1 } })], [ctx()]); // nil is not ordered
  });

  it('values of different types are not equal, int and double compare numerically', () => {
    check('attributes["n"] == "1"', [ctx({ attributes: { n: '1' } })], [ctx({ attributes: { n: 1 } })]);
    check('attributes["n"] != "1"', [ctx({ attributes: { n: 1 } })], [ctx({ attributes: { n: '1' } })]);
    check('attributes["n"] == 1.0', [ctx({ attributes: { n: 1 } })], [ctx({ attributes: { n: 1.5 } })]);
    check('attributes["s"] > "m"', [ctx({ attributes: { s: 'z' } })], [ctx({ attributes: { s: 'a' } }), ctx({ attributes: { s: 99 } })]);
    check('attributes["a"] == attributes["b"]', [ctx({ attributes: { a: 'x', b: 'x' } }), ctx()], [ctx({ attributes: { a: 'x', b: 'y' } }), ctx({ attributes: { a: 1, b: '1' } })]);
    check('attributes["m"] == body', [ctx({ attributes: { m: { k: 1 } }, body: { k: 1 } })], [ctx({ attributes: { m: { k: 1 } }, body: { k: 2 } })]);
  });

  it('string escapes and negative numbers', () => {
    check('body == "say \\"hi\\"\\n"', [ctx({ body: 'say "hi"\n' })], [ctx({ body: 'say hi' })]);
    check('attributes["t"] < -1.5', [ctx({ attributes: { t: -2 } })], [ctx({ attributes: { t: 0 } })]);
  });
});

describe('boolean logic', () => {
  const a = ctx({ severityNumber: 9, attributes: { route: '/health' } });
  const b = ctx({ severityNumber: 17, attributes: { route: '/health' } });
  const c = ctx({ severityNumber: 17, attributes: { route: '/api' } });
  it('and, or, not, parentheses and precedence (not > and > or)', () => {
    check('attributes["route"] == "/health" and severity_number < 13', [a], [b, c]);
    check('attributes["route"] == "/api" or severity_number < 13', [a, c], [b]);
    check('not attributes["route"] == "/health"', [c], [a, b]);
    check('not (severity_number < 13 or attributes["route"] == "/api")', [b], [a, c]);
    // and binds tighter than or: a or (b and c)
    check('severity_number < 13 or severity_number > 13 and attributes["route"] == "/api"', [a, c], [b]);
    check('(severity_number < 13 or severity_number > 13) and attributes["route"] == "/api"', [c], [a, b]);
    check('true', [a], []);
    check('false or not false', [a], []);
    check('severity_number > 1 and severity_number > 2 and attributes["route"] != nil and true', [a, b, c], [ctx()]);
  });
});

describe('functions', () => {
  it('IsMatch on body, attributes and non-string values', () => {
    check('IsMatch(body, "^GET /health")', [ctx({ body: 'GET /healthz 200' })], [ctx({ body: 'POST /health' }), ctx()]);
    check('IsMatch(attributes["user"], "(?i)^ADMIN")', [ctx({ attributes: { user: 'admin-1' } })], [ctx({ attributes: { user: 'bob' } })]);
    check('IsMatch(attributes["code"], "^5\\\\d\\\\d$")', [ctx({ attributes: { code: 503 } })], [ctx({ attributes: { code: 404 } })]);
    check('IsMatch(attributes["code"], "^5\\d\\d$")', [ctx({ attributes: { code: 500 } })], [ctx({ attributes: { code: 200 } })]);
    check('IsMatch(body, "\\"password\\"")', [ctx({ body: { password: 'x' } })], [ctx({ body: { user: 'x' } })]);
    check('not IsMatch(body, "x")', [ctx({ body: 'abc' })], [ctx({ body: 'xyz' })]);
    check('IsMatch(body, "x") == true', [ctx({ body: 'x' })], [ctx({ body: 'y' })]);
  });

  it('regexes run in linear time (no catastrophic backtracking)', () => {
    const c = compileCondition('IsMatch(body, "(a+)+$")');
    const start = performance.now();
    expect(c(ctx({ body: 'a'.repeat(50_000) + '!' }))).toBe(false);
    expect(performance.now() - start).toBeLessThan(2000);
  });

  it('type checks', () => {
    check('IsString(attributes["v"])', [ctx({ attributes: { v: 's' } })], [ctx({ attributes: { v: 1 } }), ctx()]);
    check('IsInt(attributes["v"])', [ctx({ attributes: { v: 1 } })], [ctx({ attributes: { v: 1.5 } })]);
    check('IsDouble(attributes["v"])', [ctx({ attributes: { v: 1.5 } })], [ctx({ attributes: { v: 1 } })]);
    check('IsBool(attributes["v"])', [ctx({ attributes: { v: false } })], [ctx({ attributes: { v: 'false' } })]);
    check('IsMap(body)', [ctx({ body: { a: 1 } })], [ctx({ body: 'a' })]);
    check('IsList(body)', [ctx({ body: [1] })], [ctx({ body: { a: 1 } })]);
    check('IsInt(severity_number)', [ctx()], []);
  });
});

describe('evaluation errors', () => {
  it('indexing a string value throws EvaluationError; indexing nothing is nil', () => {
    const c = compileCondition('body["k"] == "v"');
    expect(() => c(ctx({ body: 'plain' }))).toThrow(EvaluationError);
    expect(c(ctx())).toBe(false);
    const list = compileCondition('body[5] == 1');
    expect(() => list(ctx({ body: [1] }))).toThrow(/out of range/);
  });
});

describe('parse errors name the position', () => {
  const cases: [string, number, RegExp][] = [
    ['(severity_number < 13 or body == "x"', 36, /^expected "\)" at position 36/],
    ['attributes["k" == "v"', 15, /^expected "\]" at position 15/],
    ['body = "x"', 5, /use "=="/],
    ['body == "x" && true', 12, /use "and"/],
    ['body == "unterminated', 8, /^unterminated string at position 8/],
    ['attributes["k"]', 15, /expected a comparison operator/],
    ['severity_number <', 17, /^expected a value at position 17/],
    ['foo.bar == 1', 0, /^unknown path "foo.bar" at position 0/],
    ['severity_number > SEVERITY_NUMBER_LOUD', 18, /^unknown enum "SEVERITY_NUMBER_LOUD"/],
    ['Nope(body)', 0, /^unknown function "Nope"/],
    ['IsMatch(body, "(a")', 14, /^invalid regex "\(a" at position 14 \(missing closing \): `\(a`\)$/],
    ['IsMatch(body, "(?=x)")', 14, /invalid regex/],
    ['IsMatch(body)', 0, /IsMatch takes 2 arguments/],
    ['body == "x" body', 12, /^unexpected "body" at position 12/],
    ['', 0, /^empty condition at position 0/],
    ['attributes == "x"', 0, /needs a key/],
    ['severity_number["x"] == 1', 16, /cannot be indexed/],
  ];
  for (const [text, pos, message] of cases) {
    it(text || '(empty)', () => {
      let err: unknown;
      try {
        compileCondition(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ParseError);
      expect((err as ParseError).position).toBe(pos);
      expect((err as ParseError).message).toMatch(message);
      expect(conditionError(text)?.position).toBe(pos);
    });
  }
  it('valid conditions report no error', () => {
    expect(conditionError('severity_number >= SEVERITY_NUMBER_ERROR')).toBeUndefined();
  });
});

describe('schema helpers', () => {
  it('ottlCondition puts the parse error at the list item', () => {
    const schema = z.object({ log_record: z.array(ottlCondition()) });
    const r = schema.safeParse({ log_record: ['body == "x"', '(severity_number < 13 or body == "x"'] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['log_record', 1]);
    expect(r.error!.issues[0]!.message).toBe('expected ")" at position 36 (found end of condition)');
  });
  it('severityBound: names are ranges, numbers exact', () => {
    expect(severityBound('min').parse('WARN')).toBe(13);
    expect(severityBound('max').parse('warn')).toBe(16);
    expect(severityBound('max').parse('WARN2')).toBe(14);
    expect(severityBound('min').parse('SEVERITY_NUMBER_ERROR')).toBe(17);
    expect(severityBound('min').parse('warning')).toBe(13);
    expect(severityBound('max').parse(9)).toBe(9);
    expect(severityBound('min').safeParse('LOUD').success).toBe(false);
    expect(severityBound('min').safeParse(30).success).toBe(false);
  });
});

describe('records decoded from protobuf', () => {
  it('conditions see the decoded representation (prototype defaults, Long ints)', () => {
    const rec = record({ severityNumber: 17, body: { user: 'bob' }, attributes: { code: 503, big: 2 ** 40, ok: false, s: '' } });
    const req = decodeExportRequest(
      encodeExportRequest({ resourceLogs: [{ resource: { attributes: keyValuesFrom({ 'service.name': 'api' }), droppedAttributesCount: 0 }, scopeLogs: [{ scope: { name: 'sc', version: '', attributes: [], droppedAttributesCount: 0 }, logRecords: [rec], schemaUrl: '' }], schemaUrl: '' }] }),
    );
    const rl = req.resourceLogs[0]!;
    const c: LogContext = { record: rl.scopeLogs[0]!.logRecords[0]!, resource: rl.resource, scope: rl.scopeLogs[0]!.scope };
    const yes = [
      'attributes["code"] == 503 and attributes["code"] > 500.5',
      'attributes["big"] == 1099511627776',
      'attributes["ok"] == false and attributes["s"] == "" and attributes["missing"] == nil',
      'body["user"] == "bob" and IsMap(body) and IsInt(attributes["code"])',
      'resource.attributes["service.name"] == "api" and instrumentation_scope.name == "sc"',
      'severity_number >= SEVERITY_NUMBER_ERROR and severity_text == "" and trace_id.string == ""',
    ];
    for (const text of yes) expect(compileCondition(text)(c), text).toBe(true);
    expect(compileCondition('attributes["code"] == "503"')(c)).toBe(false);
  });
});

describe('compileRegex literal fast path', () => {
  it('plain-text patterns (anchored or not) answer exactly as the regex engine does', async () => {
    const { compileRegex } = await import('./regex.js');
    const { RE2JS } = await import('re2js');
    const inputs = ['healthcheck ok', 'a healthcheck', 'GET /health', 'timeout', 'no timeout here', '', 'x.y', 'xzy'];
    for (const pattern of ['^healthcheck ', 'timeout$', '^timeout$', 'health', '^GET ', 'x.y', 'a|b', '^$']) {
      const fast = compileRegex(pattern);
      const re = RE2JS.compile(pattern);
      for (const input of inputs) expect(fast.test(input), `${pattern} on ${JSON.stringify(input)}`).toBe(re.test(input));
    }
  });
});
