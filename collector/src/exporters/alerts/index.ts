/**
 * `alerts` exporter (Tributary's own): evaluates alert rules on every batch that reaches it and sends
 * notifications. It has no queue and never back-pressures the pipeline: observing a batch only counts.
 */
import type { ExporterFactory, Host, LogsBatch, LogsSender } from '../../component.js';
import type { CreateSettings } from '../../component.js';
import { errorMessage } from '../../errors.js';
import type { Route } from '../../extensions/api/routes.js';
import { redactRedisUrl } from '../../processors/ratelimit/redis-store.js';
import { alertsConfigSchema, tenantKey, type AlertsConfig, type NotifierType } from './config.js';
import { Dispatcher, type NotifierEntry } from './dispatcher.js';
import { AlertEngine, type Notification } from './engine.js';
import { AlertsDatabase } from './history.js';
import { compileRule, type CompiledRule } from './rule.js';
import { alertsRoutes } from './routes.js';
import { loadRulesFiles, readRulesFiles, rulesFilesChange } from './rules-files.js';
import type { Notifier, NotifierContext } from './notifiers/notifier.js';
import { AlertmanagerNotifier, JiraNotifier, PagerDutyNotifier, SlackNotifier, WebhookNotifier } from './notifiers/http-notifiers.js';
import { EmailNotifier } from './notifiers/email.js';
import { LiveTailNotifier } from './notifiers/live-tail.js';
import type { z } from 'zod';
import type { NOTIFIER_SCHEMAS } from './config.js';

export { alertsConfigSchema, type AlertsConfig } from './config.js';
export { AlertEngine } from './engine.js';

type Schemas = typeof NOTIFIER_SCHEMAS;

export function createNotifier(id: string, type: NotifierType, config: unknown, ctx: NotifierContext): Notifier {
  switch (type) {
    case 'webhook': return new WebhookNotifier(id, ctx, config as z.output<Schemas['webhook']>);
    case 'slack': return new SlackNotifier(id, ctx, config as z.output<Schemas['slack']>);
    case 'email': return new EmailNotifier(id, ctx, config as z.output<Schemas['email']>);
    case 'alertmanager': return new AlertmanagerNotifier(id, ctx, config as z.output<Schemas['alertmanager']>);
    case 'pagerduty': return new PagerDutyNotifier(id, ctx, config as z.output<Schemas['pagerduty']>);
    case 'jira': return new JiraNotifier(id, ctx, config as z.output<Schemas['jira']>);
    case 'live_tail': return new LiveTailNotifier(id);
  }
}

/** A Redis simple/bulk string reply as text (null and other shapes: undefined). */
function replyText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString();
  return undefined;
}

/** The few calls of the Redis client used here. */
interface RedisClient {
  sendCommand(args: string[], options?: { timeout?: number }): Promise<unknown>;
  destroy(): void;
  close(): Promise<unknown>;
  isReady: boolean;
  isOpen: boolean;
}

interface ApiLike { addRoutes(routes: readonly Route[]): void }

/** The engine each api extension's alert routes read; routes are added once per api (reloads swap the engine). */
const mounted = new WeakMap<object, { engine: AlertEngine | undefined }>();

export interface AlertsExporterOptions {
  now?: () => number;
}

export class AlertsExporter implements LogsSender {
  engine: AlertEngine | undefined;
  dispatcher: Dispatcher | undefined;
  private db: AlertsDatabase | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Each rules file's text when last loaded: the scan reloads when the set of files or any text differs. */
  private loadedTexts = new Map<string, string>();
  private mount: { engine: AlertEngine | undefined } | undefined;
  private redis: RedisClient | undefined;
  private readonly onSighup = (): void => void this.reloadRules('SIGHUP');
  private globTimer: NodeJS.Timeout | undefined;
  private readonly id: string;

  constructor(private readonly settings: CreateSettings, readonly config: AlertsConfig, private readonly options: AlertsExporterOptions = {}) {
    this.id = settings.id.id;
  }

  private compile(rules: AlertsConfig['rules']): CompiledRule[] {
    return rules.map((r) => compileRule(r, { cooldownMs: this.config.default_cooldown, textMode: 'words' }));
  }

