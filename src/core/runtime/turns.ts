/**
 * Turns of the event loop for a loop whose awaits all settle as microtasks (synchronous reads
 * behind an async iterator): such a loop never lets timers, I/O callbacks or worker messages
 * in until it ends. Work that runs beside it (summary's chain check on workers, forward's batch
 * in flight: its gzip, its request, its position save) needs a turn every few milliseconds.
 */
export class EventLoopTurns {
  private last = performance.now();

  /** @param everyMs the longest stretch without a turn, in milliseconds */
  constructor(private readonly everyMs: number) {}

  /**
   * Resolves after a turn of the event loop (`setImmediate`) when `everyMs` have passed since the
   * last one; otherwise returns null, so that the caller awaits nothing.
   */
  due(): Promise<void> | null {
    if (performance.now() - this.last <= this.everyMs) return null;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        this.last = performance.now();
        resolve();
      }),
    );
  }
}
