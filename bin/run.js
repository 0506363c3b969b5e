#!/usr/bin/env node
// oclif checks its own `engines.node` at import by loading the whole semver package (~20 ms of
// every start); npm already checks ours (package.json engines) at install.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';
const { loadCli, BUNDLE } = await import('./load-cli.js');

let cli;
try {
  cli = loadCli();
} catch (err) {
  if (err?.code !== 'ENOENT' || err.path !== BUNDLE) throw err;
  // A clone that was never built (npm's `prepare` builds it at `npm ci`, `npm install -g .`).
  process.stderr.write(
    `loki-audit: error: not built: ${BUNDLE} is missing\nloki-audit: hint: in ` +
      `${new URL('..', import.meta.url).pathname}: npm ci (or npm run build)\n`,
  );
  process.exit(3);
}
await cli.exports.execute({ dir: import.meta.url });
