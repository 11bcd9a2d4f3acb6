/** Cutting a ResourceLogs list at a record count without copying records. */
import type { ResourceLogs, ScopeLogs } from '@tributary/otlp';

function recordsIn(rl: ResourceLogs): number {
  let n = 0;
  const sl = rl.scopeLogs;
  for (let i = 0; i < sl.length; i++) n += sl[i]!.logRecords.length;
  return n;
}

/**
 * Splits `rls` into the first `count` records and the rest. Whole ResourceLogs / ScopeLogs are shared;
 * the one cut in two is replaced by two new objects holding slices of its record array (same records).
 */
export function splitResourceLogs(rls: readonly ResourceLogs[], count: number): [head: ResourceLogs[], tail: ResourceLogs[]] {
  const head: ResourceLogs[] = [];
  let k = count;
  for (let i = 0; i < rls.length; i++) {
    if (k === 0) return [head, rls.slice(i)];
    const rl = rls[i]!;
    const n = recordsIn(rl);
    if (n <= k) {
      head.push(rl);
      k -= n;
      continue;
    }
    const headScopes: ScopeLogs[] = [];
    const tailScopes: ScopeLogs[] = [];
    const scopes = rl.scopeLogs;
    let j = 0;
    for (; j < scopes.length && k > 0; j++) {
      const sl = scopes[j]!;
      const m = sl.logRecords.length;
      if (m <= k) {
        headScopes.push(sl);
        k -= m;
        continue;
      }
      headScopes.push({ scope: sl.scope, schemaUrl: sl.schemaUrl, logRecords: sl.logRecords.slice(0, k) });
      tailScopes.push({ scope: sl.scope, schemaUrl: sl.schemaUrl, logRecords: sl.logRecords.slice(k) });
      k = 0;
    }
    for (; j < scopes.length; j++) tailScopes.push(scopes[j]!);
    head.push({ resource: rl.resource, schemaUrl: rl.schemaUrl, scopeLogs: headScopes });
    const tail: ResourceLogs[] = [{ resource: rl.resource, schemaUrl: rl.schemaUrl, scopeLogs: tailScopes }];
    for (let r = i + 1; r < rls.length; r++) tail.push(rls[r]!);
    return [head, tail];
  }
  return [head, []];
}
