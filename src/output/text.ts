/**
 * Text for terminals and pipes: colour, short hashes, tab-separated lines. Every value from a
 * log goes through `safeText` (src/formats/escape.ts) before it reaches a terminal.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { safeText } from '../formats/escape.js';

/** `--color` values, as in ripgrep and journalctl. */
export type ColorMode = 'auto' | 'always' | 'never';

/**
 * A chalk instance for `stream`: colour only on a TTY in `auto`, never when `NO_COLOR` is set
 * (https://no-color.org) unless `--color always`.
 */
export function makeChalk(
  mode: ColorMode,
  stream: { isTTY?: boolean } = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): ChalkInstance {
  let on: boolean;
  if (mode === 'always') on = true;
  else if (mode === 'never') on = false;
  else on = stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
  return new Chalk({ level: on ? 1 : 0 });
}

/** Shortens a hash for display: first 12 hex digits and an ellipsis. */
export function shortHash(h: string | null | undefined): string {
  if (!h) return '-';
  return h.length > 16 ? h.slice(0, 12) + '…' : h;
}

/** A tab-separated line of values made safe for pipes: tabs and newlines in values are escaped. */
export function tsv(values: Array<string | number | null | undefined>): string {
  return values.map((v) => (v === null || v === undefined ? '-' : safeText(String(v)))).join('\t');
}