  async start(host: Host): Promise<void> {
    const c = this.config;
    const now = this.options.now ?? Date.now;
    let rules: CompiledRule[];
    try {
      this.loadedTexts = readRulesFiles(c.rules_files);
      rules = this.compile(loadRulesFiles(c.rules_files, c.rules));
    } catch (err) {
      throw new Error(`exporter ${this.id}: rules_files:\n${errorMessage(err)}`, { cause: err });
    }
    this.db = new AlertsDatabase(c.history.path);
    this.db.prune(now() - c.history.max_age);
    const logger = this.settings.logger;
    const ctx = (nid: string): NotifierContext => ({ id: nid, logger, setExtra: (a, k, v) => this.engine?.setExtra(a, k, v) });
    const entries = new Map<string, NotifierEntry>();
    for (const [nid, n] of Object.entries(c.notifiers)) {
      const cfg = n.config as { timeout: number; retry_on_failure: NotifierEntry['retry'] };
      entries.set(nid, { notifier: createNotifier(nid, n.type, n.config, ctx(nid)), timeoutMs: cfg.timeout, retry: cfg.retry_on_failure });
    }
    const gate = c.coordination === 'auto' && c.redis ? await this.openRedis(c.redis) : undefined;
    const shared = gate !== undefined && c.shared_counts;
    this.dispatcher = new Dispatcher(entries, {
      exporterId: this.id, logger, telemetry: this.settings.telemetry, gate,
      onOutcome: (alert, event, reason) => this.engine?.noteDelivery(alert, event, reason),
    });
    this.engine = new AlertEngine({
      exporterId: this.id, tenantKey: tenantKey(c.tenant_from), defaultTenant: c.default_tenant, maxGroups: c.max_groups, sampleLines: c.sample_lines,
      dashboardUrl: c.dashboard_url, now, db: this.db, sink: this.dispatcher, telemetry: this.settings.telemetry, metrics: host.telemetry,
      sharedCounts: shared,
    });
    this.engine.setRules(rules);
    this.timer = setInterval(() => void this.evaluate(), c.evaluation_interval);
    this.timer.unref();
    const api = host.getExtension(c.api) as Partial<ApiLike> | undefined;
    if (api && typeof api.addRoutes === 'function') {
      let m = mounted.get(api);
      if (!m) {
        const slot: { engine: AlertEngine | undefined } = { engine: undefined };
        api.addRoutes(alertsRoutes(() => slot.engine));
        mounted.set(api, slot);
        m = slot;
      }
      m.engine = this.engine;
      this.mount = m;
    }
    if (c.rules_files.length > 0) {
      process.on('SIGHUP', this.onSighup);
      // A scan rather than fs.watchFile: watchFile takes its baseline asynchronously, so an edit made
      // just after start could become the baseline and never be seen. Rule files are small.
      this.globTimer = setInterval(() => {
        const why = rulesFilesChange(this.loadedTexts, readRulesFiles(c.rules_files));
        if (why) this.reloadRules(why);
      }, 1000);
      this.globTimer.unref();
    }
    logger.info('alerts: rules loaded', { exporter: this.id, rules: rules.length, notifiers: entries.size });
  }

  /** Loads the rule files again; with errors the previous rules keep running. Returns whether it took. */
  reloadRules(why: string): boolean {
    const engine = this.engine;
    if (!engine) return false;
    // Taken before loading, whatever the outcome: a file with errors is reported once, then again when edited.
    this.loadedTexts = readRulesFiles(this.config.rules_files);
    try {
      const rules = this.compile(loadRulesFiles(this.config.rules_files, this.config.rules));
      engine.setRules(rules);
      this.settings.logger.info('alerts: rules reloaded', { exporter: this.id, why, rules: rules.length });
      return true;
    } catch (err) {
      this.settings.logger.error('alerts: rule files refused; the previous rules keep running', { exporter: this.id, why, error: errorMessage(err) });
      return false;
    }
  }

  private syncing = false;
  private lastPrune = Date.now();
  private lastSyncWarn = 0;

  /** One evaluation round: with shared counts, first exchange counts with Redis, then tick. */
  async evaluate(): Promise<void> {
    const engine = this.engine;
    if (!engine) return;
    const redis = this.redis;
    if (redis && !this.syncing && this.config.shared_counts && this.config.coordination === 'auto') {
      this.syncing = true;
      try {
        await this.syncCounts(engine, redis);
      } catch (err) {
        engine.clearShared();
        if (Date.now() - this.lastSyncWarn >= 10_000) {
          this.lastSyncWarn = Date.now();
          this.settings.logger.warn('alerts: shared counts unavailable; counting this instance\'s records only', { exporter: this.id, error: errorMessage(err) });
        }
      } finally {
        this.syncing = false;
      }
    }
    this.engine?.tick();
    // History older than max_age goes, checked hourly (and at start).
    const now = (this.options.now ?? Date.now)();
    if (now - this.lastPrune >= 3_600_000) {
      this.lastPrune = now;
      try {
        this.db?.prune(now - this.config.history.max_age);
      } catch (err) {
        this.settings.logger.warn('alerts: pruning the history failed', { exporter: this.id, error: errorMessage(err) });
      }
    }
  }

