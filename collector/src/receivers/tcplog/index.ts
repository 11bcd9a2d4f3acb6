/** The `tcplog` receiver: newline-delimited lines over TCP (optionally TLS), as upstream's tcplogreceiver. */
import { z } from 'zod';
import type { ReceiverFactory } from '../../component.js';
import { LineReceiver } from '../common/line-receiver.js';
import { tcpInputSchema } from '../common/net-config.js';
import { operatorsSchema } from '../common/operators/index.js';

export const tcplogConfigSchema = tcpInputSchema.extend({
  operators: operatorsSchema,
  attributes: z.record(z.string(), z.string()).default({}),
  resource: z.record(z.string(), z.string()).default({}),
});
export type TcplogConfig = z.output<typeof tcplogConfigSchema>;

export const tcplogReceiverFactory: ReceiverFactory<TcplogConfig> = {
  kind: 'receiver',
  type: 'tcplog',
  configSchema: tcplogConfigSchema,
  create(settings, c, next) {
    return new LineReceiver(settings, {
      tcp: { ...c, framing: { kind: 'trailer', trailer: 0x0a, octetCounting: false, maxBytes: c.max_log_size, maxOctets: c.max_log_size } },
      operators: c.operators,
      attributes: c.attributes,
      resource: c.resource,
    }, next);
  },
};
