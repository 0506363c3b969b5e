/** `checkpoint`'s output: the checkpoint stored (where, which head, which key), or the key pair written. */
import type { Checkpoint } from '../core/chain/anchors/checkpoints.js';

/** One line: where the checkpoint went, the head it signs, and the signature's algorithm and key id. */
export function formatCheckpointStored(where: string, c: Checkpoint): string {
  const s = c.statement;
  return (
    `checkpoint ${where}: head ${s.head} at ${s.file}:${s.line}, ${s.entries} ` +
    `entries, signed ${c.signature.alg} key ${c.signature.keyId}\n`
  );
}

/** One line: the two files `--new-key` wrote, and what each is for. */
export function formatKeyPairWritten(pair: { privateKey: string; publicKey: string }): string {
  return `wrote ${pair.privateKey} (private, keep it secret) and ${pair.publicKey} (for verify --public-key)\n`;
}
