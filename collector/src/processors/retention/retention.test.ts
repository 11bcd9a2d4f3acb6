import Long from 'long';
import { describe, expect, it } from 'vitest';
import { RecordingConsumer, testSettings } from '../../../../test/kit/index.js';
import { parse as parseYaml } from 'yaml';
import { anyValueFrom, anyValueToRaw, countLogRecords, findAttribute, keyValuesFrom, type LogRecord, type ResourceLogs } from '@tributary/otlp';
import { type LogsBatch } from '../../component.js';
import { issuesFromZod } from '../../config/schema-helpers.js';
import { PermanentError } from '../../errors.js';
import { MetricNames, Telemetry } from '../../telemetry/metrics.js';
import { RETENTION_TAGGED_METRIC, retentionClasses, retentionProcessorConfigSchema, retentionProcessorFactory } from './index.js';

interface Rec {
  sev?: number;
  body?: unknown;
  attrs?: Record<string, unknown>;
}

function rec(r: Rec): LogRecord {
  return {
    timeUnixNano: Long.UZERO,
    observedTimeUnixNano: Long.UZERO,
    severityNumber: r.sev ?? 0,
    severityText: '',
    body: r.body === undefined ? null : anyValueFrom(r.body),
    attributes: keyValuesFrom(r.attrs ?? {}),
    droppedAttributesCount: 0,
    flags: 0,
    traceId: new Uint8Array(0),
    spanId: new Uint8Array(0),
    eventName: '',
  };
}

function batchOf(recs: Rec[], resourceAttrs: Record<string, unknown> = {}): LogsBatch {
  const resourceLogs: ResourceLogs[] = [
    {
      resource: { attributes: keyValuesFrom(resourceAttrs), droppedAttributesCount: 0 },
      scopeLogs: [{ scope: { name: 's', version: '', attributes: [], droppedAttributesCount: 0 }, logRecords: recs.map(rec), schemaUrl: '' }],
      schemaUrl: '',
    },
  ];
  return { resourceLogs, recordCount: countLogRecords(resourceLogs), receivedAt: 0 };
}

function setup(raw: unknown) {
  const config = retentionProcessorConfigSchema.parse(raw);
  const telemetry = new Telemetry();
  const next = new RecordingConsumer();
  const received = next.batches;
  const processor = retentionProcessorFactory.create(testSettings('retention', telemetry), config, next);
  const metric = (name: string, labels: Record<string, string> = {}) =>
    (telemetry.find(name) as { total(m: Record<string, string>): number }).total({ processor: 'retention', ...labels });
  return { processor, received, metric, config };
}

/** Tags the records and returns `class/days` per record. */
async function tags(raw: unknown, recs: Rec[]): Promise<string[]> {
  const { processor, received } = setup(raw);
  await processor.consume(batchOf(recs));
  return received[0]!.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r) => {
    const cls = anyValueToRaw(findAttribute(r.attributes, 'retention.class'));
    const days = anyValueToRaw(findAttribute(r.attributes, 'retention.days'));
    return `${String(cls)}/${String(days)}`;
  });
}

describe('retention: built-in policies', () => {
  it('audit/security forever, error+ 90, warn 30, the rest standard 7', async () => {
    const recs: Rec[] = [
      { sev: 21 },
      { sev: 17 },
      { sev: 16 },
      { sev: 13 },
      { sev: 12 },
      { sev: 5 },
      { sev: 1 },
      { sev: 0 },
      { sev: 9, attrs: { 'log.category': 'audit' } },
      { sev: 17, attrs: { 'log.category': 'security' } },
      { sev: 17, attrs: { 'log.category': 'app' } },
    ];
    expect(await tags({}, recs)).toEqual([
      'error/90', 'error/90', 'warn/30', 'warn/30', 'standard/7', 'standard/7', 'standard/7', 'standard/7', 'audit/-1', 'audit/-1', 'error/90',
    ]);
  });

  it('writes retention.days as an int and retention.class as a string', async () => {
    const { processor, received } = setup({});
    await processor.consume(batchOf([{ sev: 17 }]));
    const attrs = received[0]!.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes;
    expect(findAttribute(attrs, 'retention.class')).toEqual({ stringValue: 'error' });
    expect(findAttribute(attrs, 'retention.days')).toEqual({ intValue: 90 });
  });

  it('retentionClasses lists every class a config can produce', () => {
    expect(retentionClasses(retentionProcessorConfigSchema.parse({}))).toEqual([
      { name: 'audit', days: -1 }, { name: 'error', days: 90 }, { name: 'warn', days: 30 }, { name: 'standard', days: 7 },
    ]);
  });
});

