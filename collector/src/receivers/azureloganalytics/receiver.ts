/**
 * Polls the Log Analytics query API: `POST {endpoint}/v1/workspaces/{id}/query` with the user's KQL
 * followed by `| where TimeGenerated >= datetime(cursor - overlap) | order by TimeGenerated asc |
 * take max_rows`; rows already delivered (by `_ItemId`, or a hash of the row) are skipped; columns
 * become attributes, the message column the body, TimeGenerated the timestamp, SeverityLevel the
 * severity. Bearer tokens from @azure/identity (the azuremonitor exporter's credential types).
 */
import { createHash } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { nowNanos } from '@tributary/otlp';
import type { CreateSettings, Host, LogsConsumer, Receiver } from '../../component.js';
import { errorMessage, parseRetryAfter } from '../../errors.js';
import { createCredential } from '../../exporters/azuremonitor/azuremonitor-exporter.js';
import type { AzureMonitorExporterConfig } from '../../exporters/azuremonitor/config.js';
import { openCheckpointStore, type CheckpointStore } from '../common/checkpoint-store.js';
import { PullError, PullLoop, SeenWindow, failureOfStatus } from '../common/pull.js';
import { entriesToBatch, newEntry, type Entry } from '../common/records.js';
import { ReceiverSink } from '../common/sink.js';
import type { AzureLogAnalyticsConfig } from './index.js';

const BODY_COLUMNS = ['Message', 'message', 'RenderedDescription', 'SyslogMessage', 'RawData'];
/** Application Insights SeverityLevel 0-4 → OTLP. */
const SEVERITY = [5, 9, 13, 17, 21];

interface Table { name: string; columns: { name: string; type: string }[]; rows: unknown[][] }

export class AzureLogAnalyticsReceiver implements Receiver {
  private readonly sink: ReceiverSink;
  private readonly loop: PullLoop;
  private store: CheckpointStore | undefined;
  private cursor = 0;
  private seen = new SeenWindow();
  private readonly url: string;
  private token: { token: string; expiresOnTimestamp: number } | undefined;

  constructor(private readonly settings: CreateSettings, private readonly config: AzureLogAnalyticsConfig, next: LogsConsumer, private credential?: TokenCredential) {
    this.sink = new ReceiverSink(settings.id, settings.telemetry, next, settings.logger, 'pull');
    this.loop = new PullLoop(settings, this.sink, config.poll_interval, () => this.pollOnce());
    this.url = `${config.endpoint.replace(/\/$/, '')}/v1/workspaces/${encodeURIComponent(config.workspace_id)}/query`;
  }

  async start(host: Host): Promise<void> {
    this.store = openCheckpointStore(host, this.config.storage, this.settings.id.id);
    const doc = this.store.load() as { ts?: number; seen?: unknown } | undefined;
    this.cursor = doc?.ts ?? (this.config.start_from ? Date.parse(this.config.start_from) : Date.now());
    this.seen = SeenWindow.from(doc?.seen);
    this.credential ??= await createCredential({ auth: { ...this.config.auth, scope: this.scope } } as AzureMonitorExporterConfig);
    this.loop.start();
    this.settings.logger.info('azureloganalytics receiver polling', { workspace_id: this.config.workspace_id });
  }

  private get scope(): string {
    // The exporter's default scope is the ingestion API's; the query API has its own.
    return this.config.auth.scope === 'https://monitor.azure.com//.default' ? 'https://api.loganalytics.io/.default' : this.config.auth.scope;
  }

  private async bearer(): Promise<string> {
    if (this.token && this.token.expiresOnTimestamp - 60_000 > Date.now()) return this.token.token;
    let t;
    try {
      t = await this.credential!.getToken(this.scope);
    } catch (e) {
      throw new PullError(`getting a token failed: ${errorMessage(e)}`, 'auth');
    }
    if (!t) throw new PullError('the credential returned no token', 'auth');
    this.token = t;
    return t.token;
  }

