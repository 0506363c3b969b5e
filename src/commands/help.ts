import { Args, loadHelpClass } from '@oclif/core';
import { LokiCommand } from '../cli/base-command.js';
import { Exit } from '../cli/exit-codes.js';
import { unknownCommand } from '../cli/usage-errors.js';

export default class Help extends LokiCommand {
  static override summary = 'Show the help of loki-audit or of one of its commands (as --help and -h do).';

  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help verify'];

  static override args = {
    command: Args.string({ description: 'The command whose help to show.', ignoreStdin: true }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(Help);
    if (args.command && !this.config.findCommand(args.command)) {
      const { message, hints } = unknownCommand(args.command, this.config);
      this.fail(message, Exit.usage, hints);
    }
    const HelpClass = await loadHelpClass(this.config);
    await new HelpClass(this.config, this.config.pjson.oclif.helpOptions).showHelp(args.command ? [args.command] : []);
  }
}
