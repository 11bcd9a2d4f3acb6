import { describe, expect, it } from 'vitest';
import { parseWorkers } from '../cli/run-cli.js';
import { createDefaultRegistry } from '../builtins.js';
import { loadConfigText } from '../config/load.js';
import { mergePrometheusTexts } from './merge-metrics.js';

describe('mergePrometheusTexts', () => {
  it('sums samples with the same name and labels, keeps HELP/TYPE once', () => {
    const a = '# HELP x_total X.\n# TYPE x_total counter\nx_total{r="a"} 2\nx_total{r="b"} 1\n# HELP h Histogram.\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 0.5\nh_count 1\n';
    const b = '# HELP x_total X.\n# TYPE x_total counter\nx_total{r="a"} 3\n# HELP h Histogram.\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_sum 1\nh_count 2\n';
    const m = mergePrometheusTexts([a, b]);
    expect(m).toContain('x_total{r="a"} 5');
    expect(m).toContain('x_total{r="b"} 1');
    expect(m).toContain('h_bucket{le="1"} 3');
    expect(m).toContain('h_count 3');
    expect(m.match(/# TYPE x_total/g)).toHaveLength(1);
  });
});

describe('workers and coordination config', () => {
  it('--workers / service.workers: numbers and auto', () => {
    expect(parseWorkers(undefined, 8)).toBe(1);
    expect(parseWorkers('auto', 8)).toBe(8);
    expect(parseWorkers('3', 8)).toBe(3);
    expect(parseWorkers(2, 8)).toBe(2);
    expect(parseWorkers('0', 8)).toBeUndefined();
    expect(parseWorkers('two', 8)).toBeUndefined();
  });

  const base = 'receivers: { otlp: {} }\nexporters: { debug: {} }\n';
  const pipe = '  pipelines: { logs: { receivers: [otlp], exporters: [debug] } }\n';
  it('service.workers and service.coordination are validated with their paths', () => {
    const registry = createDefaultRegistry();
    const ok = loadConfigText(`${base}service:\n  workers: auto\n  coordination: { redis: { url: "redis://127.0.0.1:6379" }, nats: { servers: [nats://127.0.0.1:4222] } }\n${pipe}`, registry);
    expect(ok.service.workers).toBe('auto');
    expect(ok.service.coordination.redis?.key_prefix).toBe('tributary:');
    expect(ok.service.coordination.nats?.servers).toEqual(['nats://127.0.0.1:4222']);
    expect(() => loadConfigText(`${base}service:\n  workers: 0\n${pipe}`, registry)).toThrow(/service\.workers/);
    expect(() => loadConfigText(`${base}service:\n  coordination: { redis: { url: "http://x" } }\n${pipe}`, registry)).toThrow(/service\.coordination\.redis\.url: must start with redis/);
    expect(() => loadConfigText(`${base}service:\n  coordination: { etcd: {} }\n${pipe}`, registry)).toThrow(/service\.coordination\.etcd: unknown key/);
  });
});

describe('service.coordination for the ratelimit processor', () => {
  it('store: redis on the default URL takes coordination.redis.url; its own URL wins', async () => {
    const { withCoordination } = await import('../pipeline/service.js');
    const coord = { redis: { url: 'redis://10.0.0.5:6380', key_prefix: 'tributary:', timeout: 250 } };
    expect(withCoordination('ratelimit', { store: 'redis', redis: { url: 'redis://127.0.0.1:6379', key_prefix: 'rl:' } }, coord)).toMatchObject({ redis: { url: 'redis://10.0.0.5:6380', key_prefix: 'rl:' } });
    expect(withCoordination('ratelimit', { store: 'redis', redis: { url: 'redis://own:6379' } }, coord)).toMatchObject({ redis: { url: 'redis://own:6379' } });
    expect(withCoordination('ratelimit', { store: 'memory', redis: { url: 'redis://127.0.0.1:6379' } }, coord)).toMatchObject({ redis: { url: 'redis://127.0.0.1:6379' } });
    expect(withCoordination('filter', { store: 'redis' }, coord)).toEqual({ store: 'redis' });
  });
});

describe('service.coordination for the live tail broadcast', () => {
  it('a broadcast without a URL takes the coordination broker; its own URL wins', async () => {
    const { apiWithCoordination } = await import('../pipeline/service.js');
    const { natsConnectionSchema } = await import('../coordination/nats-connection.js');
    const nats = { ...natsConnectionSchema.parse({ servers: 'nats://10.0.0.7:4222', auth: { token: 't' } }), subject_prefix: 'tributary' };
    const coord = { nats, redis: { url: 'redis://10.0.0.5:6380', key_prefix: 'tributary:', timeout: 250 } };
    expect(apiWithCoordination({ endpoint: 'x', tail: { broadcast: { nats: { subject: 's' } } } }, coord)).toMatchObject({ endpoint: 'x', tail: { broadcast: { nats: { subject: 's' }, natsConnection: { servers: ['nats://10.0.0.7:4222'], auth: { token: 't' } } } } });
    expect(apiWithCoordination({ tail: { broadcast: { nats: { url: 'nats://own:4222', subject: 's' } } } }, coord)).not.toHaveProperty('tail.broadcast.natsConnection');
    expect(apiWithCoordination({ tail: { broadcast: { redis: { channel: 'c' } } } }, coord)).toMatchObject({ tail: { broadcast: { redis: { url: 'redis://10.0.0.5:6380', channel: 'c' } } } });
    expect(apiWithCoordination({ tail: { broadcast: { redis: { url: 'redis://own:1', channel: 'c' } } } }, coord)).toMatchObject({ tail: { broadcast: { redis: { url: 'redis://own:1' } } } });
    expect(apiWithCoordination({ tail: { broadcast: { nats: { subject: 'tributary.tail' } } } }, { nats: { ...nats, subject_prefix: 'acme' } })).toMatchObject({ tail: { broadcast: { nats: { subject: 'acme.tail' } } } });
    expect(apiWithCoordination({ tail: {} }, coord)).toEqual({ tail: {} });
  });
});
