/** The `udplog` receiver: log lines in UDP datagrams, as upstream's udplogreceiver. */
import { z } from 'zod';
import type { ReceiverFactory } from '../../component.js';
import { LineReceiver } from '../common/line-receiver.js';
import { udpInputSchema } from '../common/net-config.js';
import { operatorsSchema } from '../common/operators/index.js';

export const udplogConfigSchema = udpInputSchema.extend({
  operators: operatorsSchema,
  attributes: z.record(z.string(), z.string()).default({}),
  resource: z.record(z.string(), z.string()).default({}),
});
export type UdplogConfig = z.output<typeof udplogConfigSchema>;

export const udplogReceiverFactory: ReceiverFactory<UdplogConfig> = {
  kind: 'receiver',
  type: 'udplog',
  configSchema: udplogConfigSchema,
  create(settings, c, next) {
    return new LineReceiver(settings, { udp: c, operators: c.operators, attributes: c.attributes, resource: c.resource }, next);
  },
};
