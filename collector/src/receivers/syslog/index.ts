/** The `syslog` receiver: RFC 5424 / RFC 3164 over TCP (LF/NUL trailer or octet counting, TLS) and UDP, as upstream's syslogreceiver. */
import { z } from 'zod';
import type { ReceiverFactory } from '../../component.js';
import { byteSize } from '../../config/schema-helpers.js';
import { LineReceiver } from '../common/line-receiver.js';
import { tcpInputSchema, udpInputSchema } from '../common/net-config.js';
import { operatorsSchema } from '../common/operators/index.js';
import { validateZone } from '../common/operators/time-layout.js';
import { parseRfc3164, parseRfc5424 } from './parse.js';

export const syslogConfigSchema = z
  .strictObject({
    protocol: z.enum(['rfc5424', 'rfc3164']),
    location: z.string().default('UTC'),
    enable_octet_counting: z.boolean().default(false),
    non_transparent_framing_trailer: z.enum(['LF', 'NUL']).optional(),
    max_octets: byteSize().prefault(8192).refine((n) => n >= 64, { message: 'must be at least 64' }),
    allow_skip_pri_header: z.boolean().default(false),
    tcp: tcpInputSchema.optional(),
    udp: udpInputSchema.optional(),
    operators: operatorsSchema,
    attributes: z.record(z.string(), z.string()).default({}),
    resource: z.record(z.string(), z.string()).default({}),
  })
  .superRefine((c, ctx) => {
    if (!c.tcp && !c.udp) ctx.addIssue({ code: 'custom', message: 'set tcp or udp (or both)' });
    if (c.udp && (c.enable_octet_counting || c.non_transparent_framing_trailer)) {
      if (!c.tcp) ctx.addIssue({ code: 'custom', path: ['enable_octet_counting'], message: 'framing options apply to tcp only' });
    }
    if (c.enable_octet_counting && c.protocol !== 'rfc5424') ctx.addIssue({ code: 'custom', path: ['enable_octet_counting'], message: 'octet counting requires protocol: rfc5424 (as upstream)' });
    try {
      validateZone(c.location);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['location'], message: (e as Error).message });
    }
  });

export type SyslogConfig = z.output<typeof syslogConfigSchema>;

export const syslogReceiverFactory: ReceiverFactory<SyslogConfig> = {
  kind: 'receiver',
  type: 'syslog',
  configSchema: syslogConfigSchema,
  create(settings, c, next) {
    const parse = c.protocol === 'rfc5424'
      ? (m: string, e: Parameters<typeof parseRfc5424>[1]) => parseRfc5424(m, e, c.allow_skip_pri_header)
      : (m: string, e: Parameters<typeof parseRfc5424>[1]) => parseRfc3164(m, e, c.location, c.allow_skip_pri_header);
    return new LineReceiver(settings, {
      tcp: c.tcp && {
        ...c.tcp,
        framing: {
          kind: 'trailer',
          trailer: c.non_transparent_framing_trailer === 'NUL' ? 0x00 : 0x0a,
          octetCounting: c.enable_octet_counting,
          maxBytes: Math.max(c.max_octets, c.tcp.max_log_size),
          maxOctets: c.max_octets,
        },
      },
      udp: c.udp && { ...c.udp, one_log_per_packet: true },
      operators: c.operators,
      attributes: c.attributes,
      resource: c.resource,
      parse,
      format: c.protocol,
    }, next);
  },
};
