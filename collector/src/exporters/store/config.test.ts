import { describe, expect, it } from 'vitest';
import { keyValuesFrom } from '@tributary/otlp';
import { storeConfigSchema, tenantKey, readerOptions } from './config.js';
import { flattenBatch } from './encode.js';

describe('store config', () => {
  it('fills defaults', () => {
    const c = storeConfigSchema.parse({});
    expect(c).toMatchObject({ directory: './data/store', default_tenant: 'default', tokenizer: 'unicode61', synchronous: 'normal', max_open_files: 16, max_size: 0 });
    expect(c.retention).toEqual({ default_days: 7, check_interval: 3_600_000 });
    expect(c.archive).toEqual({ after: 0, compress: 'gzip' });
    expect(readerOptions(c)).toEqual({ directory: './data/store', tokenizer: 'unicode61', maxQueryTimeMs: 10_000, maxRows: 5_000_000, maxRangeMs: 31 * 86_400_000 });
    expect(tenantKey(c)).toBe('project.id');
  });

  it('reads sizes, day durations and the tenant attribute; rejects the rest with the path', () => {
    const c = storeConfigSchema.parse({ max_size: '10GiB', archive: { after: '7d' }, tenant_from: 'resource.attributes.tenant', query: { max_range: '2w', max_query_time: '2s' }, default_tenant: 'misc' });
    expect(c.max_size).toBe(10 * 2 ** 30);
    expect(c.archive.after).toBe(7 * 86_400_000);
    expect(c.query.max_range).toBe(14 * 86_400_000);
    expect(tenantKey(c)).toBe('tenant');
    const rl = [{ resource: { attributes: keyValuesFrom({ tenant: 'acme' }), droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [] }, { resource: null, schemaUrl: '', scopeLogs: [] }];
    expect(flattenBatch(rl, { key: tenantKey(c), fallback: c.default_tenant }, 0).map((t) => t.tenant)).toEqual(['acme', 'misc']);
    const bad = storeConfigSchema.safeParse({ tenant_from: 'attributes["x"]', archive: { after: 'soon' }, tokenizer: 'porter', surprise: 1 });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.') || i.code);
    expect(paths).toEqual(expect.arrayContaining(['tenant_from', 'archive.after', 'tokenizer', 'unrecognized_keys']));
  });
});
