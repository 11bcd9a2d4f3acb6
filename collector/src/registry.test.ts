import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ExporterFactory } from './component.js';
import { ConfigError, loadConfigText } from './config/load.js';
import { ComponentRegistry } from './registry.js';
import type { ExporterHelperConfig } from './pipeline/exporter-helper-config.js';

/** A plugin-style exporter whose schema knows nothing of the helper keys. */
const bare: ExporterFactory<{ path: string }> = {
  kind: 'exporter',
  type: 'bare',
  configSchema: z.strictObject({ path: z.string() }),
  create: () => ({ send: () => Promise.resolve() }),
};

const yaml = (exporter: string): string => `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters: { bare: ${exporter} }
service: { pipelines: { logs: { receivers: [otlp], exporters: [bare] } } }
`;

describe('registry: exporter helper keys', () => {
  const registry = (): ComponentRegistry => {
    const r = new ComponentRegistry();
    // A receiver is needed for a valid pipeline.
    r.register({ kind: 'receiver', type: 'otlp', configSchema: z.unknown(), create: () => ({ start: () => Promise.resolve(), shutdown: () => Promise.resolve() }) });
    return r.register(bare, 'plugin');
  };

  it('an exporter whose schema omits timeout/sending_queue/retry_on_failure gets them, with defaults', () => {
    const cfg = loadConfigText(yaml('{ path: /tmp/x, timeout: 2s, sending_queue: { queue_size: 7 } }'), registry());
    const c = cfg.exporters['bare'] as { path: string } & ExporterHelperConfig;
    expect(c.path).toBe('/tmp/x');
    expect(c.timeout).toBe(2000);
    expect(c.sending_queue).toMatchObject({ enabled: true, queue_size: 7, num_consumers: 10 });
    expect(c.retry_on_failure).toMatchObject({ enabled: true, initial_interval: 5000 });
  });

  it('helper-key and own-key errors are config errors with their paths, never a TypeError', () => {
    let err: unknown;
    try {
      loadConfigText(yaml('{ timeout: soon, sending_queue: { queue_sise: 1 } }'), registry());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const text = (err as Error).message;
    expect(text).toContain('exporters.bare.timeout: ');
    expect(text).toContain('exporters.bare.sending_queue.queue_sise: unknown key');
    expect(text).toContain('exporters.bare.path: required');
  });

  it('a built-in schema that declares the keys is used as is', () => {
    const r = registry();
    const f = r.get('exporter', 'bare')!;
    expect(f.type).toBe('bare');
    expect(typeof (f as ExporterFactory).create).toBe('function');
  });
});

describe('registry: lazily loaded types', () => {
  const factory: ExporterFactory<{ n: number }> = {
    kind: 'exporter', type: 'later', configSchema: z.strictObject({ n: z.number().default(1) }), create: () => { throw new Error('unused'); },
  };

  it('is listed and validated by name before loading, imported once by load(), then used like any other', async () => {
    let imports = 0;
    const reg = new ComponentRegistry().registerLazy('exporter', 'later', () => { imports++; return Promise.resolve(factory); });
    expect(reg.typesOf('exporter')).toEqual(['later']);
    expect(reg.has('exporter', 'later')).toBe(true);
    expect(() => reg.get('exporter', 'later')).toThrow(/not loaded yet/);
    expect(() => reg.register(factory)).toThrow(/already registered/);
    const [a, b] = await Promise.all([reg.load('exporter', 'later'), reg.load('exporter', 'later')]);
    expect(a?.type).toBe('later');
    expect(b?.type).toBe('later');
    await reg.loadAll();
    expect(imports).toBeLessThanOrEqual(2);
    expect(reg.get('exporter', 'later')?.configSchema.parse({})).toMatchObject({ n: 1, timeout: expect.anything() });
    expect(await reg.load('exporter', 'absent')).toBeUndefined();
  });

  it('refuses a module whose factory is another type', async () => {
    const reg = new ComponentRegistry().registerLazy('exporter', 'other', () => Promise.resolve(factory));
    await expect(reg.load('exporter', 'other')).rejects.toThrow(/gave the factory exporter:later/);
  });

  it('the built CLI imports only the modules of the types a config names', async () => {
    const { createDefaultRegistry, loadUsedBy } = await import('./builtins.js');
    // Under the tests every built-in is preloaded, so check loadUsedBy on a fresh lazy registry.
    const reg = new ComponentRegistry().registerLazy('exporter', 'later', () => Promise.resolve(factory))
      .registerLazy('extension', 'metrics', () => Promise.resolve({ ...factory, kind: 'extension', type: 'metrics' } as never))
      .registerLazy('exporter', 'unused', () => Promise.reject(new Error('must not be imported')));
    await loadUsedBy(reg, { exporters: { 'later/a': {}, nosuch: {} }, receivers: null });
    expect(reg.get('exporter', 'later')?.type).toBe('later');
    expect(() => reg.get('exporter', 'unused')).toThrow(/not loaded yet/);
    expect(createDefaultRegistry().get('exporter', 'otlp_http')?.type).toBe('otlphttp');
  });
});
