// The realistic record corpus the convert benchmarks share (built code's record model shape).
import { performance } from 'node:perf_hooks';
import { nanosFromMillis, idFromHex } from '@tributary/otlp';

export const RECORDS = 100_000;
export const PER_BATCH = 1000;
export const ROUNDS = 5;

/** ~100k realistic records: HTTP access / app logs, 6 attributes, trace ids, 4 services, k8s resource. */
export function makeBatches(now = Date.now()) {
  const batches = [];
  const services = ['checkout', 'payments', 'catalog', 'auth'];
  for (let b = 0; b < RECORDS / PER_BATCH; b++) {
    const service = services[b % services.length];
    const logRecords = [];
    for (let i = 0; i < PER_BATCH; i++) {
      const n = b * PER_BATCH + i;
      const status = n % 50 === 0 ? 500 : 200;
      logRecords.push({
        timeUnixNano: nanosFromMillis(now - (PER_BATCH - i)), observedTimeUnixNano: nanosFromMillis(now),
        severityNumber: status === 500 ? 17 : 9, severityText: status === 500 ? 'ERROR' : 'INFO',
        body: { stringValue: `GET /api/v1/orders/${n} ${status} in ${n % 97}ms user=u-${n % 1000} region=eu-west-1` },
        attributes: [
          { key: 'http.method', value: { stringValue: 'GET' } },
          { key: 'http.route', value: { stringValue: '/api/v1/orders/:id' } },
          { key: 'http.status_code', value: { intValue: status } },
          { key: 'duration_ms', value: { doubleValue: (n % 97) + 0.5 } },
          { key: 'retention.class', value: { stringValue: status === 500 ? 'error' : 'info' } },
          { key: 'retention.days', value: { intValue: status === 500 ? 90 : 7 } },
        ],
        droppedAttributesCount: 0, flags: 1,
        traceId: idFromHex((n.toString(16).padStart(8, '0')).repeat(4), 16), spanId: idFromHex((n.toString(16).padStart(8, '0')).repeat(2), 8), eventName: '',
      });
    }
    batches.push([{
      resource: { attributes: [
        { key: 'service.name', value: { stringValue: service } }, { key: 'service.version', value: { stringValue: '1.4.2' } },
        { key: 'host.name', value: { stringValue: `web-${b % 8}` } }, { key: 'deployment.environment', value: { stringValue: 'prod' } },
        { key: 'k8s.pod.name', value: { stringValue: `${service}-7d9f-${b % 8}` } }, { key: 'k8s.namespace.name', value: { stringValue: 'shop' } },
      ], droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeLogs: [{ scope: { name: 'pino', version: '9.0.0', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords }],
    }]);
  }
  return batches;
}

// Unused, but kept: results in bench/RESULTS.md were measured with this corpus alive in the heap.
const _batches = makeBatches();

/** Runs `pass` (one conversion of the whole corpus) ROUNDS times; records/s median, min and max. */
export function measureRounds(pass, rounds = ROUNDS) {
  const rates = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    pass();
    rates.push(RECORDS / ((performance.now() - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  return { median: Math.round(rates[Math.floor(rounds / 2)]), min: Math.round(rates[0]), max: Math.round(rates[rounds - 1]) };
}
