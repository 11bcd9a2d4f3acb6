import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../telemetry/metric-names.js';
import { LATENCY_BUCKETS_SECONDS, Telemetry } from '../../telemetry/metrics.js';
import { historyBody, MetricsHistory, quantile } from './metrics-history.js';

describe('metrics history', () => {
  it('quantiles interpolate within the bucket, like histogram_quantile', () => {
    const bounds = [0.1, 0.5, 1];
    expect(quantile(0.5, bounds, [0, 0, 0, 0])).toBeNull();
    expect(quantile(0.5, bounds, [10, 0, 0, 0])).toBeCloseTo(0.05);
    expect(quantile(0.99, bounds, [0, 10, 0, 0])).toBeCloseTo(0.1 + 0.4 * 0.99);
    expect(quantile(0.99, bounds, [0, 0, 0, 5])).toBe(1); // +Inf bucket: the largest bound
  });

  it('turns counters into per-second rates, per receiver and exporter, with totals equal to the counters', () => {
    const t = new Telemetry();
    let now = 1_000_000;
    const accepted = t.counter(Metrics.receiverAccepted).bind({ receiver: 'otlp', transport: 'http' });
    const sent = t.counter(Metrics.exporterSent).bind({ exporter: 'store' });
    const latency = t.histogram(Metrics.exporterLatency, LATENCY_BUCKETS_SECONDS).bind({ exporter: 'store' });
    let queued = 0;
    t.gauge(Metrics.exporterQueueSize).track({ exporter: 'store' }, () => queued);
    t.gauge(Metrics.exporterQueueCapacity).track({ exporter: 'store' }, () => 100);
    const h = new MetricsHistory({ telemetry: t, now: () => now, statuses: () => new Map([['exporter:store', { status: 'ok' as const, since: 1 }], ['processor:memory_limiter@logs', { status: 'ok' as const, since: 1 }]]) });
    h.sample(); // baseline
    accepted.add(500);
    sent.add(400);
    latency.observe(0.02, 400);
    queued = 25;
    now += 2000;
    const s = h.sample();
    expect(s.in).toBe(250);
    expect(s.out).toBe(200);
    expect(s.receivers).toEqual({ otlp: { in: 250 } });
    expect(s.exporters.store).toMatchObject({ out: 200, queue_fill: 0.25 });
    expect(s.queue_fill).toBe(0.25);
    expect(s.p50).toBeGreaterThan(0.01);
    expect(s.p50).toBeLessThanOrEqual(0.025);
    now += 1000;
    expect(h.sample().p99).toBeNull(); // nothing exported in that second
    const body = historyBody(h, 0, 'fine') as { time: number[]; series: Record<string, unknown[]>; totals: Record<string, number>; current: Record<string, unknown>; components: unknown[] };
    expect(body.time).toHaveLength(3);
    expect(body.series.in).toEqual([0, 250, 0]);
    expect(body.totals).toMatchObject({ received: 500, sent: 400 });
    expect(body.current.memory_limiter).toBe('ok');
    expect(body.current.files_tracked).toBeNull(); // no filelog receiver
    expect(body.components).toContainEqual({ id: 'store', kind: 'exporter', status: 'ok', since: 1 });
    // `since` returns only newer points.
    expect((historyBody(h, body.time[1]!, 'fine') as { time: number[] }).time).toEqual([body.time[2]]);
  });

  it('keeps 15 minutes at 1 s and rolls whole minutes into the per-minute ring', () => {
    const t = new Telemetry();
    const c = t.counter(Metrics.receiverAccepted).bind({ receiver: 'r' });
    let now = 60_000 * 1000;
    const h = new MetricsHistory({ telemetry: t, now: () => now, capacity: 900 });
    h.sample();
    for (let i = 0; i < 1000; i++) {
      c.add(10);
      now += 1000;
      h.sample();
    }
    expect(h.samples().length).toBe(900);
    const minutes = h.samples(0, 'minute');
    expect(minutes.length).toBe(16);
    expect(minutes[1]!.in).toBeCloseTo(10);
    expect(minutes[1]!.t % 60_000).toBe(0);
  });

  it('saves the per-minute ring in the store directory and reads it back at the next start', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-history-'));
    try {
      const file = path.join(dir, 'store', '.metrics-history.json');
      const t = new Telemetry();
      const c = t.counter(Metrics.receiverAccepted).bind({ receiver: 'r' });
      let now = 60_000 * 1000;
      // A step of an hour: the timer never fires during the test; samples are taken by hand.
      const a = new MetricsHistory({ telemetry: t, now: () => now, stepMs: 3_600_000, persistFile: () => file });
      a.start();
      for (let i = 0; i < 180; i++) {
        c.add(5);
        now += 1000;
        a.sample();
      }
      a.stop();
      const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
      expect(saved.minutes).toHaveLength(3);
      const b = new MetricsHistory({ telemetry: new Telemetry(), now: () => now, stepMs: 3_600_000, persistFile: () => file });
      b.start();
      b.stop();
      expect(b.samples(0, 'minute').map((m) => m.t)).toEqual(saved.minutes.map((m: { t: number }) => m.t));
      expect(b.samples(0, 'minute')[1]!.in).toBeCloseTo(5);
      // A damaged file is reported and ignored.
      fs.writeFileSync(file, '{nope');
      const errors: string[] = [];
      const d = new MetricsHistory({ telemetry: new Telemetry(), now: () => now, stepMs: 3_600_000, persistFile: () => file, onError: (m) => errors.push(m) });
      d.start();
      d.stop();
      expect(errors[0]).toMatch(/ignoring/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
