/** Turning the config into byte limits, and finding the memory the process may use. */
import { readFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import type { MemoryLimiterConfig } from './config.js';

export const MIB = 1024 * 1024;

export interface MemoryLimits {
  /** Above this, refuse and force a GC when exposed. */
  hardBytes: number;
  /** hard − spike: above this, refuse. */
  softBytes: number;
}

/** Upstream's arithmetic: limit_mib wins; an unset spike is 20% of the limit. */
export function computeLimits(config: MemoryLimiterConfig, totalBytes: number): MemoryLimits {
  let hard: number;
  let spike: number;
  if (config.limit_mib > 0) {
    hard = config.limit_mib * MIB;
    spike = config.spike_limit_mib * MIB;
  } else {
    hard = Math.floor((totalBytes * config.limit_percentage) / 100);
    spike = Math.floor((totalBytes * config.spike_limit_percentage) / 100);
  }
  if (spike === 0) spike = Math.floor(hard / 5);
  return { hardBytes: hard, softBytes: hard - spike };
}

/** The value of a cgroup memory limit file, or undefined when absent or unlimited. */
export function parseCgroupLimit(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return undefined; // "max" (v2) means unlimited
  const n = Number(t);
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}

const CGROUP_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];

/** Machine memory, or the cgroup (v2, else v1) limit when set and smaller. */
export async function totalMemoryBytes(): Promise<number> {
  let total = totalmem();
  for (const file of CGROUP_FILES) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    const limit = parseCgroupLimit(text);
    if (limit !== undefined && limit < total) total = limit;
    break;
  }
  return total;
}
