/**
 * The collector's public API: what plugins and embedders build against. Built-in components use the
 * same contract (component.ts), so a plugin factory is shaped exactly like a built-in one.
 */
export type {
  AnyFactory, Component, ComponentId, ComponentKind, ComponentStatus, CreateSettings, ExporterFactory,
  Extension, ExtensionFactory, Host, LogsBatch, LogsConsumer, LogsSender, Processor, ProcessorFactory, Receiver,
  ReceiverFactory, StabilityLevel,
} from './component.js';
export { parseComponentId, STABILITY_LEVELS, stabilityOf } from './component.js';
export {
  isClientAuthenticator, isServerAuthenticator, UnauthenticatedError, type ClientAuthenticator, type RequestHeaders, type ServerAuthenticator,
} from './auth.js';
export {
  classifyError, parseRetryAfter, PartialSendError, PermanentError, RetryableError, ThrottledError, type ConsumerErrorKind,
} from './errors.js';
export { BUILT_IN, ComponentRegistry, type FactoryLoader } from './registry.js';
export { createDefaultRegistry, loadDefaultRegistry, loadUsedBy, preloadBuiltins } from './builtins.js';
export { ConfigError, loadConfigFile, loadConfigText, validateConfig, type CollectorConfig } from './config/load.js';
export { loadPlugins } from './config/plugins.js';
export { byteSize, duration, endpoint, section, type ConfigIssue } from './config/schema-helpers.js';
export { exporterHelperShape, type ExporterHelperConfig } from './pipeline/exporter-helper-config.js';
export { Service, type ServiceOptions } from './pipeline/service.js';
export { createLogger, RateLimitedLog, type Logger } from './telemetry/logger.js';
export { Metrics, METRIC_LIST, type MetricDef } from './telemetry/metric-names.js';
export { MetricNames, Telemetry } from './telemetry/metrics.js';
export { VERSION } from './version.js';
/** The zod instance the config schemas use, so plugins need not depend on their own copy. */
export { z } from 'zod';
/** The search query language (record matcher + store plan) and LogQL. */
export { compileQuery, compileMatcher, parseQuery, parseLogQL, QueryParseError, LogQLParseError, type CompiledQuery, type QueryNode, type RecordMatcher } from './query/index.js';
/** JWT verification shared by authenticated surfaces. */
export { createJwtVerifier, bearerToken, AuthError, jwtConfigSchema, type JwtConfig, type JwtVerifier, type Principal } from './auth/jwt.js';
/** The api extension, for components that add routes (`host.getExtension(id)`). */
export { ApiExtension, HttpError, type Route, type RouteContext, type RouteResult, type UpgradeRoute } from './extensions/api/index.js';
export { StoreReader, type TenantAccess, type StoredRecord } from './exporters/store/index.js';
