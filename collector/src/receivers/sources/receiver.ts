/**
 * Run-time sources: CRUD + test/start/stop on the api extension's routes (JWT auth, tenant confinement
 * by the token's tenants), definitions persisted atomically, credentials sealed with AES-256-GCM (the
 * source id as associated data) and merged into the receiver config only in memory, when it starts.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ResourceLogs } from '@tributary/otlp';
import { parseComponentId, type CreateSettings, type Host, type LogsBatch, type LogsConsumer, type Receiver, type ReceiverFactory } from '../../component.js';
import { issuesFromZod } from '../../config/schema-helpers.js';
import { errorMessage } from '../../errors.js';
import { HttpError, type Route, type RouteContext, type RouteResult } from '../../extensions/api/routes.js';
import { kv } from '../common/records.js';
import type { SourcesConfig } from './index.js';

interface Sealed { iv: string; tag: string; data: string }

interface SourceDef {
  id: string;
  tenant: string;
  name: string;
  type: string;
  config: Record<string, unknown>;
  credentials?: Sealed | undefined;
  /** Names of the credential keys (returned instead of their values). */
  credential_keys: string[];
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

interface Running { receiver: Receiver; state: 'running' | 'error'; error?: string | undefined }

interface ApiLike { addRoutes(routes: readonly Route[]): void }

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge: credentials fill secrets into the config without exposing them in it. */
function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isObj(v) && isObj(out[k]) ? merge(out[k], v) : v;
  return out;
}

function keyPaths(o: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (isObj(v)) out.push(...keyPaths(v, `${prefix}${k}.`));
    else out.push(`${prefix}${k}`);
  }
  return out;
}

export function loadSecretKey(file: string | undefined): Buffer | undefined {
  const text = file !== undefined ? fs.readFileSync(file, 'utf8').trim() : process.env['TRIBUTARY_SECRET_KEY']?.trim();
  if (!text) return undefined;
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error(`the sources secret key must be 32 bytes (base64 or 64 hex digits)${file ? ` in ${file}` : ' in TRIBUTARY_SECRET_KEY'}`);
  return key;
}

export function seal(key: Buffer, id: string, plain: unknown): Sealed {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(id));
  const data = Buffer.concat([c.update(JSON.stringify(plain), 'utf8'), c.final()]);
  return { iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') };
}

export function unseal(key: Buffer, id: string, s: Sealed): Record<string, unknown> {
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(s.iv, 'base64'));
  d.setAAD(Buffer.from(id));
  d.setAuthTag(Buffer.from(s.tag, 'base64'));
  const plain = Buffer.concat([d.update(Buffer.from(s.data, 'base64')), d.final()]).toString('utf8');
  return JSON.parse(plain) as Record<string, unknown>;
}

/** Adds the tenant resource attribute to every batch of one source. */
class TenantConsumer implements LogsConsumer {
  constructor(private readonly next: LogsConsumer, private readonly key: string, private readonly tenant: string) {}
  consume(batch: LogsBatch): Promise<void> {
    const rls: ResourceLogs[] = batch.resourceLogs;
    for (const rl of rls) {
      rl.resource ??= { attributes: [], droppedAttributesCount: 0 };
      const attrs = rl.resource.attributes.filter((a) => a.key !== this.key);
      attrs.push(kv(this.key, this.tenant));
      rl.resource.attributes = attrs;
    }
    return this.next.consume(batch);
  }
}

export class SourcesReceiver implements Receiver {
  private defs = new Map<string, SourceDef>();
  private readonly running = new Map<string, Running>();
  private key: Buffer | undefined;
  private host: Host | undefined;
  private factories = new Map<string, ReceiverFactory>();
  private readonly file: string;

  constructor(private readonly settings: CreateSettings, private readonly config: SourcesConfig, private readonly next: LogsConsumer) {
    this.file = path.resolve(config.file);
  }

  async start(host: Host): Promise<void> {
    this.host = host;
    const api = host.getExtension(this.config.api) as Partial<ApiLike> | undefined;
    if (!api || typeof api.addRoutes !== 'function') throw new Error(`receivers.${this.settings.id.id}.api: "${this.config.api}" is not an api extension in service.extensions`);
    this.key = loadSecretKey(this.config.secret_key_file);
    const { createDefaultRegistry } = await import('../../builtins.js');
    const registry = createDefaultRegistry();
    for (const t of this.config.allowed_types) {
      const f = registry.has('receiver', t) ? (await registry.load('receiver', t)) as ReceiverFactory | undefined : undefined;
      if (!f || t === 'sources') throw new Error(`receivers.${this.settings.id.id}.allowed_types: "${t}" is not a receiver type`);
      this.factories.set(t, f);
    }
    this.load();
    api.addRoutes(this.routes());
    for (const d of this.defs.values()) if (d.enabled) await this.startSource(d);
    this.settings.logger.info('sources receiver ready', { sources: this.defs.size, file: this.file, credentials_key: this.key ? 'set' : 'absent' });
  }

