/**
 * Signed checkpoints of the chain head, kept outside the audit directory.
 *
 * A hash chain cannot see its newest entries removed, its newest files deleted, or a rewrite
 * that recomputes every later hash (spec §4). A checkpoint is a small signed statement — which
 * directory, the head hash, the file, line and byte offset of the head entry, how many entries,
 * when — written somewhere an attacker on the host cannot rewrite (another host, WORM storage,
 * a ticket). `verify --checkpoints` then proves each checkpointed head is still in the chain,
 * at its place: tail truncation, deleted newest files and recomputed rewrites before a
 * checkpoint all fail that proof. Like transparency-log checkpoints (C2SP tlog-checkpoint)
 * and CloudTrail's signed digests, for plain JSONL files.
 *
 * Signatures: Ed25519 (node:crypto; a public key alone verifies) or HMAC-SHA256 (a shared
 * secret). The signed bytes are the statement's JSON with keys in a fixed order.
 */
import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  timingSafeEqual,
  verify as verifySig,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createFile, FileExistsError, refuseUnsafeTarget } from '../../runtime/safe-files.js';
import type { DirectoryReport } from '../directory.js';
import type { Finding } from '../report.js';
import type { HeadAnchor } from './heads.js';

/** What a checkpoint states. */
export interface CheckpointStatement {
  format: 'loki-audit-checkpoint/1';
  /** Absolute path of the audit directory when signed. */
  dir: string;
  head: string;
  file: string;
  line: number;
  offset: number;
  entries: number;
  /** ISO 8601 time of signing. */
  time: string;
}

export interface Checkpoint {
  statement: CheckpointStatement;
  signature: { alg: 'ed25519' | 'hmac-sha256'; keyId: string; value: string };
}

/** A key that signs or verifies checkpoints. */
export type CheckpointKey = { alg: 'ed25519'; key: KeyObject } | { alg: 'hmac-sha256'; secret: Buffer };

/** A checkpoint that cannot be trusted or read. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

const FIELDS: Array<keyof CheckpointStatement> = ['format', 'dir', 'head', 'file', 'line', 'offset', 'entries', 'time'];

/** The signed bytes: the statement's JSON in a fixed key order. */
function statementBytes(s: CheckpointStatement): Buffer {
  return Buffer.from(JSON.stringify(Object.fromEntries(FIELDS.map((k) => [k, s[k]]))));
}

/** A short identifier of a key (sha256 of its public form), to tell keys apart. */
function keyId(k: CheckpointKey): string {
  const material =
    k.alg === 'ed25519'
      ? createPublicKey(k.key).export({ type: 'spki', format: 'der' })
      : createHash('sha256').update(k.secret).digest();
  return createHash('sha256').update(material).digest('hex').slice(0, 16);
}

/** Generates an Ed25519 key pair as PEM. */
export function generateKeyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

/**
 * Writes a new Ed25519 key pair: the private key to `path` (mode 600), the public key to
 * `path.pub` (mode 644: it is handed out), each created O_CREAT|O_EXCL|O_NOFOLLOW (safe-files.ts).
 * Nothing is written when either exists (or is a link), and a public key that cannot be written
 * takes the private key away again: never half a pair.
 * @throws FileExistsError, UnsafeFileError, DiskFullError, NodeJS.ErrnoException (EACCES …)
 */
export async function writeKeyPair(path: string): Promise<{ privateKey: string; publicKey: string }> {
  const pub = `${path}.pub`;
  for (const p of [path, pub]) {
    refuseUnsafeTarget(p);
    if (existsSync(p)) throw new FileExistsError(p);
  }
  const { privatePem, publicPem } = generateKeyPair();
  createFile(path, privatePem, 0o600);
  try {
    createFile(pub, publicPem, 0o644);
  } catch (err) {
    rmSync(path, { force: true });
    throw err;
  }
  return { privateKey: path, publicKey: pub };
}

/**
 * An HMAC-SHA256 shared secret, from the bytes of a secret file (surrounding whitespace ignored).
 * @throws CheckpointError when it is shorter than 16 bytes.
 */
export function hmacKey(secretFile: Buffer): CheckpointKey {
  const secret = Buffer.from(secretFile.toString('utf8').trim());
  if (secret.length < 16) throw new CheckpointError('HMAC secret too short: use at least 16 bytes');
  return { alg: 'hmac-sha256', secret };
}

/** An Ed25519 private key (PKCS#8 PEM), to sign checkpoints. @throws CheckpointError */
export function ed25519SigningKey(pem: Buffer): CheckpointKey {
  return ed25519Key(pem, true);
}

/** An Ed25519 key to verify checkpoints: a public key (SPKI PEM) or its private key. @throws CheckpointError */
export function ed25519VerifyingKey(pem: Buffer): CheckpointKey {
  return ed25519Key(pem, false);
}

function ed25519Key(pem: Buffer, forSigning: boolean): CheckpointKey {
  try {
    const text = pem.toString('utf8');
    const key = forSigning || text.includes('PRIVATE KEY') ? createPrivateKey(text) : createPublicKey(text);
    if (key.asymmetricKeyType !== 'ed25519') throw new CheckpointError(`key is ${key.asymmetricKeyType}, not Ed25519`);
    return { alg: 'ed25519', key: forSigning || key.type === 'public' ? key : createPublicKey(key) };
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError(`not an Ed25519 ${forSigning ? 'private ' : ''}key in PEM form`);
  }
}

