/**
 * Regenerates the bundled sample audit directory `examples/audit/` (deterministic):
 * five UTC days of writer-schema entries, the first day gzipped, the busy third day
 * size-rotated into pieces at 48 KiB. Run: `npm run sample`.
 */
import { generateSample } from './sample.js';

const dir = process.argv[2] ?? 'examples/audit';
const result = generateSample(dir, {
  seed: 20261116,
  startDate: '2026-11-16',
  perDay: [60, 80, 400, 90, 70],
  maxFileBytes: 48 * 1024,
  gzipDays: [0],
});
console.log(`wrote ${result.entries} entries in ${result.files.length} files to ${dir}; chain head ${result.head}`);
