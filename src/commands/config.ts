import { AuditCommand } from '../cli/base-command.js';
import { effectiveConfig, type EffectiveConfig } from '../cli/config.js';
import { exitCodesHelp } from '../cli/exit-codes.js';
import { makeChalk } from '../output/text.js';
import { formatConfig } from '../output/config.js';

export default class ConfigCommand extends AuditCommand {
  static override summary = 'Show the effective configuration: each setting, its value and where it came from.';

  static override description =
    `Reads the config files as every command does (/etc/loki-audit/config.yaml, ` +
    `then $XDG_CONFIG_HOME/loki-audit/config.yaml or ~/.config/loki-audit/config.yaml, then the nearest ` +
    `.loki/config.yaml, then --config FILE or $LOKI_AUDIT_CONFIG; then the environment; flags win) and ` +
    `prints each setting with its source: a file and line, env NAME, flag, or default (the command's own). ` +
    `Secrets are never shown: the secret variables are reported as set or not, a target's basic auth user ` +
    `is masked, and files named by *_file keys are not read.

${exitCodesHelp('config')}`;

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --config /etc/loki-audit/fleet.yaml --json',
  ];

  static override enableJsonFlag = true;

  async run(): Promise<EffectiveConfig> {
    const { flags } = await this.parse(ConfigCommand);
    const view = effectiveConfig(this.configuration, this.givenFlags);
    if (!this.jsonEnabled()) this.out(formatConfig(view, makeChalk(flags.color)));
    return view;
  }
}
