/**
 * `checkpoint`'s output: the checkpoint stored (where, which head, which key), or the key pair
 * written. Paths and names come from the operator's file system (a directory or file name may
 * hold any byte), so they go through `safeText` before they reach a terminal.
 */
import { safeText } from '../formats/escape.js';
import type { Checkpoint } from '../core/chain/anchors/checkpoints.js';

/** One line: where the checkpoint went, the head it signs, and the signature's algorithm and key id. */
export function formatCheckpointStored(where: string, c: Checkpoint): string {
  const s = c.statement;
  return (
    `checkpoint ${safeText(where)}: head ${s.head} at ${safeText(s.file)}:${s.line}, ${s.entries} ` +
    `entries, signed ${safeText(c.signature.alg)} key ${safeText(c.signature.keyId)}\n`
  );
}

/** One line: the two files `--new-key` wrote, and what each is for. */
export function formatKeyPairWritten(pair: { privateKey: string; publicKey: string }): string {
  const privateKey = safeText(pair.privateKey);
  return `wrote ${privateKey} (private, keep it secret) and ${safeText(pair.publicKey)} (for verify --public-key)\n`;
}
