/**
 * Worker-thread entry of the store: the writer (one per store exporter) or a reader (the api extension).
 * SQLite calls are synchronous; running them here keeps the collector's event loop free.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runMaintenance, type MaintenanceOptions } from './maintenance.js';
import { StoreReader, type ReaderOptions } from './reader.js';
import { StoreWriter, type WriterOptions } from './writer.js';

export type WorkerInit =
  | { readonly role: 'writer'; readonly writer: WriterOptions; readonly maintenance: MaintenanceOptions }
  | { readonly role: 'reader'; readonly reader: ReaderOptions };

export interface WorkerRequest {
  readonly id: number;
  readonly op: string;
  readonly args: readonly unknown[];
}

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: { name: string; message: string; code?: string | undefined; hint?: string | undefined } };

const init = workerData as WorkerInit;
const port = parentPort;
if (!port) throw new Error('store-worker must run in a worker thread');

const writer = init.role === 'writer'
  ? new StoreWriter({ ...init.writer, onCorrupt: (file, aside) => port?.postMessage({ id: 0, event: 'corrupt', file, aside }) })
  : undefined;
const reader = init.role === 'reader' ? new StoreReader(init.reader) : undefined;

async function handle(op: string, args: readonly unknown[]): Promise<unknown> {
  if (writer && init.role === 'writer') {
    switch (op) {
      case 'write': return writer.write(args[0] as Parameters<StoreWriter['write']>[0]);
      case 'maintain': return runMaintenance(init.maintenance, args[0] as number, (p) => writer.closeMatching((q) => q === p));
      case 'close': return writer.close();
      default: break;
    }
  }
  if (reader) {
    const r = reader as unknown as Record<string, (...a: unknown[]) => unknown>;
    if (op === 'close') return reader.close();
    if (op === 'forget') return reader.forget((p) => p === args[0]);
    if (['query', 'histogram', 'fields', 'fieldValues', 'series', 'countStreams', 'labelNames'].includes(op)) return r[op]!.apply(reader, args as unknown[]);
  }
  throw new Error(`unknown store worker operation ${op}`);
}

port.on('message', (msg: WorkerRequest) => {
  void handle(msg.op, msg.args).then(
    (value) => port.postMessage({ id: msg.id, ok: true, value } satisfies WorkerReply),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      port.postMessage({ id: msg.id, ok: false, error: { name: e.name, message: e.message, code: (e as { code?: string }).code, hint: (e as { hint?: string }).hint } } satisfies WorkerReply);
    },
  );
});