/** Signs a statement. */
export function signCheckpoint(statement: CheckpointStatement, key: CheckpointKey): Checkpoint {
  const bytes = statementBytes(statement);
  const value =
    key.alg === 'ed25519'
      ? sign(null, bytes, key.key).toString('base64')
      : createHmac('sha256', key.secret).update(bytes).digest('base64');
  return { statement, signature: { alg: key.alg, keyId: keyId(key), value } };
}

/** Whether a checkpoint's signature is valid for `key`. */
function checkSignature(c: Checkpoint, key: CheckpointKey): boolean {
  if (c.signature?.alg !== key.alg) return false;
  const bytes = statementBytes(c.statement);
  const sig = Buffer.from(String(c.signature.value), 'base64');
  if (key.alg === 'ed25519') return verifySig(null, bytes, key.key, sig);
  const want = createHmac('sha256', key.secret).update(bytes).digest();
  return sig.length === want.length && timingSafeEqual(sig, want);
}

/**
 * Writes a checkpoint into the store (created mode 700 if missing); returns its path. The file is
 * created O_CREAT|O_EXCL|O_NOFOLLOW, mode 600, in place (safe-files.ts `createFile`): a
 * write-once store could not delete a temporary file, and nothing in a store is ever replaced.
 * @throws FileExistsError, UnsafeFileError (a link planted at its name), DiskFullError (no file
 *   left), NodeJS.ErrnoException
 */
export function storeCheckpoint(store: string, c: Checkpoint): string {
  mkdirSync(store, { recursive: true, mode: 0o700 });
  const name = `checkpoint-${c.statement.time.replace(/[:.]/g, '')}-${c.statement.head.slice(0, 12)}.json`;
  const path = join(store, name);
  createFile(path, JSON.stringify(c, null, 2) + '\n');
  return path;
}

/**
 * Reads every `checkpoint-*.json` of a store, oldest first; none when the store does not exist
 * (the caller says so: a store with no checkpoint checks nothing).
 * @throws CheckpointError when the store cannot be read or a file is not a checkpoint.
 */
export function readCheckpoints(store: string): Array<{ path: string; checkpoint: Checkpoint }> {
  let names: string[];
  try {
    names = readdirSync(store)
      .filter((n) => /^checkpoint-.*\.json$/.test(n))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CheckpointError(
      `cannot read checkpoint store ${store}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return names.map((n) => {
    const path = join(store, n);
    return { path, checkpoint: parseCheckpoint(readFileSync(path, 'utf8'), path) };
  });
}

/**
 * One checkpoint from its JSON text (a store's file, or an entry of a Loki checkpoint stream);
 * `where` names it in errors. The signature is not checked here ({@link checkpointAnchors}).
 * @throws CheckpointError when the text is not JSON, or not a loki-audit checkpoint.
 */
export function parseCheckpoint(text: string, where: string): Checkpoint {
  let c: Checkpoint;
  try {
    c = JSON.parse(text) as Checkpoint;
  } catch {
    throw new CheckpointError(`${where} is not a readable checkpoint`);
  }
  if (c?.statement?.format !== 'loki-audit-checkpoint/1' || typeof c.statement.head !== 'string' || !c.signature)
    throw new CheckpointError(`${where} is not a loki-audit checkpoint`);
  return c;
}

/**
 * The heads a store's checkpoints vouch for, as anchors the chain must still hold; a checkpoint
 * whose signature does not verify with `key` is a finding (forged or altered), not an anchor.
 */
export function checkpointAnchors(
  stored: Array<{ path: string; checkpoint: Checkpoint }>,
  key: CheckpointKey,
): { anchors: HeadAnchor[]; findings: Finding[] } {
  const anchors: HeadAnchor[] = [];
  const findings: Finding[] = [];
  for (const { path, checkpoint } of stored) {
    const s = checkpoint.statement;
    if (!checkSignature(checkpoint, key)) {
      findings.push({
        file: s.file ?? '-',
        line: s.line ?? 0,
        offset: -1,
        class: 'anchor-mismatch',
        reason: 'checkpoint-signature',
        message: `checkpoint ${path} has no valid signature for this key: forged or altered`,
      });
      continue;
    }
    anchors.push({ hash: s.head, source: `checkpoint ${path}`, where: { file: s.file, line: s.line, time: s.time } });
  }
  return { anchors, findings };
}

/**
 * The statement of a verified directory's chain head: where the head entry is (file, line, and
 * the byte offset just past its file's verified bytes), how many entries, when.
 * @returns null when the report has no chain head.
 */
export function headStatement(report: DirectoryReport, time: Date): CheckpointStatement | null {
  const head = report.chainHead;
  if (!head) return null;
  const file = report.files.find((f) => f.file === head.file);
  return {
    format: 'loki-audit-checkpoint/1',
    dir: report.dir,
    head: head.hash,
    file: head.file,
    line: head.line,
    offset: file ? file.bytes : head.offset,
    entries: report.entriesVerified,
    time: time.toISOString(),
  };
}
