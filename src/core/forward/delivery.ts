/**
 * Delivering one batch to its target: retried with exponential backoff and jitter while the
 * target answers with a retryable error (Loki 429, 5xx, network; any syslog send error), given
 * up on once it has failed for `giveUpAfterMs` or the run is aborted. A retry sends the same
 * batch, so the same bytes (a receiver can drop a duplicate of an attempt that did arrive).
 * A refusal is not retried: one about the entries goes back to the pipeline (which splits the
 * batch), one of the target itself (credentials, URL path) stops the run for it, or, under
 * `retryTargetRefusals` (`--follow`), is retried like an outage until someone fixes it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeliverResult, ForwardTarget, TargetBatch, TargetRefusal } from './target.js';

/** How a batch's delivery is retried. */
export interface RetryPolicy {
  /** First backoff delay and its cap, ms (doubling from `min` to `max`). */
  backoffMs: { min: number; max: number };
  /** Give up once attempts have failed for this long, ms (Infinity: never). */
  giveUpAfterMs: number;
  /**
   * Retry refusals of the target itself (credentials, path, size, …) with backoff too, instead
   * of stopping at the first: `--follow`, where someone may fix the target while it runs.
   */
  retryTargetRefusals?: boolean;
  /** Aborted: give up after the attempt in progress, and cut a backoff wait short. */
  signal?: AbortSignal;
}

/** How a batch's delivery ended. */
export type DeliveryOutcome =
  | { kind: 'delivered' }
  /**
   * Refused for something in the batch: entries the target refuses (split it, dead-letter the
   * lone ones), or a body over its size limit (split it, smaller batches).
   */
  | { kind: 'refused'; refusal: 'entries' | 'too-large'; error: string; refusedEntries?: number }
  /** The target refuses any batch until someone fixes it: the run stops for it, its position kept. */
  | { kind: 'stopped'; refusal: TargetRefusal; error: string }
  /** Still failing at the deadline, or aborted: `error` is the last attempt's. */
  | { kind: 'gave-up'; error: string };

/** A failed attempt that will be retried after `delayMs`. */
export interface RetryNotice {
  error: string;
  attempt: number;
  delayMs: number;
  /** Set when the target refused the batch itself (retried under `retryTargetRefusals`). */
  refusal?: TargetRefusal;
}

/**
 * The wait before retry number `attempt` (1-based), ms: `min` doubled per attempt up to `max`,
 * times a jitter factor in [0.5, 1) so that forwarders behind one outage do not retry in step.
 * @param random a number in [0, 1)
 */
export function backoffDelay(attempt: number, backoff: RetryPolicy['backoffMs'], random = Math.random()): number {
  return Math.round(Math.min(backoff.max, backoff.min * 2 ** (attempt - 1)) * (0.5 + random / 2));
}

/**
 * Delivers `batch` to `target`, retrying as `policy` says; never throws what the target answers.
 * @param tooLargeStops a body too large is the target's refusal (the batch cannot get smaller)
 */
export function deliverWithRetry(
  target: ForwardTarget,
  batch: TargetBatch,
  policy: RetryPolicy,
  onRetry?: (n: RetryNotice) => void,
  tooLargeStops = false,
): Promise<DeliveryOutcome> {
  return retryAttempts(() => target.deliver(batch), policy, onRetry, tooLargeStops);
}

/**
 * Makes `attempt` (one delivery of the same bytes) until it is answered, refused or given up on,
 * as `policy` says: the retry of {@link deliverWithRetry}, also used for what is not a batch
 * (forward's signed checkpoints, checkpoints.ts). Never throws what `attempt` answers.
 * @param tooLargeStops a body too large is the target's refusal (the batch cannot get smaller)
 */
export async function retryAttempts(
  attempt: () => Promise<DeliverResult>,
  policy: RetryPolicy,
  onRetry?: (n: RetryNotice) => void,
  tooLargeStops = false,
): Promise<DeliveryOutcome> {
  const started = Date.now();
  for (let n = 1; ; n++) {
    const r = await attempt();
    if (r.ok) return { kind: 'delivered' };
    let refusal: TargetRefusal | undefined;
    if (!r.retryable) {
      if (r.refusal === 'entries' || (r.refusal === 'too-large' && !tooLargeStops)) {
        const { refusedEntries } = r;
        return { kind: 'refused', refusal: r.refusal, error: r.error, ...(refusedEntries ? { refusedEntries } : {}) };
      }
      refusal = r.refusal;
      if (!policy.retryTargetRefusals || refusal === 'tls-trust') return { kind: 'stopped', refusal, error: r.error };
    }
    if (Date.now() - started >= policy.giveUpAfterMs || policy.signal?.aborted)
      return refusal ? { kind: 'stopped', refusal, error: r.error } : { kind: 'gave-up', error: r.error };
    const delayMs = backoffDelay(n, policy.backoffMs);
    onRetry?.({ error: r.error, attempt: n, delayMs, ...(refusal ? { refusal } : {}) });
    await sleep(delayMs, undefined, { signal: policy.signal }).catch(() => undefined);
  }
}
