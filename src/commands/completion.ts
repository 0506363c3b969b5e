import { Args } from '@oclif/core';
import { LokiCommand } from '../cli/base-command.js';
import { bashCompletion, completionCommands, zshCompletion } from '../cli/completion.js';

export default class Completion extends LokiCommand {
  static override summary = 'Print the shell completion script for bash or zsh.';

  static override description =
    `Completes commands, flags, the values of flags with a fixed set (--color, ` +
    `--format, --stream …), directories for --dir and the directory argument, and files for the flags that ` +
    `take a file. Generated from the commands' own definitions.

bash: source <(loki-audit completion bash) in ~/.bashrc, or save it as ` +
    `~/.local/share/bash-completion/completions/loki-audit.
zsh:  source <(loki-audit completion zsh) in ~/.zshrc (after compinit), or save it as _loki-audit in a ` +
    `directory of $fpath.`;

  static override examples = [
    'source <(<%= config.bin %> <%= command.id %> bash)',
    '<%= config.bin %> <%= command.id %> bash > ~/.local/share/bash-completion/completions/<%= config.bin %>',
    '<%= config.bin %> <%= command.id %> zsh > "${fpath[1]}/_<%= config.bin %>"',
  ];

  static override args = {
    shell: Args.string({ options: ['bash', 'zsh'], required: true, description: 'The shell.', ignoreStdin: true }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(Completion);
    const commands = completionCommands(this.config.commands);
    const script = args.shell === 'zsh' ? zshCompletion : bashCompletion;
    process.stdout.write(script(this.config.bin, commands));
  }
}
