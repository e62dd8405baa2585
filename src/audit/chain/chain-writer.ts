// The writer thread's side of the hash chain: it owns the order records are stored in, so it is
// where each record gets its link (node, seq, previous hash) and its hash, just before the sink
// stores it, and where checkpoints are signed. The head moves only once a batch is stored: a batch
// retried after a failure gets the same links (and the same hashes), and after a batch given up
// the head is read back from the store before the next. At start the chain resumes from the last
// record the store holds for this node, and checkpoints from the last one it signed.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { AuditEvent } from '../event.ts';
import { eventHash } from './canonical.ts';
import { signCheckpoint, type Checkpoint } from './checkpoint.ts';

/** What the writer needs of a store to resume (the SQLite and Postgres sinks provide it). */
export interface ChainStore {
  /** The node's last stored record. */
  head(node: string): Promise<{ seq: number; hash: string } | undefined>;
  /** The last seq a stored checkpoint of the node covers; 0 when none. */
  signedTo(node: string): Promise<number>;
  /** Which of these record ids are stored already (a spill file read back twice). */
  existing(ids: readonly string[]): Promise<Set<string>>;
}

export interface ChainSettings {
  node: string;
  /** PKCS#8 PEM of the Ed25519 key (chain/signing-key.ts). */
  privateKeyPem: string;
  /** Base64 SPKI DER. */
  publicKey: string;
  /** Sign a checkpoint once this many records are unsigned… */
  records: number;
  /** …or once the oldest unsigned one is this old (ms). */
  intervalMs: number;
}

/** A batch linked after the head, with the checkpoint to store beside it: stored together, then committed. */
export interface Linked {
  head: { seq: number; hash: string | null };
  checkpoint: Checkpoint | undefined;
}

export class ChainWriter {
  private head: { seq: number; hash: string | null } | undefined;
  private signedTo = 0;
  /** When the first record after the last checkpoint was linked (undefined: none unsigned). */
  private unsignedSince: number | undefined;
  private readonly key: { privateKey: KeyObject; publicKey: string };

  constructor(readonly settings: ChainSettings) {
    this.key = { privateKey: createPrivateKey(settings.privateKeyPem), publicKey: settings.publicKey };
  }

  get node(): string {
    return this.settings.node;
  }

  /** Reads the head back from the store, at start and after a batch whose fate is unknown. */
  async resume(store: ChainStore): Promise<void> {
    const head = await store.head(this.node);
    this.head = head ?? { seq: 0, hash: null };
    this.signedTo = Math.min(await store.signedTo(this.node), this.head.seq);
    this.unsignedSince = this.head.seq > this.signedTo ? Date.now() : undefined;
  }

  get resumed(): boolean {
    return this.head !== undefined;
  }

  /** Forget the head: the next batch reads it from the store first. */
  invalidate(): void {
    this.head = undefined;
  }

  /** Gives each event its link and hash after the head (not moved yet), and the checkpoint due with them. */
  link(events: readonly AuditEvent[], now: number): Linked {
    if (!this.head) throw new Error('the audit chain has not been resumed');
    let { seq, hash } = this.head;
    for (const event of events) {
      seq++;
      const link = { node: this.node, seq, prevHash: hash };
      hash = eventHash(event, link);
      event.chain = { ...link, hash };
    }
    const head = { seq, hash };
    const since = this.unsignedSince ?? (events.length > 0 ? now : undefined);
    const due = seq - this.signedTo >= this.settings.records || (since !== undefined && now - since >= this.settings.intervalMs);
    return { head, checkpoint: due ? this.checkpointAt(head, now) : undefined };
  }

  /** A checkpoint over what is linked but unsigned (at close, or when the interval has passed); undefined when there is nothing to sign. */
  pending(now: number, force: boolean): Linked | undefined {
    if (!this.head || this.head.seq <= this.signedTo) return undefined;
    if (!force && (this.unsignedSince === undefined || now - this.unsignedSince < this.settings.intervalMs)) return undefined;
    return { head: this.head, checkpoint: this.checkpointAt(this.head, now) };
  }

  private checkpointAt(head: { seq: number; hash: string | null }, now: number): Checkpoint | undefined {
    if (head.seq <= this.signedTo || head.hash === null) return undefined;
    return signCheckpoint({ node: this.node, fromSeq: this.signedTo + 1, toSeq: head.seq, lastHash: head.hash, time: now }, this.key);
  }

  /** The batch (and its checkpoint) is stored: the head moves. */
  commit(linked: Linked, now: number): void {
    if (linked.head.seq > (this.head?.seq ?? 0) && this.unsignedSince === undefined) this.unsignedSince = now;
    this.head = linked.head;
    if (linked.checkpoint) {
      this.signedTo = linked.checkpoint.toSeq;
      this.unsignedSince = undefined;
    }
  }
}
