/** Store exporters of the running config by id, so the api extension can read what they write. */
import type { StoreConfig } from './config.js';

const stores = new Map<string, StoreConfig>();

export function registerStore(id: string, config: StoreConfig): void {
  stores.set(id, config);
}

export function unregisterStore(id: string): void {
  stores.delete(id);
}

/** The store with this id, or the only one when `id` is undefined. */
export function findStore(id?: string): { id: string; config: StoreConfig } | undefined {
  if (id !== undefined) {
    const c = stores.get(id);
    return c ? { id, config: c } : undefined;
  }
  if (stores.size !== 1) return undefined;
  const [e] = stores;
  return e ? { id: e[0], config: e[1] } : undefined;
}
