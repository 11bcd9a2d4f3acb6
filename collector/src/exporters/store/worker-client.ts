/** Main-thread side of the store worker: request/reply over postMessage, one pending map. */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { WorkerInit, WorkerReply } from './store-worker.js';

/** An error thrown in the worker, re-created with its name, SQLite code and hint. */
export class StoreWorkerError extends Error {
  constructor(message: string, override readonly name: string, readonly code?: string | undefined, readonly hint?: string | undefined) {
    super(message);
  }
}

/** The compiled worker file (tests run the TypeScript sources; the worker always runs the built JS). */
function workerPath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return here.replace(/[\\/]src[\\/](.*)worker-client\.ts$/, '/dist/$1store-worker.js');
  return here.replace(/worker-client\.js$/, 'store-worker.js');
}

export class StoreWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private dead: Error | undefined;

  constructor(init: WorkerInit, onExit?: (err: Error) => void, onEvent?: (e: { event: string; file: string; aside: string }) => void) {
    this.worker = new Worker(workerPath(), { workerData: init });
    this.worker.on('message', (m: WorkerReply | { id: 0; event: string; file: string; aside: string }) => {
      if ('event' in m) {
        onEvent?.(m);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new StoreWorkerError(m.error.message, m.error.name, m.error.code, m.error.hint));
    });
    const fail = (err: Error): void => {
      this.dead ??= err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      onExit?.(err);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`store worker exited (code ${code})`)));
  }

  call<T>(op: string, ...args: unknown[]): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, op, args });
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}
