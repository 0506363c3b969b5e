import { Flags } from '@oclif/core';
import { AuditCommand } from '../base.js';
import type { DirectoryReport } from '../core/verify.js';
import { verifyDirectory, verifyStream } from '../core/verify.js';
import { formatVerifyReport } from '../formats/verify.js';

export default class Verify extends AuditCommand {
  static override summary = 'Verify the hash chain of every audit file and say what any break means.';

  static override description = `Recomputes every entry's chain hash exactly as Loki Mode's writer does (CPython json.dumps with sort_keys), across days and size-rotated pieces in name order, and classifies each break: tampered, unreadable line, unreadable file, history starting mid-chain, writer fork, incomplete last line, writer quirk.

Exit codes (stable, for cron): 0 intact, 1 tampered (or anything with --strict), 2 usage error, 3 directory missing/empty or file unreadable, 4 incomplete last line, 5 writer fork, 6 history starts mid-chain, 7 writer quirk, 8 unreadable line. See docs/verify.md.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --dir ~/.loki/dashboard/audit',
    '<%= config.bin %> <%= command.id %> --quiet        # cron: silent when intact',
    '<%= config.bin %> <%= command.id %> --strict --json',
    '<%= config.bin %> <%= command.id %> --stdin < exported.jsonl',
  ];

  static override enableJsonFlag = true;

  static override flags = {
    quiet: Flags.boolean({ char: 'q', summary: 'Print nothing when the chain is intact; only problems otherwise.' }),
    strict: Flags.boolean({ summary: 'Fail (exit 1) on anything not intact: warnings, missing days, pre-integrity entries, foreign or rewritten files.' }),
    stdin: Flags.boolean({ summary: 'Verify one chain read from standard input (e.g. search -o raw, zcat FILE) instead of a directory.' }),
    'start-hash': Flags.string({
      summary: 'With --stdin: the hash the first entry chains from (default: the genesis hash).',
      dependsOn: ['stdin'],
    }),
  };

  async run(): Promise<DirectoryReport> {
    const { flags } = await this.parse(Verify);
    const dir = this.setup(flags);
    const startHash = flags['start-hash'];
    if (startHash !== undefined && !/^[0-9a-f]{64}$/.test(startHash)) this.fail('--start-hash must be 64 lowercase hex digits', 2);
    const options = { strict: flags.strict, maxLineBytes: flags['max-line-bytes'] };
    const report = flags.stdin
      ? await verifyStream(process.stdin, '<stdin>', { ...options, startHash })
      : await verifyDirectory(dir, options);
    process.exitCode = report.exitCode;
    if (!this.jsonEnabled()) this.out(formatVerifyReport(report, this.chalk, flags.quiet));
    return report;
  }
}
