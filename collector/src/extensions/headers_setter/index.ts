/**
 * `headers_setter` extension (upstream headerssetterextension): a client authenticator that sets request
 * headers on outgoing exports, each from a fixed `value` or from the incoming request's metadata
 * (`from_context`, which needs `include_metadata: true` on the receiver), with a `default_value`.
 */
import { z } from 'zod';
import type { ClientAuthenticator, RequestHeaders } from '../../auth.js';
import type { CreateSettings, Extension, ExtensionFactory } from '../../component.js';

const headerSchema = z
  .strictObject({
    key: z.string().min(1),
    value: z.string().optional(),
    /** Metadata key of the incoming request (case-insensitive). */
    from_context: z.string().min(1).optional(),
    default_value: z.string().optional(),
    action: z.enum(['insert', 'update', 'upsert', 'delete']).default('upsert'),
  })
  .superRefine((h, ctx) => {
    if (h.action === 'delete') return;
    if ((h.value === undefined) === (h.from_context === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'exactly one of value or from_context is required' });
    }
  });

export const headersSetterConfigSchema = z.strictObject({
  headers: z.array(headerSchema).min(1, 'needs at least one header'),
});

export type HeadersSetterConfig = z.output<typeof headersSetterConfigSchema>;

export class HeadersSetterExtension implements Extension, ClientAuthenticator {
  private readonly headers: { key: string; value?: string | undefined; from: string | undefined; def: string | undefined; action: string }[];

  constructor(_settings: CreateSettings, config: HeadersSetterConfig) {
    this.headers = config.headers.map((h) => ({ key: h.key.toLowerCase(), value: h.value, from: h.from_context?.toLowerCase(), def: h.default_value, action: h.action }));
  }

  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}

  clientHeaders(metadata?: RequestHeaders): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const h of this.headers) {
      // The exporter's own headers are the base: `delete` and `update` of a header it does not set are no-ops here.
      if (h.action === 'delete' || h.action === 'update') continue;
      let v = h.value;
      if (h.from !== undefined) {
        const m = metadata?.[h.from];
        v = (Array.isArray(m) ? m[0] : m) ?? h.def;
      }
      if (v !== undefined && v !== '') out[h.key] = v;
    }
    return Promise.resolve(out);
  }
}

export const headersSetterExtensionFactory: ExtensionFactory<HeadersSetterConfig> = {
  kind: 'extension',
  type: 'headers_setter',
  configSchema: headersSetterConfigSchema,
  create: (settings, config) => new HeadersSetterExtension(settings, config),
};
