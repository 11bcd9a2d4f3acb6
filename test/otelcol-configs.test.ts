/**
 * The otelcol config corpus (test/fixtures/otelcol-configs, written for these tests): configs in the shape
 * platform teams run upstream, each of which `tributary validate` must accept.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDefaultRegistry } from '../collector/src/builtins.js';
import { runCli, EXIT_OK, type CliDeps } from '../collector/src/cli/run-cli.js';
import { ConfigError, loadConfigFile, loadConfigText, type CollectorConfig } from '../collector/src/config/load.js';
import { repoRoot } from './support/collector-process.js';

const dir = path.join(repoRoot, 'test/fixtures/otelcol-configs');
const ENV: NodeJS.ProcessEnv = {
  REGION: 'eu', API_KEY: 'k', SECONDARY_TOKEN: 't', BACKEND_URL: 'https://backend.example.com', TENANT: 'acme',
  INGEST_TOKEN: 'secret', BACKEND_TOKEN: 'b', BASIC_USER: 'u', BASIC_PASSWORD: 'p', UPSTREAM_PASSWORD: 'x',
  LOKI_TENANT: 'acme', ES_API_KEY: 'es', SPLUNK_HEC_TOKEN: '00000000-0000-0000-0000-000000000000', CLICKHOUSE_PASSWORD: 'pw',
  DD_API_KEY: 'dd', AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c', AZURE_CLIENT_SECRET: 's',
};
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml') && !f.endsWith('-overlay.yaml')).sort();

function load(...names: string[]): CollectorConfig {
  const uris = names.map((n) => path.join(dir, n));
  return loadConfigFile(uris[0]!, createDefaultRegistry(), ENV, { uris });
}

describe('otelcol config corpus', () => {
  it('has at least 25 configs', () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
  });

  it.each(files)('%s validates, with every referenced variable set', (file) => {
    const cfg = load(file);
    expect(cfg.missingEnv).toEqual([]);
    expect(Object.keys(cfg.service.pipelines).length).toBeGreaterThan(0);
  });

  it('what the corpus configures arrives where it should', () => {
    expect(load('04-env-var-forms.yaml').exporters['otlphttp']).toMatchObject({
      endpoint: 'https://backend.example.com',
      headers: { 'x-tenant': 'acme', 'x-literal': '${NOT_SUBSTITUTED}', 'x-price': '$5' },
    });
    expect((load('04-env-var-forms.yaml').receivers['otlp'] as { protocols: { http: { endpoint: string } } }).protocols.http.endpoint).toBe('127.0.0.1:4318');
    expect(load('17-clickhouse-native-dsn.yaml').exporters['clickhouse']).toMatchObject({ endpoint: 'http://clickhouse.internal:8123' });
    expect(load('16-awscloudwatchlogs.yaml').exporters['awscloudwatchlogs']).toMatchObject({ endpoint: 'https://logs.us-east-1.amazonaws.com', role_arn: 'arn:aws:iam::123456789012:role/otel-writer' });
    expect(load('22-enum-letter-case.yaml').exporters['otlphttp']).toMatchObject({ encoding: 'json', compression: 'gzip' });
    expect(load('22-enum-letter-case.yaml').service.telemetry.logs.level).toBe('debug');
    const tel = load('08-service-telemetry.yaml').service;
    expect(tel.extensions).toContain('metrics/service_telemetry');
    expect(tel.telemetry.fields).toMatchObject({ 'service.name': 'edge-collector', 'deployment.environment': 'dev', cluster: 'eu-1' });
    expect(load('24-health-and-metrics.yaml').extensions['metrics/service_telemetry']).toEqual({ endpoint: '0.0.0.0:8888', path: '/metrics', read_header_timeout: 60_000, read_timeout: 60_000, idle_timeout: 60_000 });
  });

  it('two --config files merge as upstream: maps merge, lists are replaced', () => {
    const cfg = load('26-base.yaml', '26-overlay.yaml');
    expect(cfg.processors['batch']).toMatchObject({ timeout: 2000, send_batch_size: 4096 });
    expect(cfg.service.pipelines['logs']).toEqual({ receivers: ['otlp'], processors: ['batch'], exporters: ['otlp_http/prod'] });
  });

  it('azuremonitor in traces or metrics pipelines (upstream exports all three signals) is refused, naming the component and the signal', () => {
    // Upstream's Application Insights shape: one exporter shared by every pipeline.
    const text = `
receivers: { otlp: { protocols: { http: {} } } }
exporters:
  azuremonitor: { connection_string: "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/" }
service:
  pipelines:
    logs: { receivers: [otlp], exporters: [azuremonitor] }
    traces: { receivers: [otlp], exporters: [azuremonitor] }
    metrics: { receivers: [otlp], exporters: [azuremonitor] }
`;
    let issues: string[] = [];
    try {
      loadConfigText(text, createDefaultRegistry(), { env: ENV });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      issues = (e as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
    }
    expect(issues).toEqual([
      'service.pipelines.traces.exporters[0]: exporter "azuremonitor" cannot be in a traces pipeline: Tributary forwards traces as they are, through the otlp, otlphttp, file, debug exporters only',
      'service.pipelines.metrics.exporters[0]: exporter "azuremonitor" cannot be in a metrics pipeline: Tributary forwards metrics as they are, through the otlp, otlphttp, file, debug exporters only',
    ]);
    // The logs pipeline alone is accepted.
    expect(() => loadConfigText(text.replace(/ {4}traces:.*\n {4}metrics:.*\n/, ''), createDefaultRegistry(), { env: ENV })).not.toThrow();
  });

  it('tributary validate accepts them (several --config and --set on one command line)', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const deps: CliDeps<CollectorConfig> = {
      stdout: { write: (s: string) => out.push(s) },
      stderr: { write: (s: string) => err.push(s) },
      loadConfig: loadConfigFile,
      createService: () => { throw new Error('unused'); },
      onSignal: () => () => undefined,
      exit: () => undefined,
      env: ENV,
    };
    const code = await runCli(['validate', '--config', path.join(dir, '26-base.yaml'), '--config', `file:${path.join(dir, '26-overlay.yaml')}`, '--set', 'processors.batch.timeout=3s'], deps);
    expect(err.join('')).toBe('');
    expect(code).toBe(EXIT_OK);
    expect(out.join('')).toContain('is valid');
  });
});
