/** The `otlp` receiver factory: OTLP logs over gRPC (4317) and HTTP (4318), like upstream otlpreceiver. */
import type { ReceiverFactory } from '../../component.js';
import { otlpReceiverConfigSchema, type OtlpReceiverConfig } from './config.js';
import { OtlpReceiver } from './receiver.js';

export const otlpReceiverFactory: ReceiverFactory<OtlpReceiverConfig> = {
  kind: 'receiver',
  type: 'otlp',
  stability: 'stable',
  configSchema: otlpReceiverConfigSchema,
  create(settings, config, next) {
    return new OtlpReceiver(settings, config, next);
  },
};

export { OtlpReceiver, SHUTDOWN_GRACE_MS } from './receiver.js';
export { otlpReceiverConfigSchema } from './config.js';
export type { OtlpReceiverConfig, GrpcProtocolConfig, HttpProtocolConfig } from './config.js';
export type { BoundAddress } from './listen.js';
export { REFUSED_REQUESTS_METRIC } from './ingest.js';
