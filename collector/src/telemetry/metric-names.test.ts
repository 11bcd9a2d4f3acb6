import { describe, expect, it } from 'vitest';
import { METRIC_LIST, MetricNames, Metrics } from './metric-names.js';
import { Telemetry } from './metrics.js';

describe('metric names', () => {
  it('are unique, valid Prometheus names, each with a help text', () => {
    const names = METRIC_LIST.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const m of METRIC_LIST) {
      expect(m.name).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
      expect(m.help.length).toBeGreaterThan(10);
      if (m.type === 'counter') expect(m.name).toMatch(/_total$/);
    }
  });

  it('MetricNames are the names of the list', () => {
    for (const [key, name] of Object.entries(MetricNames)) expect(Metrics[key as keyof typeof Metrics].name).toBe(name);
  });

  it('instruments registered from the list render its help text', () => {
    const t = new Telemetry();
    t.counter(Metrics.exporterSent).bind({ exporter: 'x' }).add(2);
    expect(t.render()).toContain(`# HELP ${Metrics.exporterSent.name} ${Metrics.exporterSent.help}`);
    expect(t.render()).toContain(`${Metrics.exporterSent.name}{exporter="x"} 2`);
  });
});