  private load(): void {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(`receivers.${this.settings.id.id}: cannot read ${this.file}: ${errorMessage(e)}`);
    }
    const doc = JSON.parse(text) as { version?: number; sources?: SourceDef[] };
    if (doc.version !== 1 || !Array.isArray(doc.sources)) throw new Error(`receivers.${this.settings.id.id}: ${this.file} has an unknown format`);
    for (const d of doc.sources) this.defs.set(d.id, d);
  }

  private save(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ version: 1, sources: [...this.defs.values()] }, null, 1), { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }

  /** Tenants the caller may act for; one of them when the body names none. */
  private tenantFor(ctx: RouteContext, requested: unknown): string {
    const access = ctx.access;
    if (requested !== undefined && typeof requested !== 'string') throw new HttpError(400, 'tenant must be a string');
    if ('all' in access) {
      const t = requested ?? ctx.tenants?.[0];
      if (!t) throw new HttpError(400, 'tenant is required (no tenant in the token)');
      return t;
    }
    const allowed = ctx.tenants ?? access.tenants;
    if (requested !== undefined) {
      if (!allowed.includes(requested)) throw new HttpError(403, `tenant "${requested}" is not allowed for this token`);
      return requested;
    }
    if (allowed.length !== 1) throw new HttpError(400, 'tenant is required (the token allows several)');
    return allowed[0]!;
  }

  private visible(ctx: RouteContext, d: SourceDef): boolean {
    if ('all' in ctx.access) return ctx.tenants === undefined || ctx.tenants.includes(d.tenant);
    return (ctx.tenants ?? ctx.access.tenants).includes(d.tenant);
  }

  private get(ctx: RouteContext): SourceDef {
    const d = this.defs.get(ctx.params['id'] ?? '');
    // Another tenant's source is answered as missing: its existence is not disclosed.
    if (!d || !this.visible(ctx, d)) throw new HttpError(404, 'no such source');
    return d;
  }

  private view(d: SourceDef): Record<string, unknown> {
    const r = this.running.get(d.id);
    return {
      id: d.id, tenant: d.tenant, name: d.name, type: d.type, config: d.config, credentials: d.credential_keys, enabled: d.enabled,
      state: r ? r.state : 'stopped', ...(r?.error ? { error: r.error } : {}), created_at: d.created_at, updated_at: d.updated_at,
    };
  }

  /** Checks type, config and credentials; returns the config the receiver gets (with credentials). */
  private validate(type: unknown, config: unknown, credentials: unknown): { factory: ReceiverFactory; full: unknown } {
    if (typeof type !== 'string' || !this.factories.has(type)) throw new HttpError(400, `type must be one of ${this.config.allowed_types.join(', ')}`);
    if (config !== undefined && !isObj(config)) throw new HttpError(400, 'config must be an object');
    if (credentials !== undefined && !isObj(credentials)) throw new HttpError(400, 'credentials must be an object');
    if (credentials !== undefined && Object.keys(credentials).length > 0 && !this.key) throw new HttpError(400, 'credentials need a secret key on the collector (TRIBUTARY_SECRET_KEY or secret_key_file)');
    const factory = this.factories.get(type)!;
    const merged = merge(config ?? {}, credentials ?? {});
    const r = factory.configSchema.safeParse(merged);
    if (!r.success) {
      // Issue paths name the key, never the value: credentials cannot leak through the error.
      const issues = issuesFromZod(r.error, ['config']);
      throw new HttpError(400, issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    }
    return { factory, full: r.data };
  }

  private fullConfig(d: SourceDef): { factory: ReceiverFactory; full: unknown } {
    const creds = d.credentials && this.key ? unseal(this.key, d.id, d.credentials) : undefined;
    if (d.credentials && !this.key) throw new Error('the source has credentials but no secret key is configured');
    return this.validate(d.type, d.config, creds);
  }

  private async startSource(d: SourceDef): Promise<Running> {
    await this.stopSource(d.id);
    let run: Running;
    try {
      const { factory, full } = this.fullConfig(d);
      const id = parseComponentId(`${d.type}/source-${d.id}`);
      const logger = this.settings.logger.child({ source: d.id, tenant: d.tenant });
      const receiver = factory.create({ id, logger, telemetry: this.settings.telemetry }, full, new TenantConsumer(this.next, this.config.tenant_attribute, d.tenant));
      await receiver.start(this.host!);
      run = { receiver, state: 'running' };
      logger.info('source started', { type: d.type });
    } catch (e) {
      run = { receiver: { start: async () => undefined, shutdown: async () => undefined }, state: 'error', error: errorMessage(e).slice(0, 500) };
      this.settings.logger.warn('source failed to start', { source: d.id, tenant: d.tenant, error: run.error });
    }
    this.running.set(d.id, run);
    return run;
  }

  private async stopSource(id: string): Promise<void> {
    const r = this.running.get(id);
    if (!r) return;
    this.running.delete(id);
    await r.receiver.shutdown().catch((e: unknown) => this.settings.logger.warn('source shutdown failed', { source: id, error: errorMessage(e) }));
  }

  private routes(): Route[] {
    const base = '/api/v1/sources';
    const body = (ctx: RouteContext): Record<string, unknown> => {
      if (!isObj(ctx.body)) throw new HttpError(400, 'expected a JSON object body');
      return ctx.body;
    };
    return [
      { method: 'GET', path: base, handle: (ctx): RouteResult => ({ body: { sources: [...this.defs.values()].filter((d) => this.visible(ctx, d)).map((d) => this.view(d)) } }) },
      {
        method: 'POST', path: base,
        handle: async (ctx): Promise<RouteResult> => {
          const b = body(ctx);
          const tenant = this.tenantFor(ctx, b['tenant']);
          if ([...this.defs.values()].filter((d) => d.tenant === tenant).length >= this.config.max_sources_per_tenant) throw new HttpError(409, 'too many sources for this tenant');
          if (typeof b['name'] !== 'string' || b['name'] === '') throw new HttpError(400, 'name is required');
          this.validate(b['type'], b['config'], b['credentials']);
          const id = randomUUID();
          const now = new Date().toISOString();
          const creds = isObj(b['credentials']) && Object.keys(b['credentials']).length > 0 ? b['credentials'] : undefined;
          const d: SourceDef = {
            id, tenant, name: b['name'], type: b['type'] as string, config: (b['config'] as Record<string, unknown> | undefined) ?? {},
            credentials: creds && this.key ? seal(this.key, id, creds) : undefined, credential_keys: creds ? keyPaths(creds) : [],
            enabled: b['enabled'] !== false, created_at: now, updated_at: now,
          };
          this.defs.set(id, d);
          this.save();
          if (d.enabled) await this.startSource(d);
          return { status: 201, body: this.view(d) };
        },
      },
      { method: 'GET', path: `${base}/:id`, handle: (ctx): RouteResult => ({ body: this.view(this.get(ctx)) }) },
      {
        method: 'PUT', path: `${base}/:id`,
        handle: async (ctx): Promise<RouteResult> => {
          const d = this.get(ctx);
          const b = body(ctx);
          const creds = b['credentials'] === undefined ? (d.credentials && this.key ? unseal(this.key, d.id, d.credentials) : undefined) : b['credentials'];
          const type = b['type'] ?? d.type;
          const config = (b['config'] as Record<string, unknown> | undefined) ?? d.config;
          this.validate(type, config, creds);
          const next: SourceDef = {
            ...d, type: type as string, config, name: typeof b['name'] === 'string' && b['name'] ? b['name'] : d.name, enabled: typeof b['enabled'] === 'boolean' ? b['enabled'] : d.enabled,
            updated_at: new Date().toISOString(),
          };
          if (b['credentials'] !== undefined) {
            const c = isObj(b['credentials']) && Object.keys(b['credentials']).length > 0 ? b['credentials'] : undefined;
            next.credentials = c && this.key ? seal(this.key, d.id, c) : undefined;
            next.credential_keys = c ? keyPaths(c) : [];
          }
          this.defs.set(d.id, next);
          this.save();
          if (next.enabled) await this.startSource(next);
          else await this.stopSource(d.id);
          return { body: this.view(next) };
        },
      },
      {
        method: 'DELETE', path: `${base}/:id`,
        handle: async (ctx): Promise<RouteResult | undefined> => {
          const d = this.get(ctx);
          await this.stopSource(d.id);
          this.defs.delete(d.id);
          this.save();
          ctx.res.writeHead(204, { 'Cache-Control': 'no-store' });
          ctx.res.end();
          return undefined;
        },
      },
      {
        method: 'POST', path: `${base}/:id/test`,
        handle: async (ctx): Promise<RouteResult> => {
          const d = this.get(ctx);
          // A running source is its own proof (and a listener could not be probed beside itself).
          if (this.running.get(d.id)?.state === 'running') return { body: { ok: true, state: 'running' } };
          try {
            const { factory, full } = this.fullConfig(d);
            const probe = factory.create({ id: parseComponentId(`${d.type}/test-${d.id}`), logger: this.settings.logger.child({ source: d.id, test: true }), telemetry: this.settings.telemetry }, full, { consume: async () => undefined });
            await probe.start(this.host!);
            await probe.shutdown();
            return { body: { ok: true } };
          } catch (e) {
            return { body: { ok: false, error: errorMessage(e).slice(0, 500) } };
          }
        },
      },
      {
        method: 'POST', path: `${base}/:id/start`,
        handle: async (ctx): Promise<RouteResult> => {
          const d = this.get(ctx);
          d.enabled = true;
          d.updated_at = new Date().toISOString();
          this.save();
          await this.startSource(d);
          return { body: this.view(d) };
        },
      },
      {
        method: 'POST', path: `${base}/:id/stop`,
        handle: async (ctx): Promise<RouteResult> => {
          const d = this.get(ctx);
          d.enabled = false;
          d.updated_at = new Date().toISOString();
          this.save();
          await this.stopSource(d.id);
          return { body: this.view(d) };
        },
      },
    ];
  }

  async shutdown(): Promise<void> {
    for (const id of [...this.running.keys()]) await this.stopSource(id);
  }
}
