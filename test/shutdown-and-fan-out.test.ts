/** Process-level lifecycle tests: SIGTERM drains queued records; one failing exporter does not hold back another. */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startCollector, waitFor, type RunningCollector } from './support/collector-process.js';
import { numberedRequestJson, postOtlpJson, receivedNumbers, startRecordingServer, type RecordingServer } from './support/recording-server.js';

let collector: RunningCollector | undefined;
let servers: RecordingServer[] = [];

afterEach(async () => {
  await collector?.stop('SIGKILL');
  if (collector) fs.rmSync(collector.dir, { recursive: true, force: true });
  collector = undefined;
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

const post = async (port: number, body: string): Promise<number> => (await postOtlpJson(port, body)).status;

describe('collector lifecycle', () => {
  it('SIGTERM delivers records queued behind a slow exporter before exiting 0', async () => {
    const slow = await startRecordingServer(() => ({ status: 200, delayMs: 150, headers: { 'content-type': 'application/json' }, body: '{}' }));
    servers.push(slow);
    const [httpPort, healthPort] = [await freePort(), await freePort()];
    collector = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${httpPort} } } } }
exporters:
  otlphttp:
    endpoint: ${slow.url}
    encoding: json
    compression: none
    sending_queue: { num_consumers: 1, queue_size: 100 }
extensions: { health_check: { endpoint: 127.0.0.1:${healthPort} } }
service:
  extensions: [health_check]
  shutdown_timeout: 30s
  pipelines: { logs: { receivers: [otlp], exporters: [otlphttp] } }
`, { healthPort });
    // 20 requests of 10 records: all acknowledged (queued) long before the slow destination has them.
    for (let i = 0; i < 20; i++) expect(await post(httpPort, numberedRequestJson(i * 10, i * 10 + 10))).toBe(200);
    expect(receivedNumbers(slow).length).toBeLessThan(200);
    const code = await collector.stop('SIGTERM');
    expect(code).toBe(0);
    expect(receivedNumbers(slow).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('a failing exporter (503) does not delay or lose records for the other exporter', async () => {
    const failing = await startRecordingServer(() => ({ status: 503, headers: { 'retry-after': '1' } }));
    servers.push(failing);
    const [httpPort, healthPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
    collector = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${httpPort} } } } }
processors: { batch: { timeout: 20ms } }
exporters:
  otlphttp/down: { endpoint: ${failing.url}, encoding: json, retry_on_failure: { initial_interval: 100ms, max_interval: 1s } }
  file: { path: ./out.jsonl }
extensions: { health_check: { endpoint: 127.0.0.1:${healthPort} }, metrics: { endpoint: 127.0.0.1:${metricsPort} } }
service:
  extensions: [health_check, metrics]
  shutdown_timeout: 1s
  pipelines: { logs: { receivers: [otlp], processors: [batch], exporters: [otlphttp/down, file] } }
`, { healthPort });
    const started = Date.now();
    for (let i = 0; i < 10; i++) expect(await post(httpPort, numberedRequestJson(i * 100, i * 100 + 100))).toBe(200);
    const file = path.join(collector.dir, 'out.jsonl');
    const numbers = await waitFor('1000 records in the file', () => {
      if (!fs.existsSync(file)) return undefined;
      const ns: number[] = [];
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        if (!line) continue;
        for (const rl of JSON.parse(line).resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) {
          ns.push(Number(r.attributes.find((a: { key: string }) => a.key === 'n').value.intValue));
        }
      }
      return ns.length >= 1000 ? ns : undefined;
    }, 10_000);
    // Well under the failing exporter's retry schedule: the file exporter was not held back.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(numbers.sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/tributary_exporter_retries_total\{exporter="otlphttp\/down"\} [1-9]/);
    expect(metrics).toMatch(/tributary_exporter_sent_log_records_total\{exporter="file"\} 1000/);
  });
});
