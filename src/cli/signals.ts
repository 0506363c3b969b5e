/**
 * How a long run (`forward --follow`, `tail -f`, a dead-letter replay) is stopped: SIGINT (Ctrl-C)
 * and SIGTERM (systemd, `kill`) abort a signal the run watches, so it ends cleanly with exit 0
 * instead of being killed (130/143).
 */

/** SIGINT and SIGTERM abort `signal` until `release()` removes the handlers. */
export function abortOnSignals(): { signal: AbortSignal; release: () => void } {
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    signal: abort.signal,
    release: () => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
    },
  };
}
