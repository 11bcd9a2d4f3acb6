/** The `nats` receiver: OTLP protobuf messages from a durable JetStream pull consumer. */
import type { ReceiverFactory } from '../../component.js';
import { natsReceiverConfigSchema, type NatsReceiverConfig } from './config.js';
import { NatsReceiver } from './nats-receiver.js';

export { natsReceiverConfigSchema, type NatsReceiverConfig } from './config.js';
export { NatsReceiver } from './nats-receiver.js';

export const natsReceiverFactory: ReceiverFactory<NatsReceiverConfig> = {
  kind: 'receiver',
  type: 'nats',
  configSchema: natsReceiverConfigSchema,
  create: (settings, config, next) => new NatsReceiver(settings, config, next),
};
