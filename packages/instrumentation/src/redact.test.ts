import { describe, expect, it } from 'vitest';
import { DEFAULT_REDACT_KEYS } from './config';
import { Redactor } from './redact';

const r = new Redactor(DEFAULT_REDACT_KEYS, '[REDACTED]');

describe('Redactor', () => {
  it('returns the same object when nothing is sensitive (no copy on the common path)', () => {
    const o = { user: 'a', nested: { n: 1, list: [1, { ok: true }] } };
    expect(r.redact(o)).toBe(o);
  });

  it('masks sensitive keys at any depth, case- and dash-insensitively, without touching the input', () => {
    const o = { user: 'a', Password: 'p', headers: { Authorization: 'Bearer x', 'X-Api-Key': 'k', accept: '*/*' }, list: [{ token: 't' }] };
    const out = r.redact(o);
    expect(out).toEqual({ user: 'a', Password: '[REDACTED]', headers: { Authorization: '[REDACTED]', 'X-Api-Key': '[REDACTED]', accept: '*/*' }, list: [{ token: '[REDACTED]' }] });
    expect(o.Password).toBe('p');
    expect(o.headers.Authorization).toBe('Bearer x');
  });

  it('redactInPlace masks top-level keys of a fresh record and copies nested objects it changes', () => {
    const inner = { secret: 's' };
    const rec: Record<string, unknown> = { api_key: 'k', inner, n: null };
    r.redactInPlace(rec);
    expect(rec).toEqual({ api_key: '[REDACTED]', inner: { secret: '[REDACTED]' }, n: null });
    expect(inner.secret).toBe('s');
  });

  it('leaves errors, dates and buffers alone, and a custom list replaces the default', () => {
    const err = new Error('x');
    expect(r.redact({ err }).err).toBe(err);
    const custom = new Redactor(['pin'], '***');
    expect(custom.redact({ pin: 1234, password: 'kept' })).toEqual({ pin: '***', password: 'kept' });
    expect(new Redactor([], '*').enabled).toBe(false);
  });
});
