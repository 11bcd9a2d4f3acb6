/**
 * Process-level: OTLP/HTTP in → retention processor → `clickhouse` exporter → a real ClickHouse server
 * (Debian's clickhouse-server, an old release: the exporter detects it and uses the legacy layout) through
 * the real HTTP interface; a query reads every field back. Also: a wrong password is a permanent,
 * secret-free error; the password never shows in the collector's output or /metrics.
 * Skipped with a printed reason when no clickhouse-server is installed; required when CI=true.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeExportRequestJson } from '@tributary/otlp';
import { goldenBatch, goldenRequest } from '../collector/src/exporters/testdata/golden-records.js';
import { freePort, startCollector, waitFor, type RunningCollector } from './support/collector-process.js';
import { findClickHouseServer, startClickHouse, type RunningClickHouse } from './support/clickhouse-server.js';

const installed = findClickHouseServer() !== undefined;
if (!installed) {
  if (process.env['CI'] === 'true') throw new Error('clickhouse-server is required when CI=true (.ci/run installs it)');
  console.warn('[exporter-clickhouse] skipping: no clickhouse-server binary installed (apt-get install clickhouse-server)');
}

const WRONG_PASSWORD = 'wrong-pass-c0ffee-91';

describe.skipIf(!installed)('clickhouse exporter against a real ClickHouse server', () => {
  let ch: RunningClickHouse;
  let collector: RunningCollector;
  let httpPort = 0;
  let metricsPort = 0;

  beforeAll(async () => {
    ch = await startClickHouse();
    [httpPort, metricsPort] = [await freePort(), await freePort()];
    const healthPort = await freePort();
    collector = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${httpPort} } } } }
processors: { retention: {} }
exporters:
  clickhouse:
    endpoint: ${ch.url}
    database: otel
    logs_table_name: otel_logs
    create_schema: true
    ttl: 72h
    username: ${ch.user}
    password: "\${env:CH_PASSWORD}"
    retry_on_failure: { initial_interval: 100ms, max_interval: 500ms }
  clickhouse/bad:
    endpoint: ${ch.url}
    database: otel
    username: ${ch.user}
    password: "\${env:CH_BAD_PASSWORD}"
    retry_on_failure: { initial_interval: 100ms, max_interval: 500ms }
extensions: { health_check: { endpoint: 127.0.0.1:${healthPort} }, metrics: { endpoint: 127.0.0.1:${metricsPort} } }
service:
  extensions: [health_check, metrics]
  shutdown_timeout: 2s
  pipelines: { logs: { receivers: [otlp], processors: [retention], exporters: [clickhouse, clickhouse/bad] } }
`, { healthPort, env: { CH_PASSWORD: ch.password, CH_BAD_PASSWORD: WRONG_PASSWORD } });
  }, 60_000);

  afterAll(async () => {
    if (collector) {
      await collector.stop();
      fs.rmSync(collector.dir, { recursive: true, force: true });
    }
    await ch?.stop();
  });

  it('creates the legacy table on the old server and inserts every field of the golden set', async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/v1/logs`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: encodeExportRequestJson(goldenRequest()),
    });
    expect(res.status).toBe(200);
    const total = goldenBatch().recordCount;
    await waitFor(`${total} rows in otel.otel_logs`, async () => {
      const n = await ch.query('SELECT count() FROM otel.otel_logs').catch(() => '0');
      return Number(n.trim()) === total ? true : undefined;
    }, 20_000);

    expect(ch.version.startsWith('18.') ? 'legacy' : 'modern').toBe('legacy');
    const ddl = await ch.query('SHOW CREATE TABLE otel.otel_logs FORMAT TSVRaw');
    expect(ddl).toContain('LogAttributes.Key');
    expect(ddl).toContain('TimestampUnixNano UInt64');

    const text = await ch.query(`SELECT toString(TimestampUnixNano) AS ns, toUInt32(TimestampTime) AS sec, TraceId, SpanId, TraceFlags,
      SeverityText, SeverityNumber, ServiceName, Body, ResourceSchemaUrl, ResourceAttributes.Key AS rk, ResourceAttributes.Value AS rv,
      ScopeSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes.Key AS sk, ScopeAttributes.Value AS sv, LogAttributes.Key AS lk,
      LogAttributes.Value AS lv, EventName, RetentionClass, RetentionDays
      FROM otel.otel_logs FORMAT JSONEachRow`);
    const rows = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const row = (c: string) => {
      const r = rows.find((x) => (x['lv'] as string[])[0] === c);
      if (!r) throw new Error(`no row for ${c}`);
      return r;
    };
    expect(row('string-body')).toEqual({
      ns: '1705314600123456789', sec: 1705314600,
      TraceId: '437ab4d83468c540bb0f3398a39faa59', SpanId: '2e26da881214cd7c', TraceFlags: 1,
      SeverityText: 'ERROR', SeverityNumber: 17, ServiceName: 'checkout', Body: 'GET /checkout 500 in 12ms',
      ResourceSchemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      rk: ['service.name', 'service.namespace', 'service.version', 'service.instance.id', 'deployment.environment', 'host.name', 'k8s.pod.name', 'telemetry.sdk.language'],
      rv: ['checkout', 'shop', '1.4.2', 'pod-7', 'prod', 'web-1', 'checkout-7d9f', 'nodejs'],
      ScopeSchemaUrl: '', ScopeName: 'golden-scope', ScopeVersion: '2.0.0', sk: ['scope.attr'], sv: ['s'],
      // the retention processor's tags are attributes too, and drive RetentionClass / RetentionDays
      lk: ['golden.case', 'http.method', 'http.status_code', 'duration_ms', 'cache.hit', 'retention.class', 'retention.days'],
      lv: ['string-body', 'GET', '500', '12.5', 'false', 'error', '90'],
      EventName: '', RetentionClass: 'error', RetentionDays: 90,
    });
    expect(row('no-timestamp')['ns']).toBe('1705314601000000500');
    const nowSec = Math.floor(Date.now() / 1000);
    expect(Math.abs((row('no-timestamps')['sec'] as number) - nowSec)).toBeLessThan(120);
    expect(row('map-body')['Body']).toBe('{"msg":"order placed","order":{"id":1042,"total":99.95},"tags":["a","b"]}');
    expect(row('bytes-body')['Body']).toBe('3q2+7w==');
    expect(row('non-ascii')['Body']).toBe('Grüße, 世界! 🚀 naïve café');
    expect(row('zero-ids')).toMatchObject({ TraceId: '', SpanId: '', TraceFlags: 0 });
    expect(row('event')['EventName']).toBe('checkout.completed');
    expect(row('severity-text-only')).toMatchObject({ SeverityText: 'warning', SeverityNumber: 0, RetentionClass: 'standard', RetentionDays: 7 });
    expect(row('severity-14')).toMatchObject({ SeverityText: 'WARN2', RetentionClass: 'warn', RetentionDays: 30 });
    expect(row('severity-24')).toMatchObject({ ScopeName: 'severity-scope', ScopeVersion: '', sk: [], RetentionClass: 'error', RetentionDays: 90 });
  });

  it('a wrong password is a permanent error that names the code, never the password; no secret in output or /metrics', async () => {
    const out = await waitFor('the clickhouse/bad failure in the log', () => {
      const s = collector.stderr();
      return /clickhouse\/bad/.test(s) && /code 19[23]|code 516/.test(s) ? s : undefined;
    }, 15_000);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain('clickhouse/bad');
    for (const secret of [WRONG_PASSWORD, ch.password]) {
      expect(out).not.toContain(secret);
      expect(metrics).not.toContain(secret);
    }
  });
});
