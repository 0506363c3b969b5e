/**
 * One `checkpoint` run: with `--new-key`, a new Ed25519 key pair written and nothing else;
 * otherwise the directory verified (src/core/chain/directory.ts), its head stated and signed with
 * the key of the flags or environment (src/cli/checkpoint-keys.ts,
 * src/core/chain/anchors/checkpoints.ts), and stored in a directory or pushed to Loki
 * (src/cli/checkpoint-store.ts), the metrics file written (--metrics-file, also after an error)
 * and one line on stdout (src/output/checkpoint.ts). A chain not intact is not signed: exit 1.
 */
import type { ChalkInstance } from 'chalk';
import type { Checkpoint } from '../core/chain/anchors/checkpoints.js';
import { headStatement, signCheckpoint, storeCheckpoint, writeKeyPair } from '../core/chain/anchors/checkpoints.js';
import { verifyDirectory } from '../core/chain/directory.js';
import { DiskFullError } from '../core/runtime/safe-files.js';
import { formatCheckpointStored, formatKeyPairWritten } from '../output/checkpoint.js';
import { checkpointMetrics } from '../output/metrics.js';
import { verdictLine } from '../output/verify.js';
import { signingKeyFromFlags } from './checkpoint-keys.js';
import { lokiStoreUrl, pushLokiCheckpoint } from './checkpoint-store.js';
import { Exit, judgeVerify } from './exit-codes.js';
import { MetricsRun, writeMetricsAfterError } from './metrics-flags.js';
import { fail } from './usage-errors.js';

/** The checkpoint flags read here. */
export interface CheckpointRunFlags {
  store?: string;
  tenant?: string;
  key?: string;
  'hmac-key-file'?: string;
  'new-key'?: string;
  'metrics-file'?: string;
  'max-line-bytes': number;
}

/** What `checkpoint --json` prints: the checkpoint stored, or with `--new-key` the key pair's paths. */
export type CheckpointResult = Checkpoint | { privateKey: string; publicKey: string };

/** The run's surroundings: `--json` (then nothing is printed here), and the colours of the verdict line. */
export interface CheckpointRunContext {
  json: boolean;
  chalk: ChalkInstance;
}

/**
 * A checkpoint run. {@link run} signs and stores (or writes a key pair); {@link afterError} writes
 * the metrics file of a run that ended in an error (nothing signed).
 */
export class CheckpointRun {
  /** With --metrics-file: this run's file (written at the end, on success or error). */
  private metrics: MetricsRun | null = null;

  constructor(
    private readonly flags: CheckpointRunFlags,
    private readonly context: CheckpointRunContext,
  ) {}

  /**
   * Signs the chain head of `dir` into `--store` (or writes `--new-key`'s pair).
   * @throws CLIError: usage (2) without --store, for a key pair that cannot be written or a key
   *   that cannot be read; notIntact (1) for a chain not intact, after its verdict line on stderr;
   *   diskFull (19); what {@link pushLokiCheckpoint} throws.
   */
  async run(dir: string): Promise<CheckpointResult> {
    const { flags } = this;
    if (flags['new-key']) {
      const pair = await writeKeyPair(flags['new-key']).catch((err: Error) =>
        fail(`cannot write the key pair: ${err.message}`, err instanceof DiskFullError ? Exit.diskFull : Exit.usage),
      );
      if (!this.context.json) process.stdout.write(formatKeyPairWritten(pair));
      return pair;
    }
    if (flags['metrics-file']) this.metrics = new MetricsRun(flags['metrics-file'], 'checkpoint', dir);
    if (!flags.store) fail('--store DIR is required', Exit.usage);
    const key = signingKeyFromFlags(flags);
    const report = await verifyDirectory(dir, { maxLineBytes: flags['max-line-bytes'] });
    const statement = report.verdict === 'intact' ? headStatement(report, new Date()) : null;
    if (!statement) {
      process.stderr.write(verdictLine(judgeVerify(report), this.context.chalk) + '\n');
      fail('the chain is not intact: nothing was signed', Exit.notIntact, [`run: loki-audit verify --dir ${dir}`]);
    }
    const checkpoint = signCheckpoint(statement, key);
    const path = lokiStoreUrl(flags.store)
      ? await pushLokiCheckpoint(flags.store, checkpoint, flags.tenant)
      : storeCheckpoint(flags.store, checkpoint);
    this.metrics?.write(
      checkpointMetrics(
        { store: flags.store, time: statement.time, entries: statement.entries },
        this.metrics.info(Exit.ok),
      ),
    );
    if (!this.context.json) process.stdout.write(formatCheckpointStored(path, checkpoint));
    return checkpoint;
  }

  /** A run that ended in an error (nothing signed) still writes its metrics file, with its exit code. */
  afterError(err: Error | undefined): void {
    writeMetricsAfterError(this.metrics, err, (info) => checkpointMetrics(null, info));
  }
}
