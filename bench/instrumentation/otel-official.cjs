// The official OpenTelemetry path, for comparison (what sdk-node sets up for these instrumentations, built from
// the same packages: sdk-node itself is not a dependency): tracer provider (spans not exported, as in
// Tributary's default), instrumentation-http, instrumentation-pino sending records, batch processor, OTLP
// http/protobuf log exporter.
//   node --require ./bench/instrumentation/otel-official.cjs app.cjs
'use strict';
const { logs } = require('@opentelemetry/api-logs');
const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-proto');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { PinoInstrumentation } = require('@opentelemetry/instrumentation-pino');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BatchLogRecordProcessor, LoggerProvider } = require('@opentelemetry/sdk-logs');
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');

const resource = resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? 'bench' });
const tracerProvider = new NodeTracerProvider({ resource });
tracerProvider.register();
const loggerProvider = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter() })] });
logs.setGlobalLoggerProvider(loggerProvider);
registerInstrumentations({ instrumentations: [new HttpInstrumentation(), new PinoInstrumentation()], tracerProvider, loggerProvider });
process.on('SIGTERM', () => { void loggerProvider.shutdown(); });
