/**
 * `loki-audit config` as text: the files read, each setting with its value and source, forward's
 * targets (masked), and whether each secret variable is set. Every value goes through safeText.
 */
import type { ChalkInstance } from 'chalk';
import { safeText } from '../formats/escape.js';

/** The shape printed (src/cli/config.ts `EffectiveConfig`). */
export interface ConfigView {
  files: ReadonlyArray<{ kind: string; path: string }>;
  settings: ReadonlyArray<{ key: string; value: unknown; source: string }>;
  targets: { source: string; list: ReadonlyArray<Record<string, unknown>> } | null;
  enterprise: ReadonlyArray<{ key: string; value: unknown; source: string }>;
  secrets: ReadonlyArray<{ env: string; set: boolean }>;
}

function show(v: unknown): string {
  if (v === null || v === undefined) return '-';
  return safeText(typeof v === 'string' ? v : JSON.stringify(v));
}

/** Rows as columns padded to the widest cell (the last column unpadded). */
function columns(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  '));
}

/** The text, ending in a newline. */
export function formatConfig(view: ConfigView, chalk: ChalkInstance): string {
  const out: string[] = [];
  out.push(chalk.bold('files read (later wins):'));
  if (view.files.length === 0) out.push('  none');
  for (const f of view.files) out.push(`  ${f.kind.padEnd(8)}  ${safeText(f.path)}`);
  out.push('');
  const rows = [
    ['setting', 'value', 'source'],
    ...view.settings.map((s) => [s.key, show(s.value), safeText(s.source)]),
    ...view.enterprise.map((s) => [s.key, show(s.value), safeText(s.source)]),
  ];
  const lines = columns(rows);
  out.push(chalk.bold(lines[0]), ...lines.slice(1).map((l) => (/ default$/.test(l) ? chalk.dim(l) : l)));
  if (view.targets) {
    out.push('', chalk.bold(`forward.targets (${safeText(view.targets.source)}):`));
    for (const [i, t] of view.targets.list.entries())
      out.push(
        `  [${i}] ${Object.entries(t)
          .map(([k, v]) => `${safeText(k)}: ${show(v)}`)
          .join(', ')}`,
      );
  }
  out.push('', chalk.bold('secrets (environment; values never shown):'));
  out.push(...columns(view.secrets.map((s) => [`  ${s.env}`, s.set ? 'set' : 'not set'])));
  return out.join('\n') + '\n';
}
