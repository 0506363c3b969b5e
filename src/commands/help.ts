import { Args, Command, loadHelpClass } from '@oclif/core';
import { Exit } from '../cli/exit-codes.js';
import { unknownCommand, writeError } from '../cli/usage-errors.js';

export default class Help extends Command {
  static override summary = 'Show the help of loki-audit or of one of its commands (as --help and -h do).';

  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help verify'];

  static override args = { command: Args.string({ description: 'The command whose help to show.' }) };

  static override strict = false;

  async run(): Promise<void> {
    const { argv } = await this.parse(Help);
    const words = (argv as string[]).filter((a) => !a.startsWith('-'));
    const id = words.join(':');
    if (id && !this.config.findCommand(id) && !this.config.findTopic(id)) {
      const { message, hints } = unknownCommand(words[0], this.config);
      writeError(message, hints);
      this.exit(Exit.usage);
    }
    const HelpClass = await loadHelpClass(this.config);
    await new HelpClass(this.config, this.config.pjson.oclif.helpOptions).showHelp(words);
  }
}
