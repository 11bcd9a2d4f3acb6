/** Config of the `filelog` receiver: upstream otelcol-contrib filelogreceiver keys, plus a few marked Tributary. */
import { z } from 'zod';
import { byteSize, duration } from '../../config/schema-helpers.js';
import { operatorsSchema } from '../common/operators/index.js';

export const ENCODINGS = ['utf-8', 'utf8', 'utf-8-raw', 'nop', 'ascii', 'latin1', 'iso-8859-1', 'utf-16le', 'utf-16be'] as const;

const multilineSchema = z
  .strictObject({
    line_start_pattern: z.string().min(1).optional(),
    line_end_pattern: z.string().min(1).optional(),
    omit_pattern: z.boolean().default(false),
  })
  .refine((m) => (m.line_start_pattern === undefined) !== (m.line_end_pattern === undefined), {
    message: 'set exactly one of line_start_pattern and line_end_pattern',
  });

const validRegex = (s: string): boolean => {
  try {
    new RegExp(s.replace(/\(\?P</g, '(?<').replace(/^\(\?[imsU]+\)/, ''));
    return true;
  } catch {
    return false;
  }
};

export const filelogConfigSchema = z
  .strictObject({
    include: z.array(z.string().min(1)).min(1, 'needs at least one glob'),
    exclude: z.array(z.string().min(1)).default([]),
    start_at: z.enum(['beginning', 'end']).default('end'),
    include_file_name: z.boolean().default(true),
    include_file_path: z.boolean().default(false),
    include_file_name_resolved: z.boolean().default(false),
    include_file_path_resolved: z.boolean().default(false),
    poll_interval: duration().prefault('200ms'),
    fingerprint_size: byteSize().prefault('1kb').refine((n) => n >= 16, { message: 'must be at least 16 bytes' }),
    max_log_size: byteSize().prefault('1MiB').refine((n) => n >= 64, { message: 'must be at least 64 bytes' }),
    /** Tributary: what happens to an entry longer than max_log_size: `split` into pieces, or `truncate` (rest skipped). */
    max_log_size_behavior: z.enum(['split', 'truncate']).default('split'),
    max_concurrent_files: z.number().int().min(2).default(1024),
    encoding: z.enum(ENCODINGS).default('utf-8'),
    multiline: multilineSchema.optional(),
    force_flush_period: duration().prefault('500ms'),
    preserve_leading_whitespaces: z.boolean().default(false),
    preserve_trailing_whitespaces: z.boolean().default(false),
    storage: z.string().min(1).optional(),
    delete_after_read: z.boolean().default(false),
    compression: z.enum(['', 'gzip', 'auto']).default(''),
    attributes: z.record(z.string(), z.string()).default({}),
    resource: z.record(z.string(), z.string()).default({}),
    operators: operatorsSchema,
    /** Tributary: bytes read from one file before the next file gets its turn (fair pacing). */
    read_chunk_size: byteSize().prefault('256KiB').refine((n) => n >= 1024, { message: 'must be at least 1KiB' }),
    /** Tributary: most records handed to the pipeline in one batch. */
    max_batch_size: z.number().int().min(1).default(2000),
  })
  .superRefine((c, ctx) => {
    if (c.delete_after_read && c.start_at !== 'beginning') ctx.addIssue({ code: 'custom', path: ['delete_after_read'], message: 'requires start_at: beginning' });
    for (const k of ['line_start_pattern', 'line_end_pattern'] as const) {
      const p = c.multiline?.[k];
      if (p !== undefined && !validRegex(p)) ctx.addIssue({ code: 'custom', path: ['multiline', k], message: 'invalid regular expression' });
    }
  });

export type FilelogConfig = z.output<typeof filelogConfigSchema>;
