/** Config pieces shared by the network log receivers (tcplog, udplog, syslog), with upstream's keys. */
import { z } from 'zod';
import { byteSize, endpoint } from '../../config/schema-helpers.js';

export const serverTlsSchema = z
  .strictObject({
    cert_file: z.string().min(1),
    key_file: z.string().min(1),
    /** Tributary: CA bundle to require and verify client certificates (mutual TLS). */
    client_ca_file: z.string().optional(),
  });
export type ServerTlsConfig = z.output<typeof serverTlsSchema>;

export const tcpInputSchema = z.strictObject({
  listen_address: endpoint('127.0.0.1:54525'),
  max_log_size: byteSize().prefault('1MiB').refine((n) => n >= 64, { message: 'must be at least 64 bytes' }),
  tls: serverTlsSchema.optional(),
  add_attributes: z.boolean().default(false),
  encoding: z.enum(['utf-8', 'utf8', 'ascii', 'latin1']).default('utf-8'),
});

export const udpInputSchema = z.strictObject({
  listen_address: endpoint('127.0.0.1:54526'),
  add_attributes: z.boolean().default(false),
  /** One entry per datagram (true), or split each datagram on newlines (false, upstream default). */
  one_log_per_packet: z.boolean().default(false),
  encoding: z.enum(['utf-8', 'utf8', 'ascii', 'latin1']).default('utf-8'),
});
