/**
 * The `redaction` processor (upstream redactionprocessor, extended for logs): removes attribute keys that
 * are not allowed, masks whole values of blocked keys, and masks matches of value patterns (e-mail,
 * card numbers, bearer tokens, user regexes) in attribute values and in the body. Patterns are RE2
 * (linear time) and compiled once; the processor never drops records.
 */
import { adoptLogRecord, anyValueAsString, peekLogRecord, recordValuesMayMatch, type AnyValue, type KeyValue, type LogRecord } from '@tributary/otlp';
import { RE2JS } from 're2js';
import type { CreateSettings, LogsBatch, LogsConsumer, Processor } from '../../component.js';
import type { BoundCounter } from '../../telemetry/metrics.js';
import type { RedactionConfig } from './config.js';
import { BuiltinValueProbe, MASK, builtinPatterns, maskString, userPatterns, type ValuePattern } from './patterns.js';
import { Metrics } from '../../telemetry/metric-names.js';

export const MASKED_VALUES_METRIC = Metrics.redactionMasked.name;
export const REMOVED_KEYS_METRIC = Metrics.redactionRemoved.name;

const KEY_CACHE_LIMIT = 10_000;
const enum KeyClass { Normal = 0, Blocked = 1 }

type Reason = ValuePattern['reason'] | 'blocked_key';

export class RedactionProcessor implements Processor {
  readonly mutatesData = true;

  private readonly allowAll: boolean;
  private readonly allowed: ReadonlySet<string>;
  private readonly ignored: ReadonlySet<string>;
  private readonly blockedKeys: ReadonlySet<string>;
  private readonly blockedKeyPatterns: readonly RE2JS[];
  private readonly patterns: readonly ValuePattern[];
  /** 0 silent, 1 info, 2 debug. */
  private readonly summaryLevel: number;
  /** Key → blocked or not; attribute key sets are small, so this saves lower-casing and regexes per record. */
  private readonly keyCache = new Map<string, KeyClass>();
  private readonly valueProbe: BuiltinValueProbe | undefined;

  private readonly incoming: BoundCounter;
  private readonly outgoing: BoundCounter;
  private readonly masked: Record<Reason, BoundCounter>;
  private readonly removed: BoundCounter;

  // Scratch state of the record being processed (consume is synchronous up to next.consume).
  private maskedKeys: string[] = [];
  private redactedKeys: string[] = [];
  private hit = false;
  private readonly onMask = (p: ValuePattern): void => {
    this.masked[p.reason].add(1);
    this.hit = true;
  };

