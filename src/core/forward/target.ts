/**
 * The target contract: what a place entries are forwarded to (Loki, syslog) implements. The
 * pipeline (pipeline.ts) fills a target's batches, delivers them with retries and saves its
 * position; a target only encodes entries, sends a batch and says how that went.
 */
import type { ReadEntry } from '../read/entries.js';

/** What a target answered for a batch. */
export type DeliverResult = { ok: true } | { ok: false; retryable: boolean; error: string };

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
  /** Delivers a batch this target made (a retry sends the same bytes). */
  deliver(batch: TargetBatch): Promise<DeliverResult>;
  /** Optional: the batch is done with (delivered, dead-lettered or given up on); its memory can be reused. */
  dispose?(batch: TargetBatch): void;
  /** What `deliver` would send, for `--dry-run`: streams/labels or a sample message, and refusals. */
  preview(e: ReadEntry, into: TargetPreview): void;
  close(): Promise<void>;
}

/** Accumulated `--dry-run` view of one target. */
export interface TargetPreview {
  target: string;
  entries: number;
  /** Loki: label set → entries. */
  streams: Record<string, number>;
  /** Syslog: the first message that would be sent. */
  sample: string | null;
  /** Entries the target would refuse, by reason. */
  refused: Record<string, number>;
}
