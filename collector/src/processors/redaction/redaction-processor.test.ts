import Long from 'long';
import { describe, expect, it } from 'vitest';
import { RecordingConsumer, testSettings } from '../../../../test/kit/index.js';
import { anyValueFrom, keyValuesToRaw, type KeyValue, type LogRecord } from '@tributary/otlp';
import { type LogsBatch } from '../../component.js';
import { MetricNames, Telemetry } from '../../telemetry/metrics.js';
import { redactionConfigSchema } from './config.js';
import { BuiltinValueProbe, builtinPatterns, findCardNumber, luhnValid, maskString } from './patterns.js';
import { MASKED_VALUES_METRIC, REMOVED_KEYS_METRIC, RedactionProcessor } from './redaction-processor.js';

function rec(body: unknown, attrs: Record<string, unknown> = {}): LogRecord {
  return {
    timeUnixNano: Long.UZERO, observedTimeUnixNano: Long.UZERO, severityNumber: 9, severityText: '',
    body: anyValueFrom(body), attributes: Object.entries(attrs).map(([key, v]): KeyValue => ({ key, value: anyValueFrom(v) })),
    droppedAttributesCount: 0, flags: 0, traceId: new Uint8Array(0), spanId: new Uint8Array(0), eventName: '',
  };
}

function make(config: Record<string, unknown>) {
  const telemetry = new Telemetry();
  const next = new RecordingConsumer();
  const out = next.batches;
  const p = new RedactionProcessor(testSettings('redaction', telemetry), redactionConfigSchema.parse(config), next);
  const run = async (records: LogRecord[], resource: Record<string, unknown> = {}): Promise<LogsBatch> => {
    const batch: LogsBatch = {
      resourceLogs: [{ resource: { attributes: Object.entries(resource).map(([key, v]) => ({ key, value: anyValueFrom(v) })), droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: records }] }],
      recordCount: records.length, receivedAt: 0,
    };
    await p.consume(batch);
    return batch;
  };
  const masked = (reason?: string): number => telemetry.counter(MASKED_VALUES_METRIC, '').total(reason ? { processor: 'redaction', reason } : { processor: 'redaction' });
  return { p, out, run, telemetry, masked };
}

const attrs = (r: LogRecord) => keyValuesToRaw(r.attributes);

describe('redaction', () => {
  it('masks an e-mail in the body and a password attribute, and counts them', async () => {
    const { run, masked, telemetry } = make({ allow_all_keys: true, summary: 'debug' });
    const r = rec('login failed for alice.smith+test@example.co.uk from 10.0.0.1', { password: 'hunter2', user: 'alice', 'http.route': '/login' });
    const b = await run([r]);
    expect(r.body!.stringValue).toBe('login failed for **** from 10.0.0.1');
    expect(attrs(r)).toEqual({
      password: '****', user: 'alice', 'http.route': '/login',
      'redaction.masked.keys': 'body,password', 'redaction.masked.count': 2,
    });
    expect(masked('email')).toBe(1);
    expect(masked('blocked_key')).toBe(1);
    expect(masked()).toBe(2);
    expect(b.recordCount).toBe(1);
    expect(telemetry.counter(MetricNames.processorOutgoing, '').total()).toBe(1);
  });

  it('upstream semantics: with allow_all_keys false, keys not in allowed_keys are removed; ignored keys are untouched', async () => {
    const { run, telemetry } = make({ allowed_keys: ['user', 'password'], ignored_keys: ['trace.note'], summary: 'info' });
    const r = rec('ok', { user: 'bob@example.com', password: 'x', ssn: '123-45-6789', geo: 'here', 'trace.note': 'mail carol@example.com' });
    await run([r], { 'service.name': 'shop', 'deployment.environment': 'prod' });
    expect(attrs(r)).toEqual({
      user: '****', password: '****', 'trace.note': 'mail carol@example.com',
      'redaction.redacted.count': 2, 'redaction.masked.count': 2,
    });
    expect(telemetry.counter(REMOVED_KEYS_METRIC, '').total()).toBe(4);
  });

  it('masks Luhn-valid card numbers (with spaces or dashes) but not other long digit runs', async () => {
    const { run, masked } = make({ allow_all_keys: true });
    const r = rec('paid with 4111 1111 1111 1111, order 1234567890123, card 5500-0000-0000-0004', { pan: 4111111111111111 });
    await run([r]);
    expect(r.body!.stringValue).toBe('paid with ****, order 1234567890123, card ****');
    expect(attrs(r).pan).toBe('****');
    expect(masked('card_number')).toBe(3);
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
  });

  it('masks bearer tokens, user blocked_values, and strings inside map bodies; blocked keys in maps', async () => {
    const { run, masked } = make({ allow_all_keys: true, blocked_values: ['\\bSSN-\\d{3}\\b'], blocked_keys: ['x-secret'] });
    const r = rec({ msg: 'call with Authorization: Bearer eyJhbGciOi.J9-x_y== done', nested: { list: ['SSN-123', 'fine'] }, 'X-Secret': 42 }, { header: 'bearer abc123' });
    await run([r]);
    expect(keyValuesToRaw(r.body!.kvlistValue!.values)).toEqual({ msg: 'call with Authorization: **** done', nested: { list: ['****', 'fine'] }, 'X-Secret': '****' });
    expect(attrs(r).header).toBe('****');
    expect(masked('bearer_token')).toBe(2);
    expect(masked('blocked_value')).toBe(1);
    expect(masked('blocked_key')).toBe(1);
  });

  it('builtin_patterns: false turns the built-ins off; summary silent adds nothing; patterns are applied to every record', async () => {
    const { run, masked } = make({ allow_all_keys: true, builtin_patterns: false, blocked_values: ['secret-[a-z]+'] });
    const rs = [rec('mail a@b.io secret-abc'), rec('secret-def and secret-ghi', { token: 't' })];
    await run(rs);
    expect(rs.map((r) => r.body!.stringValue)).toEqual(['mail a@b.io ****', '**** and ****']);
    expect(attrs(rs[1]!)).toEqual({ token: '****' });
    expect(masked()).toBe(4);
  });

  it('handles non-ASCII text before a match and leaves unmatched values as they were', async () => {
    const { run } = make({ allow_all_keys: true });
    const r = rec('héllo 😀 écrivez à zoë@exemple.fr ou bob@example.com', { n: 7, ok: true });
    const before = r.attributes[0]!.value;
    await run([r]);
    expect(r.body!.stringValue).toBe('héllo 😀 écrivez à **** ou ****');
    expect(r.attributes[0]!.value).toBe(before);
  });

  it('rejects an invalid regex with its path', () => {
    const res = redactionConfigSchema.safeParse({ blocked_values: ['ok', '(unclosed'] });
    expect(res.success).toBe(false);
    expect(res.error!.issues[0]!.path).toEqual(['blocked_values', 1]);
  });
});