  constructor(settings: CreateSettings, config: RedactionConfig, private readonly next: LogsConsumer) {
    this.allowAll = config.allow_all_keys;
    this.allowed = new Set(config.allowed_keys);
    this.ignored = new Set(config.ignored_keys);
    this.blockedKeys = new Set(config.blocked_keys.map((k) => k.toLowerCase()));
    this.blockedKeyPatterns = config.blocked_key_patterns.map((p) => RE2JS.compile(p));
    this.patterns = [...(config.builtin_patterns ? builtinPatterns() : []), ...userPatterns(config.blocked_values)];
    this.summaryLevel = config.summary === 'debug' ? 2 : config.summary === 'info' ? 1 : 0;
    // Records in their received bytes are checked with one pass over their strings when only the values'
    // built-in patterns can change a record (all keys allowed, none blocked).
    const keysChangeNothing = this.allowAll && this.blockedKeys.size === 0 && this.blockedKeyPatterns.length === 0;
    this.valueProbe = keysChangeNothing && BuiltinValueProbe.covers(this.patterns) ? new BuiltinValueProbe(this.patterns) : undefined;
    const labels = { processor: settings.id.id };
    const t = settings.telemetry;
    this.incoming = t.counter(Metrics.processorIncoming).bind(labels);
    this.outgoing = t.counter(Metrics.processorOutgoing).bind(labels);
    const m = t.counter(Metrics.redactionMasked);
    this.masked = {
      email: m.bind({ ...labels, reason: 'email' }),
      card_number: m.bind({ ...labels, reason: 'card_number' }),
      bearer_token: m.bind({ ...labels, reason: 'bearer_token' }),
      blocked_value: m.bind({ ...labels, reason: 'blocked_value' }),
      blocked_key: m.bind({ ...labels, reason: 'blocked_key' }),
    };
    this.removed = t.counter(Metrics.redactionRemoved).bind(labels);
  }

  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}

  consume(batch: LogsBatch): Promise<void> {
    this.incoming.add(batch.recordCount);
    const rls = batch.resourceLogs;
    for (let i = 0; i < rls.length; i++) {
      const rl = rls[i]!;
      if (rl.resource != null) this.redactAttributes(rl.resource.attributes, false);
      const sls = rl.scopeLogs;
      for (let j = 0; j < sls.length; j++) {
        const recs = sls[j]!.logRecords;
        for (let k = 0; k < recs.length; k++) this.redactRecord(recs[k]!);
      }
    }
    this.outgoing.add(batch.recordCount);
    return this.next.consume(batch);
  }

  /** Redacts one record in place (exposed for tests and reuse). */
  redactRecord(record: LogRecord): void {
    // A record still in its received bytes is redacted on a decoded copy, which replaces it only when
    // something changed: most records keep their bytes.
    // Nothing to remove or mask by key, and no value that a pattern could match: the record stays as it is.
    if (this.valueProbe !== undefined && !recordValuesMayMatch(record, this.valueProbe)) return;
    const copy = peekLogRecord(record);
    const r = copy ?? record;
    this.beginSummary();
    this.redactAttributes(r.attributes, true);
    if (r.body != null) {
      this.hit = false;
      const v = this.maskValue(r.body);
      if (v !== undefined) r.body = v;
      if (this.hit) this.maskedKeys.push('body');
    }
    this.endSummary(r.attributes);
    if (copy !== undefined && (this.maskedKeys.length > 0 || this.redactedKeys.length > 0)) adoptLogRecord(record, copy);
  }

  private beginSummary(): void {
    if (this.maskedKeys.length > 0) this.maskedKeys = [];
    if (this.redactedKeys.length > 0) this.redactedKeys = [];
  }

  /** Upstream adds the summary only for non-empty lists: `.keys` (debug) and `.count` (info, debug). */
  private endSummary(attrs: KeyValue[]): void {
    if (this.summaryLevel === 0) return;
    const lists: [string, string[]][] = [['redaction.redacted', this.redactedKeys], ['redaction.masked', this.maskedKeys]];
    for (const [prefix, keys] of lists) {
      if (keys.length === 0) continue;
      if (this.summaryLevel === 2) attrs.push({ key: `${prefix}.keys`, value: { stringValue: [...keys].sort().join(',') } });
      attrs.push({ key: `${prefix}.count`, value: { intValue: keys.length } });
    }
  }

  private redactAttributes(kvs: KeyValue[], summarize: boolean): void {
    if (!summarize) this.beginSummary();
    let w = 0;
    for (let i = 0; i < kvs.length; i++) {
      const kv = kvs[i]!;
      const key = kv.key;
      if (this.ignored.has(key)) {
        kvs[w++] = kv;
        continue;
      }
      if (!this.allowAll && !this.allowed.has(key)) {
        this.removed.add(1);
        this.redactedKeys.push(key);
        continue;
      }
      kvs[w++] = kv;
      if (kv.value == null) continue;
      if (this.keyClass(key) === KeyClass.Blocked) {
        if (kv.value.stringValue !== MASK) {
          kv.value = { stringValue: MASK };
          this.masked.blocked_key.add(1);
          this.maskedKeys.push(key);
        }
        continue;
      }
      this.hit = false;
      const v = this.maskValue(kv.value);
      if (v !== undefined) kv.value = v;
      if (this.hit) this.maskedKeys.push(key);
    }
    kvs.length = w;
    if (!summarize) this.endSummary(kvs);
  }

  /** Masks inside a value; returns a replacement for scalars that changed, else undefined (containers change in place). */
  private maskValue(v: AnyValue): AnyValue | undefined {
    if (v.stringValue != null) {
      const s = maskString(v.stringValue, this.patterns, this.onMask);
      return s === undefined ? undefined : { stringValue: s };
    }
    if (v.intValue != null || v.doubleValue != null) {
      // Upstream checks a number's string form too (a card number logged as an integer).
      const s = maskString(anyValueAsString(v), this.patterns, this.onMask);
      return s === undefined ? undefined : { stringValue: s };
    }
    if (v.kvlistValue != null) {
      const kvs = v.kvlistValue.values;
      for (let i = 0; i < kvs.length; i++) {
        const kv = kvs[i]!;
        if (kv.value == null) continue;
        if (this.keyClass(kv.key) === KeyClass.Blocked) {
          if (kv.value.stringValue !== MASK) {
            kv.value = { stringValue: MASK };
            this.masked.blocked_key.add(1);
            this.hit = true;
          }
          continue;
        }
        const r = this.maskValue(kv.value);
        if (r !== undefined) kv.value = r;
      }
      return undefined;
    }
    if (v.arrayValue != null) {
      const vals = v.arrayValue.values;
      for (let i = 0; i < vals.length; i++) {
        const r = this.maskValue(vals[i]!);
        if (r !== undefined) vals[i] = r;
      }
    }
    return undefined;
  }

  private keyClass(key: string): KeyClass {
    let c = this.keyCache.get(key);
    if (c !== undefined) return c;
    c = this.blockedKeys.has(key.toLowerCase()) || this.blockedKeyPatterns.some((re) => re.test(key)) ? KeyClass.Blocked : KeyClass.Normal;
    if (this.keyCache.size >= KEY_CACHE_LIMIT) this.keyCache.clear();
    this.keyCache.set(key, c);
    return c;
  }
}
