/**
 * The command line that replays a dead-letter file (`forward --replay-dead-letter`), built from
 * the flags of the run that filled it, for the hint a run with refused entries prints: the same
 * targets and target settings, the file, and `--timestamp ingest` when Loki refused the entries
 * for their age. No secret is ever on the command line (they come from the environment or
 * files), so repeating the flags repeats none.
 */

/** The flags that choose targets and shape them (forward-targets.ts), in the order shown. */
const TARGET_FLAGS = [
  'config',
  'loki',
  'tenant',
  'label',
  'loki-username',
  'loki-password-file',
  'loki-token-file',
  'timestamp',
  'timeout',
  'batch-entries',
  'batch-bytes',
  'syslog',
  'framing',
  'ca',
  'cert',
  'key',
  'facility',
  'hostname',
] as const;

/** A word for a POSIX shell: as it is when it holds only safe characters, else single-quoted. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * `loki-audit forward --replay-dead-letter --dir DIR --dead-letter FILE` with the run's target
 * flags; `ingest`: with `--timestamp ingest` (in place of the run's `--timestamp`).
 */
export function replayCommand(
  flags: Partial<Record<(typeof TARGET_FLAGS)[number], string | number | string[] | undefined>>,
  dir: string,
  deadLetterPath: string,
  ingest: boolean,
): string {
  const words = ['loki-audit', 'forward', '--replay-dead-letter', '--dir', dir, '--dead-letter', deadLetterPath];
  for (const name of TARGET_FLAGS) {
    if (name === 'timestamp' && ingest) {
      words.push('--timestamp', 'ingest');
      continue;
    }
    const v = flags[name];
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) words.push(`--${name}`, String(one));
  }
  return words.map(shellWord).join(' ');
}
