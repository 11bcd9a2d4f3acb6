/** What every notifier implements, and the shared HTTP send (the exporters' pooled client and error classes). */
import type { Logger } from '../../../telemetry/logger.js';
import { errorForAnswer, openHttpClient, SERVER_ERROR_STATUS, type HttpClient } from '../../../config/http-client.js';
import type { Notification, NotificationKind } from '../engine.js';

export interface NotifierContext {
  readonly id: string;
  readonly logger: Logger;
  /** Stores notifier data on the alert's group (persisted with its state), e.g. a ticket key. */
  setExtra(alertId: string, key: string, value: string): void;
}

export interface Notifier {
  readonly id: string;
  /** Which notifications this notifier sends (most: all but `acknowledged`). */
  handles(kind: NotificationKind): boolean;
  /** One attempt. Throws RetryableError/ThrottledError/PermanentError (errors.ts); never retries itself. */
  send(n: Notification, signal: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}

export const notAck = (kind: NotificationKind): boolean => kind !== 'acknowledged';

/** A JSON POST to one URL through the shared pooled client; non-2xx answers become classified errors. */
export class JsonPoster {
  private client: HttpClient | undefined;
  readonly url: URL;

  constructor(private readonly ctx: NotifierContext, url: string, private readonly secrets: readonly string[] = []) {
    this.url = new URL(url);
  }

  async post(body: unknown, signal: AbortSignal, headers: Record<string, string> = {}, path?: string, method: 'POST' | 'PUT' = 'POST'): Promise<Buffer> {
    // Errors name the origin only: webhook paths (Slack's, many others') are secrets.
    const where = `notifier ${this.ctx.id}: ${method} ${this.url.origin}`;
    this.client ??= await openHttpClient({ name: `notifier ${this.ctx.id}`, logger: this.ctx.logger }, this.url, {}, where, { auth: false });
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const p = path ?? `${this.url.pathname}${this.url.search}`;
    const answer = await this.client.request({ method, path: p, headers: { 'content-type': 'application/json', ...headers }, body: text, signal, where });
    const err = errorForAnswer(`notifier ${this.ctx.id}`, answer, SERVER_ERROR_STATUS, this.secrets);
    if (err) throw err;
    return answer.body;
  }

  async close(): Promise<void> {
    await this.client?.close();
  }
}

/** The JSON body of the `webhook` notifier (documented in docs/alerts.md). */
export function webhookBody(n: Notification): Record<string, unknown> {
  return {
    version: '1',
    status: n.alert.state === 'resolved' ? 'resolved' : 'firing',
    event: n.kind,
    alert: n.alert,
    samples: n.samples,
    link: n.link,
  };
}
