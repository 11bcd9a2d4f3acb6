/**
 * Process gauges, read at scrape time. Registered at most once per Telemetry: Gauge.track appends a
 * source, so a second metrics extension (or a restart on the same Telemetry) would duplicate series.
 */
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { Telemetry } from '../../telemetry/metrics.js';
import { Metrics } from '../../telemetry/metric-names.js';

export const ProcessMetricNames = {
  cpuSeconds: Metrics.processCpuSeconds.name,
  residentMemory: Metrics.processResidentMemory.name,
  heapUsed: Metrics.processHeapUsed.name,
  startTime: Metrics.processStartTime.name,
  eventLoopLag: Metrics.eventLoopLag.name,
} as const;

const registered = new WeakSet<Telemetry>();

// One event-loop monitor for the process, enabled while at least one metrics extension runs.
let loopMonitor: IntervalHistogram | undefined;
let loopUsers = 0;

function acquireLoopMonitor(): void {
  if (loopUsers++ === 0) {
    loopMonitor = monitorEventLoopDelay({ resolution: 20 });
    loopMonitor.enable();
  }
}

function releaseLoopMonitor(): void {
  if (loopUsers > 0 && --loopUsers === 0) {
    loopMonitor?.disable();
    loopMonitor = undefined;
  }
}

/** Mean event-loop delay since the last read, in seconds (0 before any sample or when no monitor runs). */
function readLoopLag(): number {
  const m = loopMonitor;
  if (!m || m.count === 0) return 0;
  const mean = m.mean / 1e9;
  m.reset();
  return mean;
}

/**
 * Adds the process gauges to `telemetry` (once per Telemetry) and starts the event-loop monitor.
 * Returns a release function that stops the monitor when its last user is gone.
 */
export function registerProcessMetrics(telemetry: Telemetry): () => void {
  acquireLoopMonitor();
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    releaseLoopMonitor();
  };
  if (registered.has(telemetry)) return release;
  registered.add(telemetry);

  // process_cpu_seconds_total is a counter upstream, but Telemetry counters are push-based: exposed as a gauge.
  telemetry.gauge(Metrics.processCpuSeconds).track({}, () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  });
  telemetry
    .gauge(Metrics.processResidentMemory)
    .track({}, () => process.memoryUsage.rss());
  telemetry
    .gauge(Metrics.processHeapUsed)
    .track({}, () => process.memoryUsage().heapUsed);
  const startTime = performance.timeOrigin / 1000;
  telemetry
    .gauge(Metrics.processStartTime)
    .track({}, () => startTime);
  telemetry
    .gauge(Metrics.eventLoopLag)
    .track({}, readLoopLag);
  return release;
}