  /** Adds this instance's new counts to each group's hash in Redis (field = second) and reads the window's totals. */
  private async syncCounts(engine: AlertEngine, redis: RedisClient): Promise<void> {
    const deltas = engine.takeDeltas();
    if (deltas.length === 0) return;
    const prefix = `${this.config.redis!.key_prefix}alerts:count:`;
    const opts = { timeout: Math.max(this.config.redis!.timeout, 1000) };
    const writes: Promise<unknown>[] = [];
    for (const d of deltas) {
      for (const [sec, n] of d.deltas) writes.push(redis.sendCommand(['HINCRBY', prefix + d.id, String(sec), String(n)], opts));
      writes.push(redis.sendCommand(['PEXPIRE', prefix + d.id, String(d.windowMs + 60_000)], opts));
    }
    await Promise.all(writes);
    const nowSec = Math.floor((this.options.now ?? Date.now)() / 1000);
    const totals = new Map<string, number>();
    await Promise.all(deltas.map(async (d) => {
      const reply = await redis.sendCommand(['HGETALL', prefix + d.id], opts);
      const flat = Array.isArray(reply) ? reply.map((v) => replyText(v) ?? '') : [];
      const oldest = nowSec - Math.ceil(d.windowMs / 1000);
      let sum = 0;
      const stale: string[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        if (Number(flat[i]) > oldest) sum += Number(flat[i + 1]);
        else stale.push(flat[i]!);
      }
      if (stale.length > 0) await redis.sendCommand(['HDEL', prefix + d.id, ...stale], opts);
      totals.set(d.id, sum);
    }));
    engine.setSharedTotals(totals);
  }

  private async openRedis(r: NonNullable<AlertsConfig['redis']>): Promise<(d: Notification['dedup']) => Promise<boolean>> {
    const { createClient } = await import('redis');
    const client = createClient({ url: r.url, disableOfflineQueue: true, socket: { connectTimeout: 2000, reconnectStrategy: (n: number) => Math.min(100 * 2 ** Math.min(n, 5), 2000) } });
    let lastLog = 0;
    client.on('error', (err: unknown) => {
      if (Date.now() - lastLog < 10_000) return;
      lastLog = Date.now();
      this.settings.logger.warn('alerts: redis connection error', { exporter: this.id, url: redactRedisUrl(r.url), error: errorMessage(err) });
    });
    await client.connect().catch((err: unknown) => this.settings.logger.warn('alerts: redis not reachable at start; retrying in the background', { exporter: this.id, url: redactRedisUrl(r.url), error: errorMessage(err) }));
    this.redis = client;
    const prefix = `${r.key_prefix}alerts:sent:`;
    const ttl = String(7 * 86_400_000);
    const opts = { timeout: Math.max(r.timeout, 1000) };
    return async (d) => {
      const key = prefix + d.key;
      // `state`: SET … GET swaps the shared state atomically; the instance that changed it sends.
      if (d.mode === 'state') return replyText(await client.sendCommand(['SET', key, d.value, 'PX', ttl, 'GET'], opts)) !== d.value;
      return replyText(await client.sendCommand(['SET', key, d.value, 'NX', 'PX', ttl], opts)) === 'OK';
    };
  }

  send(batch: LogsBatch): Promise<void> {
    this.engine?.observe(batch.resourceLogs);
    return Promise.resolve();
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.globTimer) clearInterval(this.globTimer);
    this.globTimer = undefined;
    process.off('SIGHUP', this.onSighup);
    if (this.mount && this.mount.engine === this.engine) this.mount.engine = undefined;
    await this.dispatcher?.shutdown(5000);
    const redis = this.redis;
    this.redis = undefined;
    if (redis) {
      try {
        if (redis.isReady) await redis.close();
        else if (redis.isOpen) redis.destroy();
      } catch {
        redis.destroy();
      }
    }
    this.db?.close();
    this.engine = undefined;
  }
}

export const alertsExporterFactory: ExporterFactory<AlertsConfig> = {
  kind: 'exporter',
  type: 'alerts',
  stability: 'alpha',
  configSchema: alertsConfigSchema,
  create(settings, config) {
    return new AlertsExporter(settings, config);
  },
};
