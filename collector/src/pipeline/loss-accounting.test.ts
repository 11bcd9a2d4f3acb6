import { describe, expect, it } from 'vitest';
import { Telemetry } from '../telemetry/metrics.js';
import { deliveryBooks, formatDeliverySummary, parseSamples } from './loss-accounting.js';

describe('loss accounting', () => {
  it('parses the rendered metrics, balances each exporter and says so', () => {
    const t = new Telemetry();
    t.counter('tributary_receiver_accepted_log_records_total', '').bind({ receiver: 'otlp', transport: 'http' }).add(100);
    t.counter('tributary_processor_dropped_log_records_total', '').bind({ processor: 'filter', reason: 'filter' }).add(10);
    t.counter('tributary_exporter_enqueued_log_records_total', '').bind({ exporter: 'otlphttp/a' }).add(90);
    t.counter('tributary_exporter_queue_recovered_log_records_total', '').bind({ exporter: 'otlphttp/a' }).add(5);
    t.counter('tributary_exporter_sent_log_records_total', '').bind({ exporter: 'otlphttp/a' }).add(80);
    t.counter('tributary_exporter_dead_lettered_log_records_total', '').bind({ exporter: 'otlphttp/a', reason: 'permanent' }).add(6);
    t.counter('tributary_exporter_send_failed_log_records_total', '').bind({ exporter: 'otlphttp/a', reason: 'queue_full' }).add(4);
    t.gauge('tributary_exporter_queue_log_records', '').track({ exporter: 'otlphttp/a' }, () => 3);
    t.gauge('tributary_exporter_in_flight_log_records', '').track({ exporter: 'otlphttp/a' }, () => 2);
    const books = deliveryBooks(t);
    expect(books.accepted).toBe(100);
    expect(books.processorDropped).toEqual({ filter: 10 });
    expect(books.exporters).toHaveLength(1);
    expect(books.exporters[0]).toMatchObject({ exporter: 'otlphttp/a', sent: 80, deadLettered: 6, dropped: { queue_full: 4 }, queued: 3, inFlight: 2, unaccounted: 0 });
    expect(books.balanced).toBe(true);
    const lines = formatDeliverySummary(books);
    expect(lines[0]).toContain('every exporter balances');
    expect(lines[1]).toBe('exporter otlphttp/a: in 90 + 5 recovered from disk = sent 80 + dead-lettered 6 + dropped queue_full 4 + still queued 3 + in flight 2');

    // One record missing: flagged.
    t.counter('tributary_exporter_enqueued_log_records_total', '').bind({ exporter: 'otlphttp/a' }).add(1);
    const bad = deliveryBooks(t);
    expect(bad.balanced).toBe(false);
    expect(formatDeliverySummary(bad).join('\n')).toMatch(/UNACCOUNTED 1/);
  });

  it('parseSamples reads labels with escapes', () => {
    expect(parseSamples('# HELP x\nx{a="b\\"c",d="e"} 3\ny 4\n')).toEqual([
      { name: 'x', labels: { a: 'b"c', d: 'e' }, value: 3 },
      { name: 'y', labels: {}, value: 4 },
    ]);
  });
});
