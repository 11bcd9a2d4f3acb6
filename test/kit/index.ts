/** The test kit: settings and host, a recording consumer, test and frozen batches, a recording HTTP server. */
export { testHost, testSettings, type TestSettings } from './settings.js';
export { countRecords, deferred, RecordingConsumer, type ConsumedBatch, type Deferred } from './recording-consumer.js';
export { frozenBatch, testBatch } from './frozen-batch.js';
export * from './recording-server.js';
