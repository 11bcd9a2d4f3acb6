import Long from 'long';
import { describe, expect, it } from 'vitest';
import { RecordingConsumer, testSettings } from '../../../../test/kit/index.js';
import { anyValueAsString, anyValueFrom, countLogRecords, keyValuesFrom, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import { type LogsBatch } from '../../component.js';
import { issuesFromZod } from '../../config/schema-helpers.js';
import { PermanentError } from '../../errors.js';
import { createLogger, silentLogger } from '../../telemetry/logger.js';
import { MetricNames, Telemetry } from '../../telemetry/metrics.js';
import { filterProcessorConfigSchema, filterProcessorFactory } from './index.js';

interface Rec {
  sev?: number;
  text?: string;
  body?: unknown;
  attrs?: Record<string, unknown>;
}

function rec(r: Rec): LogRecord {
  return {
    timeUnixNano: Long.UZERO,
    observedTimeUnixNano: Long.UZERO,
    severityNumber: r.sev ?? 0,
    severityText: r.text ?? '',
    body: r.body === undefined ? null : anyValueFrom(r.body),
    attributes: keyValuesFrom(r.attrs ?? {}),
    droppedAttributesCount: 0,
    flags: 0,
    traceId: new Uint8Array(0),
    spanId: new Uint8Array(0),
    eventName: '',
  };
}

/** One ResourceLogs per entry of `resources`, each with one scope per inner array. */
function batchOf(resources: { attrs?: Record<string, unknown>; scopes: Rec[][]; scopeName?: string }[]): LogsBatch {
  const resourceLogs: ResourceLogs[] = resources.map((r) => ({
    resource: { attributes: keyValuesFrom(r.attrs ?? {}), droppedAttributesCount: 0 },
    scopeLogs: r.scopes.map((recs) => ({
      scope: { name: r.scopeName ?? 'scope', version: '', attributes: [], droppedAttributesCount: 0 },
      logRecords: recs.map(rec),
      schemaUrl: '',
    })),
    schemaUrl: '',
  }));
  return { resourceLogs, recordCount: countLogRecords(resourceLogs), receivedAt: 0 };
}

function bodies(batch: LogsBatch): string[] {
  const out: string[] = [];
  for (const rl of batch.resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) out.push(anyValueAsString(r.body));
  return out;
}

function setup(raw: unknown, logLines?: string[]) {
  const config = filterProcessorConfigSchema.parse(raw);
  const telemetry = new Telemetry();
  const next = new RecordingConsumer();
  const received = next.batches;
  const logger = logLines ? createLogger({ write: (l) => logLines.push(l) }) : silentLogger;
  const processor = filterProcessorFactory.create(testSettings('filter/x', telemetry, logger), config, next);
  const metric = (name: string, labels: Record<string, string> = {}) =>
    (telemetry.find(name) as { total(m: Record<string, string>): number }).total({ processor: 'filter/x', ...labels });
  return { processor, received, metric };
}

/** Runs records (one resource, one scope) through a filter config and returns the bodies kept. */
async function kept(raw: unknown, recs: Rec[]): Promise<string[]> {
  const { processor, received } = setup(raw);
  await processor.consume(batchOf([{ scopes: [recs] }]));
  return received.length ? bodies(received[0]!) : [];
}

describe('filter: OTTL conditions', () => {
  const recs: Rec[] = [
    { sev: 5, body: 'debug line' },
    { sev: 9, body: 'GET /health 200', attrs: { 'http.route': '/health' } },
    { sev: 13, body: 'slow', attrs: { 'http.route': '/api' } },
    { sev: 17, body: 'boom' },
  ];
  it('drops records matching any condition', async () => {
    expect(await kept({ logs: { log_record: ['severity_number < SEVERITY_NUMBER_INFO'] } }, recs)).toEqual(['GET /health 200', 'slow', 'boom']);
    expect(await kept({ logs: { log_record: ['attributes["http.route"] == "/health"', 'IsMatch(body, "^bo")'] } }, recs)).toEqual(['debug line', 'slow']);
    expect(await kept({ logs: { log_record: ['not (severity_number >= SEVERITY_NUMBER_WARN)'] } }, recs)).toEqual(['slow', 'boom']);
  });

  it('matches resource attributes and scope name across several resources and scopes', async () => {
    const { processor, received, metric } = setup({ logs: { log_record: ['resource.attributes["service.name"] == "noisy" or instrumentation_scope.name == "chatty"'] } });
    const batch = batchOf([
      { attrs: { 'service.name': 'noisy' }, scopes: [[{ body: 'a' }, { body: 'b' }], [{ body: 'c' }]] },
      { attrs: { 'service.name': 'api' }, scopes: [[{ body: 'd' }]] },
      { attrs: { 'service.name': 'api' }, scopeName: 'chatty', scopes: [[{ body: 'e' }]] },
    ]);
    await processor.consume(batch);
    expect(received).toHaveLength(1);
    const out = received[0]!;
    expect(bodies(out)).toEqual(['d']);
    // Emptied ScopeLogs and ResourceLogs are removed, and recordCount follows.
    expect(out.resourceLogs).toHaveLength(1);
    expect(out.resourceLogs[0]!.scopeLogs).toHaveLength(1);
    expect(out.recordCount).toBe(1);
    expect(metric(MetricNames.processorIncoming)).toBe(5);
    expect(metric(MetricNames.processorOutgoing)).toBe(1);
    expect(metric(MetricNames.processorDropped, { reason: 'filter' })).toBe(4);
  });

  it('does not call next when everything is dropped', async () => {
    const { processor, received, metric } = setup({ logs: { log_record: ['true'] } });
    await processor.consume(batchOf([{ scopes: [[{ body: 'a' }], [{ body: 'b' }]] }]));
    expect(received).toHaveLength(0);
    expect(metric(MetricNames.processorDropped, { reason: 'filter' })).toBe(2);
  });

  it('passes everything through when nothing is configured', async () => {
    expect(await kept({}, recs)).toHaveLength(4);
  });
});

describe('filter: error_mode', () => {
  const recs: Rec[] = [{ body: 'plain' }, { body: { k: 'v' } }, { body: { k: 'w' } }];
  const cond = { log_record: ['body["k"] == "v"'] };

  it('propagate (default) rejects the batch with PermanentError naming the condition', async () => {
    const { processor, received, metric } = setup({ logs: cond });
    const err = await processor.consume(batchOf([{ scopes: [recs] }])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toMatch(/logs\.log_record\[0\].*cannot index a string/);
    expect(received).toHaveLength(0);
    expect(metric(MetricNames.processorRefused)).toBe(3);
  });

  it('ignore treats the record as not matching and logs', async () => {
    const lines: string[] = [];
    const { processor, received } = setup({ error_mode: 'ignore', logs: cond }, lines);
    await processor.consume(batchOf([{ scopes: [recs] }]));
    expect(bodies(received[0]!)).toEqual(['plain', '{"k":"w"}']);
    expect(lines.join('\n')).toMatch(/condition failed/);
  });

  it('silent treats the record as not matching without logging', async () => {
    const lines: string[] = [];
    const { processor, received } = setup({ error_mode: 'silent', logs: cond }, lines);
    await processor.consume(batchOf([{ scopes: [recs] }]));
    expect(bodies(received[0]!)).toEqual(['plain', '{"k":"w"}']);
    expect(lines).toEqual([]);
  });
});

describe('filter: include / exclude', () => {
  const recs: Rec[] = [
    { sev: 5, text: 'DEBUG', body: 'cache miss', attrs: { 'log.category': 'app' } },
    { sev: 9, text: 'INFO', body: 'user login', attrs: { 'log.category': 'audit', env: 'prod', code: 200 } },
    { sev: 13, text: 'WARN', body: 'slow query', attrs: { env: 'dev', code: 500 } },
    { sev: 0, body: 'no severity' },
    { sev: 21, text: 'FATAL', body: 'crash', attrs: { 'log.category': 'security' } },
  ];

  it('min_severity / max_severity by name (name = whole level range)', async () => {
    expect(await kept({ logs: { include: { min_severity: 'WARN' } } }, recs)).toEqual(['slow query', 'crash']);
    expect(await kept({ logs: { exclude: { max_severity: 'debug' } } }, recs)).toEqual(['user login', 'slow query', 'no severity', 'crash']);
    expect(await kept({ logs: { include: { min_severity: 'INFO', max_severity: 'WARN' } } }, recs)).toEqual(['user login', 'slow query']);
  });

  it('categories match log.category', async () => {
    expect(await kept({ logs: { exclude: { categories: ['audit', 'security'] } } }, recs)).toEqual(['cache miss', 'slow query', 'no severity']);
    expect(await kept({ logs: { include: { categories: ['audit'] } } }, recs)).toEqual(['user login']);
  });

  it('severity_number {min, match_undefined} and severity_texts', async () => {
    expect(await kept({ logs: { include: { severity_number: { min: 'INFO' } } } }, recs)).toEqual(['user login', 'slow query', 'crash']);
    expect(await kept({ logs: { include: { severity_number: { min: 'INFO', match_undefined: true } } } }, recs)).toEqual(['user login', 'slow query', 'no severity', 'crash']);
    expect(await kept({ logs: { exclude: { match_type: 'strict', severity_texts: ['DEBUG', 'INFO'] } } }, recs)).toEqual(['slow query', 'no severity', 'crash']);
    expect(await kept({ logs: { exclude: { match_type: 'regexp', severity_texts: ['^(DEBUG|WA)'] } } }, recs)).toEqual(['user login', 'no severity', 'crash']);
  });

  it('bodies strict and regexp', async () => {
    expect(await kept({ logs: { exclude: { match_type: 'strict', bodies: ['crash'] } } }, recs)).toHaveLength(4);
    expect(await kept({ logs: { exclude: { match_type: 'regexp', bodies: ['^(cache|slow) '] } } }, recs)).toEqual(['user login', 'no severity', 'crash']);
  });

  it('record_attributes (typed strict, regexp, key presence) and resource_attributes', async () => {
    expect(await kept({ logs: { include: { record_attributes: [{ key: 'env', value: 'prod' }] } } }, recs)).toEqual(['user login']);
    expect(await kept({ logs: { exclude: { record_attributes: [{ key: 'code', value: 500 }] } } }, recs)).toHaveLength(4);
    expect(await kept({ logs: { exclude: { record_attributes: [{ key: 'code', value: '500' }] } } }, recs)).toHaveLength(5);
    expect(await kept({ logs: { include: { match_type: 'regexp', record_attributes: [{ key: 'code', value: '^5' }] } } }, recs)).toEqual(['slow query']);
    expect(await kept({ logs: { include: { record_attributes: [{ key: 'env' }] } } }, recs)).toEqual(['user login', 'slow query']);
    // Several properties are ANDed.
    expect(await kept({ logs: { include: { record_attributes: [{ key: 'env' }], min_severity: 'WARN' } } }, recs)).toEqual(['slow query']);

    const { processor, received } = setup({ logs: { exclude: { resource_attributes: [{ key: 'service.name', value: 'noisy' }] } } });
    await processor.consume(batchOf([{ attrs: { 'service.name': 'noisy' }, scopes: [[{ body: 'a' }]] }, { attrs: { 'service.name': 'api' }, scopes: [[{ body: 'b' }]] }]));
    expect(bodies(received[0]!)).toEqual(['b']);
  });

  it('include, exclude and conditions combine (drop if any says drop)', async () => {
    const raw = { logs: { include: { min_severity: 'INFO' }, exclude: { categories: ['audit'] }, log_record: ['IsMatch(body, "crash")'] } };
    expect(await kept(raw, recs)).toEqual(['slow query']);
  });
});

describe('filter: config validation', () => {
  function issues(raw: unknown): string[] {
    const r = filterProcessorConfigSchema.safeParse(raw);
    return r.success ? [] : issuesFromZod(r.error, ['processors', 'filter']).map((i) => `${i.path}: ${i.message}`);
  }

  it('a condition that does not parse fails validation with the list index and position', () => {
    expect(issues({ logs: { log_record: ['severity_number < 9', 'attributes["a"] == "b" and (body == "x"'] } })).toEqual([
      'processors.filter.logs.log_record[1]: expected ")" at position 39 (found end of condition)',
    ]);
  });

  it('bad regexes, severities, unknown keys and empty match properties are reported', () => {
    expect(issues({ logs: { exclude: { match_type: 'regexp', bodies: ['ok', '(a'] } } })).toEqual([
      'processors.filter.logs.exclude.bodies[1]: invalid regex "(a": missing closing ): `(a`',
    ]);
    expect(issues({ logs: { log_record: ['IsMatch(body, "(\\\\w+)\\\\1")'] } })[0]).toMatch(/log_record\[0\]: invalid regex .* at position 14/);
    expect(issues({ logs: { include: { min_severity: 'LOUD' } } })[0]).toMatch(/logs\.include\.min_severity: invalid severity "LOUD"/);
    expect(issues({ logs: { include: {} } })[0]).toMatch(/logs\.include: set at least one of/);
    expect(issues({ logs: { exclude: { severity: 'x' } } })).toContain('processors.filter.logs.exclude.severity: unknown key');
    expect(issues({ error_mode: 'loud' })[0]).toMatch(/^processors\.filter\.error_mode: /);
    expect(issues({ logs: { include: { min_severity: 'ERROR', max_severity: 'INFO' } } })[0]).toMatch(/max_severity: must not be below/);
  });

  it('defaults', () => {
    const c = filterProcessorConfigSchema.parse({});
    expect(c.error_mode).toBe('propagate');
    expect(c.logs.log_record).toEqual([]);
  });
});

describe('filter: through the collector config loader', () => {
  it('tributary validate reports a bad condition with its path and position', async () => {
    const { validateConfig } = await import('../../config/load.js');
    const { createDefaultRegistry } = await import('../../builtins.js');
    const raw = {
      receivers: { otlp: {} },
      processors: { filter: { logs: { log_record: ['severity_number < 9', 'IsMatch(body, "x"'] } } },
      exporters: { debug: {} },
      service: { pipelines: { logs: { receivers: ['otlp'], processors: ['filter'], exporters: ['debug'] } } },
    };
    expect(() => validateConfig(raw, createDefaultRegistry())).toThrow(
      'processors.filter.logs.log_record[1]: expected ")" at position 17 (found end of condition)',
    );
  });
});

describe('filter: README example', () => {
  it('every processor in the README example config is valid', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const text = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(text)![1]!;
    const processors = (parse(yaml) as { processors: Record<string, unknown> }).processors;
    expect(Object.keys(processors)).toHaveLength(3);
    for (const [id, cfg] of Object.entries(processors)) expect(filterProcessorConfigSchema.safeParse(cfg).success, id).toBe(true);
  });
});
