/**
 * `tributary alerts list|ack|silence` against the api's alert routes:
 * `alerts list [--history] [--output text|json]`, `alerts ack <id> [--comment …]`,
 * `alerts silence <label=value>… --duration 2h [--comment …]` (and `--expire <id>`).
 */
export interface AlertsCliOptions {
  url: string;
  token?: string | undefined;
  tenant?: string | undefined;
  output: 'text' | 'json';
}

export class AlertsCliError extends Error {
  override name = 'AlertsCliError';
}

interface AlertView { id: string; rule: string; state: string; severity: string; tenant: string; group: Record<string, string>; value: number; fired_at: string | null; since: string; acknowledged: { by: string } | null; silenced_by: string | null; annotations: Record<string, string> }
interface HistoryView { at: string; alert_id: string; rule: string; event: string; actor: string; reason: string; tenant: string }

async function call(o: AlertsCliOptions, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.tenant) headers['x-scope-orgid'] = o.tenant;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(new URL(path, o.url), { method, headers, body: body !== undefined ? JSON.stringify(body) : undefined, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new AlertsCliError(`cannot reach ${o.url}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: the status says enough
  }
  if (!res.ok) throw new AlertsCliError(`${method} ${path}: ${res.status} ${typeof json['error'] === 'string' ? json['error'] : text.slice(0, 200)}`);
  return json;
}

const groupText = (g: Record<string, string>): string => Object.entries(g).map(([k, v]) => `${k}=${v}`).join(',');

export async function runAlerts(verb: string, args: readonly string[], flags: { history?: boolean; comment?: string; duration?: string; expire?: string }, o: AlertsCliOptions, write: (line: string) => void): Promise<number> {
  switch (verb) {
    case 'list': {
      if (flags.history) {
        const r = await call(o, 'GET', '/api/v1/alerts/history?limit=200');
        const entries = (r['entries'] ?? []) as HistoryView[];
        if (o.output === 'json') for (const e of entries) write(JSON.stringify(e));
        else for (const e of [...entries].reverse()) write(`${e.at}  ${e.event.padEnd(13)} ${e.rule}  ${e.alert_id}  by ${e.actor}: ${e.reason}`);
        return 0;
      }
      const r = await call(o, 'GET', '/api/v1/alerts');
      const alerts = (r['alerts'] ?? []) as AlertView[];
      if (o.output === 'json') {
        for (const a of alerts) write(JSON.stringify(a));
        return 0;
      }
      if (alerts.length === 0) write('no pending or firing alerts');
      for (const a of alerts) {
        const flagsText = [a.acknowledged ? `acked by ${a.acknowledged.by}` : '', a.silenced_by ? `silenced by ${a.silenced_by}` : ''].filter(Boolean).join(', ');
        write(`${a.id}  ${a.state.padEnd(7)} ${a.severity.padEnd(8)} ${a.rule}${Object.keys(a.group).length ? ` {${groupText(a.group)}}` : ''}  value=${a.value}  since ${a.fired_at ?? a.since}${flagsText ? `  (${flagsText})` : ''}`);
      }
      return 0;
    }
    case 'ack': {
      const id = args[0];
      if (!id || args.length > 1) throw new AlertsCliError('usage: tributary alerts ack <alert id> [--comment "…"]');
      const r = await call(o, 'POST', `/api/v1/alerts/${encodeURIComponent(id)}/ack`, { comment: flags.comment ?? '' });
      const a = r['alert'] as AlertView;
      write(o.output === 'json' ? JSON.stringify(a) : `acknowledged ${a.id} (${a.rule})`);
      return 0;
    }
    case 'silence': {
      if (flags.expire !== undefined) {
        await call(o, 'DELETE', `/api/v1/silences/${encodeURIComponent(flags.expire)}`);
        write(`silence ${flags.expire} expired`);
        return 0;
      }
      if (args.length === 0 || !flags.duration) throw new AlertsCliError('usage: tributary alerts silence <label=value|label=~regex>… --duration 2h [--comment "…"]');
      const matchers = args.map((m) => {
        const re = /^([^=~]+)(=~|=)(.*)$/.exec(m);
        if (!re) throw new AlertsCliError(`matcher "${m}": expected label=value or label=~regex`);
        return { name: re[1]!, value: re[3]!, is_regex: re[2] === '=~' };
      });
      const body: Record<string, unknown> = { matchers, duration: flags.duration, comment: flags.comment ?? '' };
      if (o.tenant) body['tenant'] = o.tenant;
      const r = await call(o, 'POST', '/api/v1/silences', body);
      const s = r['silence'] as { id: string; ends_at: string };
      write(o.output === 'json' ? JSON.stringify(s) : `silence ${s.id} until ${s.ends_at}`);
      return 0;
    }
    default:
      throw new AlertsCliError(`unknown verb "${verb}" (list, ack, silence)`);
  }
}
