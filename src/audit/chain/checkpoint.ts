// Signed checkpoints of a node's chain: every N records or S seconds the writer signs, with
// Ed25519, the statement "node X's records from seq a to seq b end with hash h, at time t". The
// signed bytes are the RFC 8785 form of that statement (below); the public key travels with the
// checkpoint so the log can be checked alone, and `gatehouse audit verify --public-key` can insist
// on known keys instead.
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';

export interface Checkpoint {
  node: string;
  fromSeq: number;
  toSeq: number;
  /** The hash of record toSeq. */
  lastHash: string;
  /** When it was signed, ms since the epoch. */
  time: number;
  /** The signer's public key: DER SubjectPublicKeyInfo, base64. */
  publicKey: string;
  /** Ed25519 signature of signedBytes(), base64. */
  signature: string;
}

/** What a signature covers. `v` numbers the statement's form. */
export function signedBytes(c: Pick<Checkpoint, 'node' | 'fromSeq' | 'toSeq' | 'lastHash' | 'time'>): Buffer {
  return Buffer.from(canonicalize({ v: 1, type: 'gatehouse-audit-checkpoint', node: c.node, from: c.fromSeq, to: c.toSeq, lastHash: c.lastHash, time: c.time })!, 'utf8');
}

export function signCheckpoint(statement: Omit<Checkpoint, 'publicKey' | 'signature'>, key: { privateKey: KeyObject; publicKey: string }): Checkpoint {
  return { ...statement, publicKey: key.publicKey, signature: sign(null, signedBytes(statement), key.privateKey).toString('base64') };
}

/** Whether the signature is the stored public key's over the checkpoint's statement. */
export function signatureValid(c: Checkpoint): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(c.publicKey, 'base64'), format: 'der', type: 'spki' });
    return verify(null, signedBytes(c), key, Buffer.from(c.signature, 'base64'));
  } catch {
    return false; // not a key, or not an Ed25519 one
  }
}
