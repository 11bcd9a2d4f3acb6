/** The periodic `received …/s  exported …/s  queued …  dropped …` line of `tributary run`, from telemetry. */
import { Counter, Gauge, MetricNames, type Telemetry } from '../telemetry/metrics.js';

function counterTotal(telemetry: Telemetry, name: string): number {
  const i = telemetry.find(name);
  return i instanceof Counter ? i.total() : 0;
}

function gaugeSum(telemetry: Telemetry, name: string): number {
  const i = telemetry.find(name);
  return i instanceof Gauge ? i.sum() : 0;
}

/** Whole numbers from 10/s up; one decimal below, so a trickle does not read as `0/s`. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '0';
  return perSecond >= 10 ? String(Math.round(perSecond)) : String(Math.round(perSecond * 10) / 10);
}

export interface ProgressSnapshot {
  receivedPerSecond: number;
  exportedPerSecond: number;
  queued: number;
  dropped: number;
}

/** Rates are computed between successive `sample()` calls (the first one from construction). */
export class ProgressMeter {
  private lastAt: number;
  private lastReceived: number;
  private lastExported: number;

  constructor(private readonly telemetry: Telemetry, private readonly now: () => number = () => performance.now()) {
    this.lastAt = now();
    this.lastReceived = counterTotal(telemetry, MetricNames.receiverAccepted);
    this.lastExported = counterTotal(telemetry, MetricNames.exporterSent);
  }

  sample(): ProgressSnapshot {
    const t = this.telemetry;
    const at = this.now();
    const received = counterTotal(t, MetricNames.receiverAccepted);
    const exported = counterTotal(t, MetricNames.exporterSent);
    const seconds = Math.max((at - this.lastAt) / 1000, 1e-3);
    const snap: ProgressSnapshot = {
      receivedPerSecond: (received - this.lastReceived) / seconds,
      exportedPerSecond: (exported - this.lastExported) / seconds,
      queued: gaugeSum(t, MetricNames.exporterQueueRecords),
      dropped:
        counterTotal(t, MetricNames.processorDropped) +
        counterTotal(t, MetricNames.exporterSendFailed) +
        counterTotal(t, MetricNames.exporterEnqueueFailed),
    };
    this.lastAt = at;
    this.lastReceived = received;
    this.lastExported = exported;
    return snap;
  }

  line(): string {
    const s = this.sample();
    return `received ${formatRate(s.receivedPerSecond)}/s  exported ${formatRate(s.exportedPerSecond)}/s  queued ${s.queued}  dropped ${s.dropped}`;
  }
}