  private async pollOnce(): Promise<void> {
    // The first query of a poll re-reads the overlap window; a full answer continues from its last row.
    let fromMs = Math.max(0, this.cursor - this.config.overlap);
    for (let round = 0; round < 1000 && !this.sink.isStopped; round++) {
      const from = new Date(fromMs).toISOString();
      const query = `${this.config.query}\n| where TimeGenerated >= datetime(${from})\n| order by TimeGenerated asc\n| take ${this.config.max_rows}`;
      let res: Response;
      try {
        res = await fetch(this.url, {
          method: 'POST',
          headers: { authorization: `Bearer ${await this.bearer()}`, 'content-type': 'application/json', prefer: 'wait=60' },
          body: JSON.stringify({ query, timespan: `${from}/${new Date().toISOString()}` }),
          signal: AbortSignal.timeout(120_000),
        });
      } catch (e) {
        if (e instanceof PullError) throw e;
        throw new PullError(`query failed: ${errorMessage(e)}`, 'network');
      }
      const text = await res.text();
      if (!res.ok) {
        // An expired or revoked token: drop it so the next poll asks the credential again.
        if (res.status === 401) this.token = undefined;
        throw new PullError(`query answered ${res.status}: ${text.slice(0, 300)}`, failureOfStatus(res.status), parseRetryAfter(res.headers.get('retry-after')));
      }
      const out = JSON.parse(text) as { tables?: Table[]; error?: { code?: string; message?: string } };
      if (out.error) this.settings.logger.warn('azureloganalytics: partial result', { code: out.error.code, error: out.error.message?.slice(0, 200) });
      const table = out.tables?.[0];
      if (!table) return;
      const cols = table.columns.map((c) => c.name);
      const timeIdx = cols.indexOf('TimeGenerated');
      if (timeIdx < 0) throw new PullError('the query result has no TimeGenerated column (keep it in `project`)', 'client');
      const bodyIdx = this.config.body_column !== undefined ? cols.indexOf(this.config.body_column) : cols.findIndex((c) => BODY_COLUMNS.includes(c));
      const itemIdx = cols.indexOf('_ItemId');
      const sevIdx = cols.indexOf('SeverityLevel');
      const fresh: { e: Entry; id: string; ms: number }[] = [];
      let last = this.cursor;
      for (const row of table.rows) {
        const ms = Date.parse(String(row[timeIdx]));
        if (ms > last) last = ms;
        const id = itemIdx >= 0 ? String(row[itemIdx]) : createHash('sha1').update(JSON.stringify(row)).digest('base64');
        if (this.seen.has(id)) continue;
        const e = newEntry(bodyIdx >= 0 ? row[bodyIdx] : undefined);
        if (!Number.isNaN(ms)) e.timestamp = BigInt(ms) * 1_000_000n + BigInt(/\.\d{3}(\d{1,6})/.exec(String(row[timeIdx]))?.[1]?.padEnd(6, '0') ?? '0');
        for (let i = 0; i < cols.length; i++) {
          if (i === bodyIdx || i === timeIdx || row[i] === null || row[i] === '') continue;
          e.attributes[cols[i]!] = row[i];
        }
        if (sevIdx >= 0 && typeof row[sevIdx] === 'number') e.severity = SEVERITY[row[sevIdx]] ?? 0;
        e.attributes['azure.table'] = table.name;
        e.resource['azure.workspace.id'] = this.config.workspace_id;
        fresh.push({ e, id, ms });
      }
      if (fresh.length > 0) {
        const r = await this.sink.deliver(entriesToBatch(fresh.map((f) => f.e), nowNanos()));
        if (r === 'stopped') return;
        for (const f of fresh) this.seen.add(f.id, f.ms);
      }
      const full = table.rows.length >= this.config.max_rows;
      this.cursor = Math.max(this.cursor, last);
      this.seen.prune(this.cursor - this.config.overlap);
      this.save();
      if (!full) return;
      // Rows sharing the last timestamp are re-read (and skipped as seen); a page of one timestamp moves on by 1 ms.
      fromMs = last > fromMs ? last : fromMs + 1;
    }
  }

  private save(): void {
    try {
      this.store?.save({ version: 1, ts: this.cursor, seen: this.seen.toJSON() });
    } catch (e) {
      this.settings.logger.warn('azureloganalytics: cannot save the cursor', { error: errorMessage(e) });
    }
  }

  async shutdown(): Promise<void> {
    await this.loop.stop();
  }
}
