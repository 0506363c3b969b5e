/**
 * Saving where each target stands, so that a restart re-sends at most the batch in flight: a
 * batch's position is saved only once the target acknowledged it and every batch before it, in
 * the order the batches were closed, one save at a time. A position saved early would skip the
 * entries of a batch still in flight if the run died before it was acknowledged.
 */
import type { Position, StateFile } from './positions.js';
import { saveState } from './positions.js';

/** The state file of a run, written whole on each save, one write after the other (its targets share it). */
export class StateWriter {
  private last: Promise<void> = Promise.resolve();
  /** The write asked for and not started yet: a save meanwhile joins it (it writes the state as it is then). */
  private queued: Promise<void> | null = null;

  constructor(
    private readonly path: string,
    private readonly state: StateFile,
  ) {}

  /**
   * Sets `target`'s position and writes the file once the writes asked for before are done; saves
   * asked for while one is being written share the next write.
   * @throws (rejects) StateError when it cannot be written; every later write then rejects too.
   */
  save(target: string, p: Position): Promise<void> {
    this.state.targets[target] = p;
    return this.flush();
  }

  /**
   * Writes the file as it is now (what is not a position changed: the pending checkpoint,
   * checkpoints.ts), once the writes asked for before are done.
   * @throws (rejects) as {@link save}.
   */
  flush(): Promise<void> {
    if (this.queued) return this.queued;
    const write = this.last.then(() => {
      this.queued = null;
      return saveState(this.path, this.state);
    });
    this.queued = this.last = write;
    return write;
  }

  /** Resolves once every write asked for so far is done (rejects if one failed). */
  settled(): Promise<void> {
    return this.last;
  }
}

interface Acknowledged {
  position: Position | null;
  done: (saved: Position | null) => void;
  failed: (err: unknown) => void;
}

/** One target's positions, saved in the order of their batches whatever the order of acknowledgements. */
export class PositionSaver {
  private reserved = 0;
  /** The first slot not yet handed to `write`: every slot before it is saved or being saved. */
  private next = 0;
  private readonly acknowledged = new Map<number, Acknowledged>();
  private saving: Promise<void> = Promise.resolve();

  /** @param write saves one position (e.g. {@link StateWriter.save}); called in slot order, one at a time. */
  constructor(private readonly write: (p: Position) => Promise<void>) {}

  /** A slot in the order of saves, taken when a batch is closed. */
  reserve(): number {
    return this.reserved++;
  }

  /**
   * The batch of `slot` is acknowledged and its target now stands at `position` (null: nothing
   * new to save). Resolves with the position as saved (`at`: now), or null, once it and every
   * slot before it are saved; a slot never acknowledged holds back every later one.
   * @throws Error for a slot not reserved or acknowledged twice (a bug in the caller).
   * @throws (rejects) what `write` throws; a failed save fails every later one.
   */
  acknowledge(slot: number, position: Position | null): Promise<Position | null> {
    if (slot < this.next || slot >= this.reserved || this.acknowledged.has(slot))
      throw new Error(`position slot ${slot} is not reserved or already acknowledged`);
    const saved = position && { ...position, at: new Date().toISOString() };
    return new Promise((done, failed) => {
      this.acknowledged.set(slot, { position: saved, done, failed });
      for (let a = this.acknowledged.get(this.next); a; a = this.acknowledged.get(this.next)) {
        this.acknowledged.delete(this.next++);
        const { position: p, done: ok, failed: ko } = a;
        this.saving = this.saving.then(() => (p ? this.write(p) : undefined));
        this.saving.then(() => ok(p), ko);
      }
    });
  }
}
