/** Component settings and a host for unit tests: a fresh Telemetry per call, a silent logger. */
import { parseComponentId, type CreateSettings, type Extension, type Host } from '../../collector/src/component.js';
import { silentLogger, type Logger } from '../../collector/src/telemetry/logger.js';
import { Telemetry, type Counter, type Gauge, type Histogram, type Labels } from '../../collector/src/telemetry/metrics.js';

export interface TestSettings extends CreateSettings {
  readonly telemetry: Telemetry;
  /** The total of a counter, over series matching `labels`; 0 when not registered. */
  counter(name: string, labels?: Labels): number;
  /** The sum of a gauge, over series matching `labels`; 0 when not registered. */
  gauge(name: string, labels?: Labels): number;
  histogram(name: string): Histogram | undefined;
}

/** Settings for a component with config id `id` (`type` or `type/name`); silent unless given a logger. */
export function testSettings(id: string, telemetry = new Telemetry(), logger: Logger = silentLogger): TestSettings {
  return {
    id: parseComponentId(id),
    logger,
    telemetry,
    counter: (name, labels = {}) => (telemetry.find(name) as Counter | undefined)?.total(labels) ?? 0,
    gauge: (name, labels = {}) => (telemetry.find(name) as Gauge | undefined)?.sum(labels) ?? 0,
    histogram: (name) => telemetry.find(name) as Histogram | undefined,
  };
}

/** A host whose extensions are `extensions` (by id); ready, every status ignored. */
export function testHost(extensions: Record<string, Extension> = {}, telemetry = new Telemetry()): Host {
  return {
    reportStatus: () => undefined,
    componentStatuses: () => new Map(),
    isReady: () => true,
    getExtension: (id) => extensions[id],
    telemetry,
    logger: silentLogger,
  };
}
