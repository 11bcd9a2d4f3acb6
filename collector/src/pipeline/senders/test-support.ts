/** Shared set-up for the sender tests (not shipped: excluded from the build like other test support). */
import { parseComponentId, type CreateSettings, type LogsBatch } from '../../component.js';
import { silentLogger } from '../../telemetry/logger.js';
import { Telemetry, type Counter } from '../../telemetry/metrics.js';

export const ID = 'test/s';

export function senderSettings(): { settings: CreateSettings; counter: (name: string, labels?: Record<string, string>) => number } {
  const telemetry = new Telemetry();
  const settings: CreateSettings = { id: parseComponentId(ID), logger: silentLogger, telemetry };
  const counter = (name: string, labels: Record<string, string> = {}): number => (telemetry.find(name) as Counter | undefined)?.total({ exporter: ID, ...labels }) ?? 0;
  return { settings, counter };
}

export const batchOf = (n: number): LogsBatch => ({ resourceLogs: [], recordCount: n, receivedAt: performance.now() });
