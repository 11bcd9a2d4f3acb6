/** The `fluentforward` receiver factory: Fluentd/Fluent Bit Forward protocol, as upstream's fluentforwardreceiver. */
import os from 'node:os';
import { z } from 'zod';
import type { ReceiverFactory } from '../../component.js';
import { byteSize, endpoint } from '../../config/schema-helpers.js';
import { FluentForwardReceiver } from './receiver.js';

export const fluentforwardConfigSchema = z.strictObject({
  endpoint: endpoint('127.0.0.1:8006'),
  /** Tributary: answer UDP heartbeats on the same port (as Fluentd's in_forward). */
  heartbeat: z.boolean().default(true),
  /** Tributary: most bytes one forward message may take; a declared length beyond it closes the connection. */
  max_message_size: byteSize().prefault('16MiB').refine((n) => n >= 1024, { message: 'must be at least 1KiB' }),
  /** Tributary: Fluentd's `<security>` shared-key handshake (HELO/PING/PONG). Off when absent. */
  security: z
    .strictObject({
      shared_key: z.string().min(1),
      self_hostname: z.string().min(1).default(os.hostname()),
    })
    .optional(),
});
export type FluentForwardConfig = z.output<typeof fluentforwardConfigSchema>;

export const fluentforwardReceiverFactory: ReceiverFactory<FluentForwardConfig> = {
  kind: 'receiver',
  type: 'fluentforward',
  configSchema: fluentforwardConfigSchema,
  create(settings, config, next) {
    return new FluentForwardReceiver(settings, config, next);
  },
};

export { FluentForwardReceiver } from './receiver.js';
