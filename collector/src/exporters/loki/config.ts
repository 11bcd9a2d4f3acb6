/** Config of the `loki` exporter: upstream lokiexporter keys and defaults, plus Tributary additions (README.md). */
import { z } from 'zod';
import { byteSize, section } from '../../config/schema-helpers.js';
import { clientHeaders, httpClientSettingsShape, httpUrl } from '../../config/http-client.js';
import { exporterHelperShape } from '../../pipeline/exporter-helper-config.js';

export const LINE_FORMATS = ['json', 'logfmt', 'raw'] as const;
export type LineFormat = (typeof LINE_FORMATS)[number];

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const lokiExporterConfigSchema = z
  .strictObject({
    /** Full push URL, e.g. `http://loki:3100/loki/api/v1/push`. */
    endpoint: httpUrl(),
    /** Extra request headers (values may be secrets: never logged). A static `X-Scope-OrgID` goes here. */
    headers: clientHeaders(),
    default_labels_enabled: section({
      exporter: z.boolean().default(true),
      job: z.boolean().default(true),
      instance: z.boolean().default(true),
      level: z.boolean().default(true),
    }),
    /** `protobuf` (snappy-compressed logproto.PushRequest, as upstream) or Loki's `json` push format. */
    encoding: z.enum(['protobuf', 'json']).default('protobuf'),
    /** gzip for the `json` encoding (protobuf bodies are always snappy-compressed). */
    compression: z.enum(['none', 'gzip']).default('none'),
    /** Line format when no `loki.format` hint is present. */
    line_format: z.enum(LINE_FORMATS).default('json'),
    /** Loki's `limits_config.max_line_size` (256KB by default): longer lines are rejected, never sent. 0 = no limit. */
    max_line_size: byteSize().prefault(256 * 1024),
    /** Upper bound of one push body (uncompressed); below Loki's default ingestion burst (6MB). */
    max_request_bytes: byteSize().prefault('4MiB'),
    /** Retention mapping: put the record's `retention.class` into this label (unset = no label). */
    retention: section({
      label: z.string().regex(LABEL_NAME, 'must be a Prometheus label name').optional(),
    }),
    ...httpClientSettingsShape,
    ...exporterHelperShape,
  })
  .superRefine((c, ctx) => {
    if (c.max_request_bytes < 1024) ctx.addIssue({ code: 'custom', path: ['max_request_bytes'], message: 'must be at least 1KiB' });
  });

export type LokiExporterConfig = z.output<typeof lokiExporterConfigSchema>;
