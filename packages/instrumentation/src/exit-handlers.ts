/**
 * Nothing lost on the way out, and the process still ends the way it would have without us:
 * - `beforeExit`: async flush (bounded) when something was logged since the last one;
 * - `exit` (process.exit() or the natural end): synchronous send of what is still buffered;
 * - SIGTERM/SIGINT: bounded flush, then, if the app has no handler of its own, the signal is raised again;
 * - uncaught exceptions (and unhandled rejections, which Node turns into them): a FATAL record with the
 *   stack, from `uncaughtExceptionMonitor`, which leaves Node's own handling alone: Node prints the error as
 *   it always does (source line and caret included), emits `exit` (where the record is sent synchronously)
 *   and exits with code 1.
 */

export interface ExitHooks {
  /** Number of records emitted so far (to skip needless flushes). */
  emitted(): number;
  flush(): Promise<void>;
  flushSync(): void;
  emitFatal(err: unknown, origin: string): void;
  timeoutMs: number;
}

const INSTALLED = Symbol.for('tributary.exit-handlers');

/** Resolves true when `p` settled within `ms`, false when the time ran out. */
export function bounded(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    // A ref'd timer: during beforeExit it is what keeps the loop alive until the flush settles.
    const timer = setTimeout(() => resolve(false), ms);
    p.then(() => undefined, () => undefined).finally(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export function installExitHandlers(hooks: ExitHooks): () => void {
  const proc = process as NodeJS.Process & Record<symbol, unknown>;
  if (proc[INSTALLED]) return () => undefined;
  proc[INSTALLED] = true;

  let flushedAt = 0;
  let current: Promise<boolean> | undefined;
  /** Set when a flush ran out of time: the collector is unreachable, later exits should not wait again. */
  let unreachable = false;

  /** One bounded flush at a time; concurrent callers share it. */
  const flushBounded = (): Promise<boolean> => {
    if (current) return current;
    flushedAt = hooks.emitted();
    current = bounded(hooks.flush(), hooks.timeoutMs).then((settled) => {
      current = undefined;
      if (!settled) unreachable = true;
      return settled;
    });
    return current;
  };

  const onBeforeExit = (): void => {
    if (current || hooks.emitted() === flushedAt || unreachable) return;
    void flushBounded().then((settled) => {
      // The loop was empty before our flush, so only our export (retrying against an unreachable
      // collector) keeps the process alive now: end it as it was about to end.
      if (!settled) process.exit();
    });
  };

  const onExit = (): void => {
    try { hooks.flushSync(); } catch { /* exiting anyway */ }
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    const appHandles = process.listenerCount(signal) > 1;
    void flushBounded().finally(() => {
      if (appHandles) return;
      // As if we had never listened: the default action ends the process with this signal.
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    });
  };

  const onUncaught = (err: unknown, origin: string): void => {
    try { hooks.emitFatal(err, origin); } catch { /* must not mask the app's error */ }
  };

  process.on('beforeExit', onBeforeExit);
  process.on('exit', onExit);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtExceptionMonitor', onUncaught);

  return () => {
    process.removeListener('beforeExit', onBeforeExit);
    process.removeListener('exit', onExit);
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('uncaughtExceptionMonitor', onUncaught);
    delete proc[INSTALLED];
  };
}
