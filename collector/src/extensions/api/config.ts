/** The `api` extension's config schema. */
import { z } from 'zod';
import { byteSize, duration, endpoint } from '../../config/schema-helpers.js';
import { jwtConfigSchema } from '../../auth/jwt.js';

export const apiConfigSchema = z.strictObject({
  endpoint: endpoint('127.0.0.1:3100'),
  /** Id of the store exporter to read; default: the only one in the config. */
  store: z.string().min(1).optional(),
  auth: z.strictObject({ jwt: jwtConfigSchema }).optional(),
  /** Allow listening on a non-loopback address without `auth`. */
  allow_unauthenticated: z.boolean().default(false),
  default_limit: z.number().int().positive().default(100),
  max_limit: z.number().int().positive().default(5000),
  max_body_size: byteSize().prefault('1MiB'),
  request_timeout: duration().prefault('60s'),
});

export type ApiConfig = z.output<typeof apiConfigSchema>;
