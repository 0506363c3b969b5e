// Writes oclif.manifest.json after a build, so that the CLI imports only the command it runs
// (startup time and memory), as `oclif manifest` does.
import { Config } from '@oclif/core';
import { writeFileSync } from 'node:fs';

const config = await Config.load({ root: new URL('..', import.meta.url).pathname });
const plugin = config.plugins.get(config.pjson.name);
const manifest = { ...plugin.manifest, version: config.version };
writeFileSync(new URL('../oclif.manifest.json', import.meta.url), JSON.stringify(manifest, null, 2) + '\n');
console.log(`oclif.manifest.json: ${Object.keys(manifest.commands).length} commands`);
