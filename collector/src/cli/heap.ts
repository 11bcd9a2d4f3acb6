/** V8 heap sizing for the memory limit a config sets. */

const HEAP_FLAG = /--max-old-space-size|--max-semi-space-size|--max-heap-size/;

/**
 * Node flags that size V8's heap for the config's memory_limiter `limit_mib` (the largest, when several):
 * the old generation capped at 1.25 × the limit, so V8 collects as it nears it instead of growing lazily
 * far past it. Not at the limit itself: the limiter measures between checks, and a burst admitted before
 * it refuses must not crash the process with V8's out-of-memory error (everything queued would be lost).
 * The young generation keeps its default: it must hold what a batch keeps alive (a smaller one was
 * promoted every batch and cost a third more CPU at 10k logs/s). Empty when no limiter sets limit_mib,
 * or when the process was started with any heap flag (the operator's choice wins).
 */
export function heapFlagsFor(processors: Readonly<Record<string, unknown>>, execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  if (execArgv.some((a) => HEAP_FLAG.test(a)) || HEAP_FLAG.test(nodeOptions ?? '')) return [];
  let limit = 0;
  for (const [id, cfg] of Object.entries(processors)) {
    if (id.split('/', 1)[0] !== 'memory_limiter' || cfg === null || typeof cfg !== 'object') continue;
    const mib = (cfg as { limit_mib?: unknown }).limit_mib;
    if (typeof mib === 'number' && mib > limit) limit = mib;
  }
  if (limit <= 0) return [];
  return [`--max-old-space-size=${Math.max(96, Math.floor(limit * 1.25))}`];
}

/**
 * glibc malloc settings for a memory-limited process: allocations from 128 KiB up get their own mapping
 * and go back to the system when freed. By default glibc raises that threshold after the first large
 * free, after which request bodies of a few MiB come from its arenas and freed ones stay resident (seen:
 * 316–365 MiB RSS under an overload that peaks at 256–266 MiB with these). Settings already in the
 * environment are kept; other C libraries ignore them.
 */
export function mallocEnvFor(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072', ...env };
}