describe('retention: custom policies', () => {
  const issueConfig = parseYaml(`
policies:                # first match wins
  - { name: audit, when: 'attributes["log.category"] == "audit"', days: -1 }
  - { name: errors, when: 'severity_number >= SEVERITY_NUMBER_ERROR', days: 90 }
default: { name: standard, days: 7 }
`) as unknown;

  it('the documented config shape: first match wins, -1 for forever, default otherwise', async () => {
    expect(
      await tags(issueConfig, [
        { sev: 17, attrs: { 'log.category': 'audit' } }, // both match: the first policy wins
        { sev: 18 },
        { sev: 13 },
        { sev: 9, attrs: { 'log.category': 'audit' } },
      ]),
    ).toEqual(['audit/-1', 'errors/90', 'standard/7', 'audit/-1']);
  });

  it('order decides: the same policies reversed give errors precedence', async () => {
    const reversed = { policies: [...(issueConfig as { policies: unknown[] }).policies].reverse() };
    expect(await tags(reversed, [{ sev: 17, attrs: { 'log.category': 'audit' } }])).toEqual(['errors/90']);
  });

  it('simple keys: severity range, categories, attributes (ANDed within a policy)', async () => {
    const raw = {
      policies: [
        { name: 'pci', attributes: { 'pci.scope': true, env: 'prod' }, days: 365 },
        { name: 'compliance', categories: ['audit', 'billing'], days: 400 },
        { name: 'noise', max_severity: 'DEBUG', days: 1 },
        { name: 'mid', min_severity: 'INFO', max_severity: 'WARN2', days: 14 },
      ],
      default: { name: 'rest', days: 3 },
    };
    expect(
      await tags(raw, [
        { sev: 9, attrs: { 'pci.scope': true, env: 'prod' } },
        { sev: 9, attrs: { 'pci.scope': true, env: 'dev' } },
        { sev: 9, attrs: { 'pci.scope': 'true', env: 'prod' } },
        { sev: 21, attrs: { 'log.category': 'billing' } },
        { sev: 5 },
        { sev: 14 },
        { sev: 15 },
        { sev: 0 },
      ]),
    ).toEqual(['pci/365', 'mid/14', 'mid/14', 'compliance/400', 'noise/1', 'mid/14', 'rest/3', 'rest/3']);
  });

  it('an empty policy list tags everything with the default', async () => {
    expect(await tags({ policies: [] }, [{ sev: 21, attrs: { 'log.category': 'audit' } }])).toEqual(['standard/7']);
  });

  it('replaces existing retention attributes instead of adding duplicates', async () => {
    const { processor, received } = setup({});
    await processor.consume(batchOf([{ sev: 17, attrs: { 'retention.class': 'client-said', 'retention.days': 9999, other: 1 } }]));
    const attrs = received[0]!.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes;
    expect(attrs.map((a) => a.key)).toEqual(['retention.class', 'retention.days', 'other']);
    expect(findAttribute(attrs, 'retention.class')).toEqual({ stringValue: 'error' });
    expect(findAttribute(attrs, 'retention.days')).toEqual({ intValue: 90 });
  });

  it('does not share attribute value objects between records', async () => {
    const { processor, received } = setup({});
    await processor.consume(batchOf([{ sev: 17 }, { sev: 17 }]));
    const [a, b] = received[0]!.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    expect(findAttribute(a!.attributes, 'retention.class')).not.toBe(findAttribute(b!.attributes, 'retention.class'));
  });
});

describe('retention: metrics and errors', () => {
  it('counts records in, out and per class', async () => {
    const { processor, metric } = setup({});
    await processor.consume(batchOf([{ sev: 17 }, { sev: 17 }, { sev: 13 }, { sev: 9 }]));
    expect(metric(MetricNames.processorIncoming)).toBe(4);
    expect(metric(MetricNames.processorOutgoing)).toBe(4);
    expect(metric(RETENTION_TAGGED_METRIC, { class: 'error' })).toBe(2);
    expect(metric(RETENTION_TAGGED_METRIC, { class: 'warn' })).toBe(1);
    expect(metric(RETENTION_TAGGED_METRIC, { class: 'standard' })).toBe(1);
    expect(metric(RETENTION_TAGGED_METRIC, { class: 'audit' })).toBe(0);
  });

  it('error_mode propagate rejects the batch; ignore moves on to the next policy', async () => {
    const policies = [{ name: 'vip', when: 'body["tier"] == "gold"', days: 365 }];
    const p = setup({ policies });
    const err = await p.processor.consume(batchOf([{ body: 'plain text' }])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toMatch(/policies\[0\]\.when/);
    expect(p.received).toHaveLength(0);

    expect(await tags({ error_mode: 'ignore', policies }, [{ body: 'plain text' }, { body: { tier: 'gold' } }])).toEqual(['standard/7', 'vip/365']);
  });

  it('validation reports bad conditions, days and names at their paths', () => {
    const issues = (raw: unknown) => {
      const r = retentionProcessorConfigSchema.safeParse(raw);
      return r.success ? [] : issuesFromZod(r.error, ['processors', 'retention']).map((i) => `${i.path}: ${i.message}`);
    };
    expect(issues({ policies: [{ name: 'a', days: 1, when: 'severity_number >= SEVERITY_NUMBER_ERROR' }, { name: 'b', days: 1, when: 'attributes["x" == 1' }] })).toEqual([
      'processors.retention.policies[1].when: expected "]" at position 15 (found "==")',
    ]);
    expect(issues({ policies: [{ name: 'a', days: -2 }] })[0]).toMatch(/^processors\.retention\.policies\[0\]\.days: /);
    expect(issues({ policies: [{ name: 'a b', days: 1 }] })[0]).toMatch(/^processors\.retention\.policies\[0\]\.name: /);
    expect(issues({ policies: [{ name: 'a', days: 1, min_severity: 'LOUD' }] })[0]).toMatch(/min_severity: invalid severity/);
    expect(issues({ default: { name: 'x' } })[0]).toMatch(/^processors\.retention\.default\.days: required/);
    expect(issues({ polices: [] })).toEqual(['processors.retention.polices: unknown key']);
  });
});

describe('retention: README example', () => {
  it('the README example config is valid and tags as documented', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(text)![1]!;
    const raw = (parseYaml(yaml) as { processors: { retention: unknown } }).processors.retention;
    expect(await tags(raw, [{ sev: 9, attrs: { 'pci.scope': true } }, { sev: 5 }, { sev: 9 }])).toEqual(['pci/365', 'debug/1', 'standard/7']);
  });
});
