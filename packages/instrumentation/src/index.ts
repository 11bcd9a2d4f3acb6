/** The public API of `@tributary/instrumentation` (the entry points are `register` and `register.mjs`). */
export { createLogger, StructuredLogger, type LevelName, type LogFields, type LoggerOptions, type Timer } from './logger';
export { getCorrelationId, withCorrelationId } from './correlation';
export { start, getRuntime, type TributaryRuntime } from './sdk';
export { loadConfig, LOG_KEY_PRESETS, DEFAULT_REDACT_KEYS, type TributaryConfig, type LogKeys } from './config';
export { Redactor } from './redact';