describe('card-number prefilter', () => {
  it('passes every string the card pattern could match and rules out scattered digits', async () => {
    const { hasDigitRun } = await import('./patterns.js');
    expect(hasDigitRun('card 4111 1111 1111 1111 ok', 13)).toBe(true);
    expect(hasDigitRun('4111-1111-1111-1111', 13)).toBe(true);
    expect(hasDigitRun('4111111111111', 13)).toBe(true);
    expect(hasDigitRun('request 123456 took 789ms at 2024', 13)).toBe(false);
    expect(hasDigitRun('4111  1111  1111  1111', 13)).toBe(false); // two separators break the run, as in the pattern
  });
});

describe('card numbers without the regex engine', () => {
  const card = builtinPatterns().find((p) => p.reason === 'card_number')!;
  const viaRegex = (s: string): [number, number][] => {
    const out: [number, number][] = [];
    const m = card.re.matcher(s);
    while (m.find()) out.push([m.start(), m.end()]);
    return out;
  };
  const viaScan = (s: string): [number, number][] => {
    const out: [number, number][] = [];
    for (let f = findCardNumber(s, 0); f !== undefined; f = findCardNumber(s, f[1])) out.push([f[0], f[1]]);
    return out;
  };

  it('finds exactly the matches of the regex, on edge cases and on random text', () => {
    const cases = [
      '4111111111111111', '4111 1111 1111 1111', '4111-1111-1111-1111', '4111  1111 1111 1111', '4111--1111-1111-1111',
      'x4111111111111111', '_4111111111111111', '4111111111111111_', '4111111111111111a', '.4111111111111111.',
      '12345678901234567890123', '1234567890123456789 0', '12.345678901234567', '123456789012', '1234567890123',
      '1234567890123456789a', '1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0', '1-2-3-4-5-6-7-8-9-0-1-2-3', '4111111111111111-', '4111111111111111 ',
      'é4111111111111111', '٣4111111111111111', '4111111111111111é', '',
    ];
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const alphabet = '0123456789012345678901234567890123456789 - a_.é٣';
    for (let k = 0; k < 3000; k++) {
      let s = '';
      const n = Math.floor(rnd() * 60);
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      cases.push(s);
    }
    for (const s of cases) expect(viaScan(s), JSON.stringify(s)).toEqual(viaRegex(s));
  });

  it('masks as the regex did: Luhn-valid numbers only, a rejected candidate does not hide a later one', () => {
    const masked: string[] = [];
    const out = maskString('ids 4111111111111112 then 4111 1111 1111 1111 and 12.4111111111111111', builtinPatterns(), (p) => masked.push(p.reason));
    expect(out).toBe('ids 4111111111111112 then **** and 12.****');
    expect(masked).toEqual(['card_number', 'card_number']);
  });
});

describe('the built-in patterns over received bytes', () => {
  it('the one-pass byte probe is true wherever a built-in pattern could match the decoded text', () => {
    const probe = new BuiltinValueProbe(builtinPatterns());
    const pieces = ['a', 'b', 'B', '@', ' ', '-', '1', '9', 'é', '日', 'x', 'bearer', 'BeArEr', 'bear', 'Ｂ', '\u017f', '.', '\n'];
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    let hits = 0;
    for (let i = 0; i < 20_000; i++) {
      let s = '';
      const len = rand(30);
      for (let j = 0; j < len; j++) s += pieces[rand(pieces.length)]!;
      if (rand(4) === 0) s += '4111 1111-1111 1111'.slice(0, 12 + rand(8));
      const bytes = Buffer.from(s);
      const could = builtinPatterns().some((p) => p.mayMatch!(s));
      const probed = probe.text(bytes, 0, bytes.length);
      if (could) expect(probed, s).toBe(true);
      expect(probed, s).toBe(could);
      if (could) hits++;
    }
    expect(hits).toBeGreaterThan(1000);
    // Numbers: only a 13-digit integer can hold a card number; a double's text is checked with the patterns
    // (16 fraction digits passing Luhn: masked; 13 digits failing it: not).
    expect(probe.number(999_999_999_999, false)).toBe(false);
    expect(probe.number(-4_111_111_111_111, false)).toBe(true);
    expect(probe.number(0.4111111111111111, true)).toBe(true);
    expect(maskString('0.4111111111111111', builtinPatterns(), () => {})).toBe('0.****');
    expect(probe.number(0.1234567890123, true)).toBe(false);
    expect(probe.number(12.5, true)).toBe(false);
  });
});
