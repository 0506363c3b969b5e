/**
 * Heap limits for a process that streams a large directory (forward, export, search): a cap on V8's
 * young generation, and a lower growth factor for the old one.
 *
 * V8 doubles the new space (two semi-spaces, up to 16 MB each on 64-bit) each time the objects
 * that survived scavenges since the last growth add up to its size; a process that parses tens
 * of thousands of lines a second for more than a few seconds always ends at the maximum: 32 MB
 * of RSS for objects that die within a millisecond. Node sets that maximum only at start-up
 * (`--max-semi-space-size`); V8 reads `--semi-space-growth-factor` each time it grows the new
 * space, so setting it to 1 at run time (`v8.setFlagsFromString`, Node's documented API) stops
 * further growth. For forward at full speed, 4 MB semi-spaces were as fast as the default and
 * smaller ones slower (more promotion); see bench/results/decisions.md.
 *
 * The old generation: V8 lets it grow to a multiple (up to 4×) of what survived the last full
 * collection before the next one, mostly garbage for a streaming process.
 * `--heap-growing-percent` (also read at each collection) sets that multiple: at 50%, forward's
 * heap peaked lower at the same speed.
 *
 * Node's documentation warns that V8 flags changed after start-up may behave unpredictably;
 * these two only size the collector's spaces, read at each growth or collection (V8 11,
 * Node 20). Were a later V8 to ignore them, memory would change, never behaviour; the test
 * (bench/heap-check.ts) would tell.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/**
 * Sets the old generation's growth to `oldGrowthPercent`; lets the new space grow until it
 * reaches `maxNewSpaceMb` (both semi-spaces), then stops its growth, for the rest of the
 * process. Checks every `everyMs` with an unref'd timer (a process is never kept alive by it).
 * Returns a function that stops checking.
 */
export function constrainHeap(maxNewSpaceMb = 8, oldGrowthPercent = 50, everyMs = 100): () => void {
  setFlagsFromString(`--heap-growing-percent=${oldGrowthPercent}`);
  const newSpaceMb = () =>
    (getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) / 1048576;
  const check = (): boolean => {
    if (newSpaceMb() < maxNewSpaceMb) return false;
    setFlagsFromString('--semi-space-growth-factor=1');
    return true;
  };
  if (check()) return () => undefined;
  const timer = setInterval(() => {
    if (check()) clearInterval(timer);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
