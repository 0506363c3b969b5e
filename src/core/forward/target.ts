/**
 * The target contract: what a place entries are forwarded to (Loki, syslog) implements. The
 * pipeline (pipeline.ts) fills a target's batches, delivers them with retries and saves its
 * position; a target only encodes entries, sends a batch and says how that went.
 */
import type { ReadEntry } from '../read/entries.js';

/** What a target answered for a batch. */
export type DeliverResult =
  | { ok: true }
  /** A passing failure (Loki 429, 5xx, network; a broken syslog connection): sent again after a backoff. */
  | { ok: false; retryable: true; error: string }
  /** Refused: `refusal` says whether the entries are at fault (dead-letter them) or the target (stop). */
  | {
      ok: false;
      retryable: false;
      refusal: Refusal;
      /** The target's own words (Loki's message): the dead-letter reason, or what the run stops with. */
      error: string;
      /** With `entries`: at least this many entries of the batch are refused (all: no need to split). */
      refusedEntries?: number;
    };

/**
 * Why a target refused a batch, which decides what becomes of it (docs/forward.md, "Refused").
 * Only `entries` puts entries in the dead-letter file; every other refusal keeps the position.
 */
export type Refusal =
  /**
   * Entries of the batch are refused for good (Loki 400 "timestamp too old", "line too long",
   * "invalid labels"): the batch is split until each refused entry is alone, and that one is
   * dead-lettered with the target's reason; the others are delivered.
   */
  | 'entries'
  /**
   * The body is over the receiver's size limit (HTTP 413): later batches get smaller and this one
   * is split; a lone entry too large for a target that took smaller pushes is refused as `entries`.
   */
  | 'too-large'
  /** The target refuses the credentials (HTTP 401, 403). */
  | 'credentials'
  /** Nothing takes pushes at this URL (HTTP 404, a redirect): the URL's path is wrong. */
  | 'path'
  /** Any other refusal of every batch, not about its entries (a 4xx Loki does not give for an entry). */
  | 'target'
  /**
   * The server's TLS certificate does not verify (unknown CA, wrong host name, expired): a
   * configuration error; stops the target even with `--follow` (retrying cannot fix it).
   */
  | 'tls-trust';

/** The refusals that stop a run (the target's fault, not the entries'): everything but `entries`. */
export type TargetRefusal = Exclude<Refusal, 'entries'>;

/**
 * A batch being filled for one target. Targets encode each entry when it is added and keep
 * bytes, not the entry: a batch outlives several young-generation collections, and entries held
 * that long are promoted and pile up as old-generation garbage (see bytelist.ts).
 */
export interface TargetBatch {
  /** Takes an entry; returns why the target refuses it for good (it is dead-lettered), or null. */
  add(e: ReadEntry): string | null;
  /** Entries taken (not refused). */
  readonly size: number;
  /**
   * No more entries: the CPU work of sending (compression) may start now, before the previous batch is
   * acknowledged.
   */
  seal(): void;
}

/** A place entries go. */
export interface ForwardTarget {
  /** Stable identifier, the key of its position in the state file (no secrets in it). */
  readonly id: string;
  /** Largest batch, in entries and bytes. */
  readonly maxBatchEntries: number;
  readonly maxBatchBytes: number;
  /** A new, empty batch. */
  batch(): TargetBatch;
  /**
   * Optional: the target's records carry each entry's chain predecessor (`ReadEntry.prevHash`,
   * core/chain/predecessors.ts), so the pipeline tracks it for every line read.
   */
  readonly predecessors?: boolean;
  /**
   * Whether `deliver` resolving means the receiver acknowledged every entry (Loki's 2xx, RELP's
   * `rsp 200`), or only that they were sent (syslog over UDP, TCP, TLS: no acknowledgement).
   */
  readonly acknowledges: boolean;
  /** Delivers a batch this target made (a retry sends the same bytes). */
  deliver(batch: TargetBatch): Promise<DeliverResult>;
  /**
   * Optional: entries `from` to `to` (0-based, end excluded, in the order they were added) of a
   * batch this target made or sliced, as a batch of their own, encoded as they were in it (same
   * timestamps: a receiver that stored some of them drops the repeats). Used to find the entries
   * of a refused batch; without it, an `entries` refusal dead-letters the whole batch.
   */
  slice?(batch: TargetBatch, from: number, to: number): TargetBatch;
  /** Optional: the batch is done with (delivered, dead-lettered or given up on); its memory can be reused. */
  dispose?(batch: TargetBatch): void;
  /**
   * For `--dry-run`: records into `into` what `deliver` would send (streams/labels or a sample
   * message) or why the target would refuse `e`; returns whether `e` would be sent.
   */
  preview(e: ReadEntry, into: TargetPreview): boolean;
  close(): Promise<void>;
}

/** Accumulated `--dry-run` view of one target. */
export interface TargetPreview {
  target: string;
  /** Entries that would be sent (those the target would refuse are not counted here). */
  entries: number;
  /** Loki: label set → entries. */
  streams: Record<string, number>;
  /** Syslog: the first message that would be sent. */
  sample: string | null;
  /** Entries the target would refuse, by reason (a dry run sends nothing, so nothing is refused). */
  wouldBeRefused: Record<string, number>;
}
