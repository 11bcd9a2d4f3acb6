/** The record shape of `/api/v1/query` and the tail frames, and how the page shows one. */
export interface LogRecord {
  tenant: string;
  id: string;
  time: string;
  timestamp: string;
  severity_number: number;
  severity_text: string;
  level: string;
  body: unknown;
  service: string | null;
  resource: Record<string, unknown>;
  scope: { name: string; version: string };
  attributes: Record<string, unknown>;
  trace_id: string | null;
  span_id: string | null;
  correlation_id: string | null;
  retention_class: string | null;
  retention_days: number | null;
  event_name: string | null;
  [k: string]: unknown;
}

export const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'unspecified'] as const;

/** Level names as shown: text, never colour alone. */
export const LEVEL_LABEL: Readonly<Record<string, string>> = {
  fatal: 'FATAL', error: 'ERROR', warn: 'WARN', info: 'INFO', debug: 'DEBUG', trace: 'TRACE', unspecified: '—',
};

export function bodyText(b: unknown): string {
  if (typeof b === 'string') return b;
  if (b === null || b === undefined) return '';
  return JSON.stringify(b);
}

/** Adds `field:value` to a query, replacing a term on the same field. */
export function withFilter(query: string, field: string, value: string): string {
  const v = /^[A-Za-z0-9_.\-/]+$/.test(value) && !value.includes('//') ? value : JSON.stringify(value);
  const esc = field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const rest = query.replace(new RegExp(`(^|\\s)${esc}:("(?:[^"\\\\]|\\\\.)*"|\\S+)`, 'g'), ' ').replace(/\s+/g, ' ').trim();
  return rest ? `${rest} ${field}:${v}` : `${field}:${v}`;
}
