/**
 * Waiting for something to happen, instead of sleeping and hoping it did: a condition checked
 * each time one of the given emitters fires (a child's output, a receiver's push) and on a short
 * interval for what has no event (a file appearing), failing at a deadline with a description of
 * what was awaited and what was seen.
 */
import type { EventEmitter } from 'node:events';

export interface WaitOptions {
  /** The deadline (ms) after which the wait fails; default 10 s. */
  timeoutMs?: number;
  /** What is awaited and the state seen (the child's stderr, the count so far), for the failure message. */
  describe: () => string;
  /** Check again each time one of these emits, e.g. `[[child.stdout, 'data']]`. */
  wakeOn?: Array<[EventEmitter, string]>;
  /** Also check this often (ms); 0 checks only on events. Default 10. */
  pollMs?: number;
}

/**
 * Resolves with the first truthy value `condition` returns; rejects with `describe()` when the
 * deadline passes, or with the error `condition` throws (to fail early, e.g. on a child's exit).
 */
export function waitFor<T>(condition: () => T | false | null | undefined, options: WaitOptions): Promise<T> {
  const { timeoutMs = 10_000, pollMs = 10, wakeOn = [] } = options;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (settle: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      if (poll) clearInterval(poll);
      for (const [emitter, event] of wakeOn) emitter.off(event, check);
      settle();
    };
    function check(): void {
      if (done) return;
      let value: T | false | null | undefined;
      try {
        value = condition();
      } catch (err) {
        finish(() => reject(err));
        return;
      }
      if (value) finish(() => resolve(value as T));
    }
    const deadline = setTimeout(
      () => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${options.describe()}`))),
      timeoutMs,
    );
    const poll = pollMs > 0 ? setInterval(check, pollMs) : null;
    for (const [emitter, event] of wakeOn) emitter.on(event, check);
    check();
  });
}
