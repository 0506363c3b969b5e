#!/usr/bin/env node
// oclif checks its own `engines.node` at import by loading the whole semver package (~20 ms of
// every start); npm already checks ours (package.json engines) at install.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';
const { loadCli } = await import('./load-cli.js');

await loadCli().exports.execute({ dir: import.meta.url });
