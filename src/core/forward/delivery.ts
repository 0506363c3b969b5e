/**
 * Delivering one batch to its target: retried with exponential backoff and jitter while the
 * target answers with a retryable error (Loki 429, 5xx, network; any syslog send error), given
 * up on once it has failed for `giveUpAfterMs` or the run is aborted. A retry sends the same
 * batch, so the same bytes (a receiver can drop a duplicate of an attempt that did arrive).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ForwardTarget, TargetBatch } from './target.js';

/** How a batch's delivery is retried. */
export interface RetryPolicy {
  /** First backoff delay and its cap, ms (doubling from `min` to `max`). */
  backoffMs: { min: number; max: number };
  /** Give up once attempts have failed for this long, ms (Infinity: never). */
  giveUpAfterMs: number;
  /** Aborted: give up after the attempt in progress, and cut a backoff wait short. */
  signal?: AbortSignal;
}

/** How a batch's delivery ended. */
export type DeliveryOutcome =
  | { kind: 'delivered' }
  /** The target refused the batch for good (not retryable): its entries are dead-lettered. */
  | { kind: 'refused'; error: string }
  /** Still failing at the deadline, or aborted: `error` is the last attempt's. */
  | { kind: 'gave-up'; error: string };

/** A failed attempt that will be retried after `delayMs`. */
export interface RetryNotice {
  error: string;
  attempt: number;
  delayMs: number;
}

/**
 * The wait before retry number `attempt` (1-based), ms: `min` doubled per attempt up to `max`,
 * times a jitter factor in [0.5, 1) so that forwarders behind one outage do not retry in step.
 * @param random a number in [0, 1)
 */
export function backoffDelay(attempt: number, backoff: RetryPolicy['backoffMs'], random = Math.random()): number {
  return Math.round(Math.min(backoff.max, backoff.min * 2 ** (attempt - 1)) * (0.5 + random / 2));
}

/** Delivers `batch` to `target`, retrying as `policy` says; never throws what the target answers. */
export async function deliverWithRetry(
  target: ForwardTarget,
  batch: TargetBatch,
  policy: RetryPolicy,
  onRetry?: (n: RetryNotice) => void,
): Promise<DeliveryOutcome> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    const r = await target.deliver(batch);
    if (r.ok) return { kind: 'delivered' };
    if (!r.retryable) return { kind: 'refused', error: r.error };
    if (Date.now() - started >= policy.giveUpAfterMs || policy.signal?.aborted)
      return { kind: 'gave-up', error: r.error };
    const delayMs = backoffDelay(attempt, policy.backoffMs);
    onRetry?.({ error: r.error, attempt, delayMs });
    await sleep(delayMs, undefined, { signal: policy.signal }).catch(() => undefined);
  }
}
