/** The `store` exporter's config schema (kept apart from the factory so readers can import it cheaply). */
import { z } from 'zod';
import { byteSize, duration, section } from '../../config/schema-helpers.js';
import { exporterHelperShape } from '../../pipeline/exporter-helper-config.js';
import { parseRelative } from '../../query/time.js';

/** A duration that also takes days and weeks (`7d`, `2w`), in ms. */
export const longDuration = () =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const ms = typeof v === 'number' ? v : v.trim() === '0' ? 0 : parseRelative(v.trim());
    if (ms !== undefined && ms >= 0 && Number.isFinite(ms)) return ms;
    ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(v)} (use e.g. 12h, 7d, 2w)` });
    return z.NEVER;
  });

const TENANT_FROM = /^(?:resource\.attributes\[\s*"([^"]+)"\s*\]|resource\.attributes\.(.+))$/;

export const storeConfigSchema = z.strictObject({
  directory: z.string().min(1).default('./data/store'),
  /** The resource attribute naming the tenant (project). */
  tenant_from: z.string().default('resource.attributes["project.id"]').refine((v) => TENANT_FROM.test(v), { message: 'must be resource.attributes["<key>"]' }),
  default_tenant: z.string().min(1).default('default'),
  /** `unicode61`: words (default); `trigram`: substring search, larger index. */
  tokenizer: z.enum(['unicode61', 'trigram']).default('unicode61'),
  /** SQLite `synchronous`: `normal` survives a process crash; `full` also a power cut, slower. */
  synchronous: z.enum(['normal', 'full']).default('normal'),
  max_open_files: z.number().int().min(1).max(1024).default(16),
  retention: section({
    /** Days for records without a `retention.days` attribute; -1 = forever. */
    default_days: z.number().int().min(-1).default(7),
    check_interval: duration().prefault('1h'),
  }),
  /** Hard cap per tenant (bytes, or `10GiB`); 0 = none. The oldest day goes first. */
  max_size: byteSize().prefault(0),
  archive: section({
    /** Gzip day files older than this (`7d`); 0 = never. */
    after: longDuration().prefault(0),
    compress: z.literal('gzip').default('gzip'),
  }),
  /** Limits on reads of this store (the api extension and `tributary query`). */
  query: section({
    max_query_time: duration().prefault('10s'),
    max_rows: z.number().int().positive().default(5_000_000),
    max_range: longDuration().prefault('31d'),
  }),
  ...exporterHelperShape,
});

export type StoreConfig = z.output<typeof storeConfigSchema>;

/** The resource attribute key named by `tenant_from`. */
export function tenantKey(config: StoreConfig): string {
  const m = TENANT_FROM.exec(config.tenant_from);
  return m?.[1] ?? m?.[2] ?? 'project.id';
}

/** Reader options of a store config (for the api extension and the CLI). */
export function readerOptions(config: StoreConfig) {
  return {
    directory: config.directory,
    tokenizer: config.tokenizer,
    maxQueryTimeMs: config.query.max_query_time,
    maxRows: config.query.max_rows,
    maxRangeMs: config.query.max_range,
  };
}
