/**
 * The body of a batch a network target made, for `deliver`: the batch is sealed (its CPU work,
 * compression, starts if it has not), then its compressed body awaited. Shared by the Loki and
 * Splunk HEC targets, whose batches keep their body as `Promise<ByteList>` (null: empty batch).
 */
import type { DeliverResult } from '../core/forward/target.js';
import type { ByteList } from '../core/runtime/bytelist.js';

/** A batch that compresses its body when sealed. */
export interface SealableBatch {
  seal(): void;
  body: Promise<ByteList> | null;
}

/**
 * The sealed batch's body, or what `deliver` returns instead: `{ok: true}` for an empty batch
 * (nothing to send), a `target` refusal when compression failed (sending again cannot help).
 * Never throws.
 */
export async function sealedBody(batch: SealableBatch): Promise<ByteList | DeliverResult> {
  batch.seal();
  if (!batch.body) return { ok: true };
  try {
    return await batch.body;
  } catch (err) {
    return {
      ok: false,
      retryable: false,
      refusal: 'target',
      error: `cannot compress the batch: ${(err as Error).message}`,
    };
  }
}
