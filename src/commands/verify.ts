import { Flags } from '@oclif/core';
import { AuditCommand } from '../cli/base-command.js';
import type { DirectoryReport } from '../core/chain/directory.js';
import { readFileSync } from 'node:fs';
import type { Finding, Note } from '../core/chain/sequential/verifier.js';
import { discoverAuditFiles } from '../core/read/files.js';
import { checkSignature, CheckpointError, loadKey, readCheckpoints } from '../core/chain/anchors/checkpoints.js';
import { VerifyStateError } from '../core/chain/incremental.js';
import { verifyDirectory, verifyStream, type Anchor, type VerifyProgress } from '../core/chain/directory.js';
import { formatVerifyReport } from '../output/verify.js';
import { ProgressLine, progressWanted } from '../output/progress.js';

export default class Verify extends AuditCommand {
  static override summary = 'Verify the hash chain of every audit file and say what any break means.';

  static override description = `Recomputes every entry's chain hash exactly as Loki Mode's writer does (CPython json.dumps with sort_keys), across days and size-rotated pieces in name order, and classifies each break: tampered, unreadable line, unreadable file, history starting mid-chain, writer fork, incomplete last line, writer quirk.

With --checkpoints (signed heads from \`loki-audit checkpoint\`) or --expect-head, heads recorded outside the log must still be in the chain: this catches removed newest entries, deleted newest files and rewrites that recompute every later hash, which no chain alone can see.

Exit codes (stable, for cron): 0 intact, 1 tampered (or anything with --strict), 2 usage error, 3 directory missing/empty or file unreadable, 4 incomplete last line, 5 writer fork, 6 history starts mid-chain, 7 writer quirk, 8 unreadable line, 12 anchor mismatch (a checkpointed or expected head is gone, or a checkpoint signature is invalid), 13 the --state file is corrupt or belongs to another directory. See docs/verify.md.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --dir ~/.loki/dashboard/audit',
    '<%= config.bin %> <%= command.id %> --quiet        # cron: silent when intact',
    '<%= config.bin %> <%= command.id %> --strict --json',
    '<%= config.bin %> <%= command.id %> --stdin < exported.jsonl',
  ];

  static override enableJsonFlag = true;

  static override flags = {
    quiet: Flags.boolean({ char: 'q', summary: 'Print nothing when the chain is intact; only problems otherwise.' }),
    strict: Flags.boolean({
      summary:
        'Fail (exit 1) on anything not intact: warnings, missing days, pre-integrity entries, foreign or rewritten files.',
    }),
    'retention-files': Flags.integer({
      min: 1,
      summary:
        "Loki Mode's LOKI_AUDIT_MAX_FILES (default: that variable): oldest files gone while at most N+1 remain is retention, a note, not an alarm.",
    }),
    state: Flags.string({
      summary:
        'Incremental (cron): remember what was verified in FILE; next time check the remembered tails and verify only new entries.',
    }),
    checkpoints: Flags.string({
      summary: 'Checkpoint store (from `loki-audit checkpoint`): every checkpointed head must still be in the chain.',
      helpGroup: 'ANCHORS',
    }),
    'public-key': Flags.string({
      summary: 'Ed25519 public key (PEM) that signed the checkpoints.',
      helpGroup: 'ANCHORS',
    }),
    'hmac-key-file': Flags.string({
      summary: 'Shared secret file, for checkpoints signed with HMAC-SHA256.',
      helpGroup: 'ANCHORS',
    }),
    'expect-head': Flags.string({
      multiple: true,
      summary: 'A head hash recorded elsewhere (a ticket, a Loki query, another host) that must be in the chain.',
      helpGroup: 'ANCHORS',
    }),
    'against-loki': Flags.string({
      summary:
        'Loki base URL holding the entries forwarded by `loki-audit forward`: entries there but not here were removed or changed here.',
      helpGroup: 'ANCHORS',
    }),
    tenant: Flags.string({
      summary:
        'With --against-loki: tenant (X-Scope-OrgID). Credentials from LOKI_AUDIT_LOKI_TOKEN, or LOKI_AUDIT_LOKI_USERNAME/PASSWORD.',
      helpGroup: 'ANCHORS',
    }),
    'loki-selector': Flags.string({
      summary: 'With --against-loki: stream selector (default {service_name="loki-audit"}).',
      helpGroup: 'ANCHORS',
    }),
    jobs: Flags.integer({
      min: 1,
      max: 64,
      summary: 'Threads that verify files in parallel (default: the cores, at most 4; 1 = this thread only).',
    }),
    stdin: Flags.boolean({
      summary: 'Verify one chain read from standard input (e.g. search -o raw, zcat FILE) instead of a directory.',
    }),
    'start-hash': Flags.string({
      summary: 'With --stdin: the hash the first entry chains from (default: the genesis hash).',
      dependsOn: ['stdin'],
    }),
  };

  async run(): Promise<DirectoryReport> {
    const { flags } = await this.parse(Verify);
    const dir = this.setup(flags);
    const startHash = flags['start-hash'];
    if (startHash !== undefined && !/^[0-9a-f]{64}$/.test(startHash))
      this.fail('--start-hash must be 64 lowercase hex digits', 2);
    for (const h of flags['expect-head'] ?? [])
      if (!/^[0-9a-f]{64}$/.test(h)) this.fail(`--expect-head ${h}: must be 64 lowercase hex digits`, 2);
    const anchors: Anchor[] = (flags['expect-head'] ?? []).map((hash) => ({ hash, source: '--expect-head' }));
    const anchorFindings: Finding[] = [];
    if (flags.checkpoints) {
      const keyFile = flags['public-key'] ?? flags['hmac-key-file'];
      if (!keyFile) this.fail('--checkpoints needs --public-key FILE (Ed25519) or --hmac-key-file FILE', 2);
      let key;
      let stored;
      try {
        key = loadKey(readFileSync(keyFile), !flags['public-key'], false);
        stored = readCheckpoints(flags.checkpoints);
      } catch (err) {
        if (err instanceof CheckpointError || (err as NodeJS.ErrnoException).code) this.fail((err as Error).message, 2);
        throw err;
      }
      for (const { path, checkpoint } of stored) {
        const s = checkpoint.statement;
        if (!checkSignature(checkpoint, key)) {
          anchorFindings.push({
            file: s.file ?? '-',
            line: s.line ?? 0,
            offset: -1,
            class: 'anchor-mismatch',
            reason: 'checkpoint-signature',
            message: `checkpoint ${path} has no valid signature for this key: forged or altered`,
          });
          continue;
        }
        anchors.push({
          hash: s.head,
          source: `checkpoint ${path}`,
          where: { file: s.file, line: s.line, time: s.time },
        });
      }
    }
    const extraNotes: Note[] = [];
    if (flags['against-loki']) {
      // Loaded only here: the Loki client and the config reader are not needed by a plain verify.
      const { compareWithLoki, WitnessError } = await import('../core/chain/anchors/witness.js');
      const { ForwardConfigError, lokiAuth } = await import('../cli/forward-targets.js');
      try {
        const found = await discoverAuditFiles(dir);
        const w = await compareWithLoki(
          found.files,
          {
            url: flags['against-loki'],
            tenant: flags.tenant,
            auth: lokiAuth(undefined, undefined, undefined, process.env),
            selector: flags['loki-selector'],
          },
          flags['max-line-bytes'],
        );
        anchorFindings.push(...w.findings);
        extraNotes.push(...w.notes);
      } catch (err) {
        if (err instanceof WitnessError || err instanceof ForwardConfigError) this.fail(err.message, 3);
        throw err;
      }
    }
    const envRetention =
      process.env.LOKI_AUDIT_MAX_FILES && /^\d+$/.test(process.env.LOKI_AUDIT_MAX_FILES)
        ? Number(process.env.LOKI_AUDIT_MAX_FILES)
        : undefined;
    // Progress on a terminal only: files done, MB/s, ETA (never when piped, --quiet or --json).
    const progress = progressWanted({ quiet: flags.quiet, json: this.jsonEnabled(), resultsAtEnd: true })
      ? new ProgressLine('verifying')
      : null;
    const onProgress = progress ? (p: VerifyProgress) => progress.update(p, true) : undefined;
    const options = {
      onProgress,
      strict: flags.strict,
      maxLineBytes: flags['max-line-bytes'],
      anchors,
      anchorFindings,
      extraNotes,
      statePath: flags.state,
      retentionFiles: flags['retention-files'] ?? envRetention,
      jobs: flags.jobs,
    };
    const report = flags.stdin
      ? await verifyStream(process.stdin, '<stdin>', { ...options, startHash })
      : await verifyDirectory(dir, options).catch((err: unknown) => {
          if (err instanceof VerifyStateError) this.fail(err.message, 13);
          throw err;
        });
    progress?.clear();
    process.exitCode = report.exitCode;
    if (!this.jsonEnabled()) this.out(formatVerifyReport(report, this.chalk, flags.quiet));
    return report;
  }
}
