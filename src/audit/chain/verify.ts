// Checking a log's chains: every node's records in chain order, each record against its own hash
// (a changed field), each link against the record before it (a record changed with its hash
// recomputed), the seqs for holes (a deleted record) and doubles (an inserted one), records that
// sit at another record's place (reordered), and every checkpoint: its signature, the record it
// names, and that checkpoints follow each other without a gap. Records written before the chain
// existed are reported as one unchained range, not as tampering; one without a link stored after
// chaining began is an inserted record.
import type { Row } from '../rows.ts';
import { rowHash } from './canonical.ts';
import type { ChainSource } from './chain-sql.ts';
import { signatureValid, type Checkpoint } from './checkpoint.ts';

export type FindingKind = 'changed' | 'deleted' | 'inserted' | 'reordered' | 'bad-signature' | 'untrusted-key' | 'checkpoint-mismatch' | 'checkpoint-gap' | 'checkpoint-overlap' | 'unsigned';

/** Tampering, at its position. */
export interface Finding {
  kind: FindingKind;
  node?: string | undefined;
  /** Chain seq (the first, for a range). */
  seq?: number | undefined;
  /** The last chain seq of a range. */
  toSeq?: number | undefined;
  /** The record's id. */
  id?: string | undefined;
  message: string;
}

/** What is not tampering but worth saying: unchained records, the pruned start of a chain, an unsigned tail. */
export interface Notice {
  kind: 'unchained' | 'pruned' | 'unsigned-tail';
  node?: string | undefined;
  seq?: number | undefined;
  toSeq?: number | undefined;
  message: string;
}

export interface NodeSummary {
  node: string;
  records: number;
  firstSeq: number | undefined;
  lastSeq: number | undefined;
  checkpoints: number;
  /** The last seq a valid checkpoint covers. */
  signedTo: number;
  /** Public keys (base64 SPKI) its checkpoints were signed with. */
  keys: string[];
}

export interface VerifyReport {
  intact: boolean;
  nodes: NodeSummary[];
  findings: Finding[];
  notices: Notice[];
}

export interface VerifyOptions {
  /** Check from this chain seq, or from each node's first record at or after this time (ms). */
  since?: { seq: number } | { time: number } | undefined;
  node?: string | undefined;
  /** Accept checkpoints signed with these keys only (base64 SPKI); default: the key stored with each. */
  trustedKeys?: readonly string[] | undefined;
  /**
   * The writer signs once `records` are unsigned, beside a batch of at most `batch` records: an
   * unsigned tail longer than both is checkpoints removed, not a node that stopped abruptly.
   */
  expect?: { records: number; batch: number } | undefined;
}

const PAGE = 2000;
/** Records that fail their own hash, kept to be matched against each other (reordering). */
const MAX_SUSPECTS = 2000;

interface Walked {
  row: Row;
  seq: number;
  id: string;
  hash: string;
  prevHash: string | null;
  selfOk: boolean;
}

const short = (hash: string | null) => (hash === null ? 'none' : hash.slice(0, 12));

export async function verifyChains(source: ChainSource, options: VerifyOptions = {}): Promise<VerifyReport> {
  const findings: Finding[] = [];
  const notices: Notice[] = [];
  const nodes: NodeSummary[] = [];
  const unchained = await source.unchained(1000);
  if (unchained.before && !options.node) {
    const u = unchained.before;
    notices.push({ kind: 'unchained', message: `${u.count} records written before chaining began (storage seq ${u.firstSeq}–${u.lastSeq}, ids ${u.firstId} – ${u.lastId}): not covered by any chain` });
  }
  if (!options.node) {
    for (const row of unchained.after) {
      findings.push({ kind: 'inserted', id: String(row.id), message: `record ${String(row.id)} (storage seq ${String(row.seq)}) has no chain link but was stored after chaining began: inserted (or written by a gateway without the chain)` });
    }
  }
  for (const node of await source.nodes()) {
    if (options.node !== undefined && node !== options.node) continue;
    nodes.push(await verifyNode(source, node, options, findings, notices));
  }
  if (options.node !== undefined && nodes.length === 0) notices.push({ kind: 'pruned', node: options.node, message: `no records or checkpoints of node ${options.node}` });
  // In the order of the log: by node, then position.
  const at = (f: Finding) => [f.node ?? '\uffff', f.seq ?? Number.MAX_SAFE_INTEGER] as const;
  findings.sort((a, b) => at(a)[0].localeCompare(at(b)[0]) || at(a)[1] - at(b)[1]);
  return { intact: findings.length === 0, nodes, findings, notices };
}

async function verifyNode(source: ChainSource, node: string, options: VerifyOptions, findings: Finding[], notices: Notice[]): Promise<NodeSummary> {
  const checkpoints = await source.checkpoints(node);
  let start = 1;
  if (options.since && 'seq' in options.since) start = Math.max(1, options.since.seq);
  else if (options.since) start = (await source.firstSince(node, options.since.time)) ?? Number.MAX_SAFE_INTEGER;
  const anchored = start > 1; // the record before `start` is trusted, not checked

  // The records checkpoints name: their hashes are kept as the walk passes them.
  const named = new Map<number, Walked | undefined>(checkpoints.map((c) => [c.toSeq, undefined]));
  const suspects: Walked[] = [];
  let prev: Walked | undefined;
  let first: Walked | undefined;
  let records = 0;

  const accept = (group: Walked[]) => {
    const linksAfter = (w: Walked) => prev === undefined || w.seq !== prev.seq + 1 || w.prevHash === prev.hash;
    const genuine = group.find((w) => w.selfOk && linksAfter(w)) ?? group.find((w) => w.selfOk) ?? group[0]!;
    for (const w of group) {
      if (w !== genuine) findings.push({ kind: 'inserted', node, seq: w.seq, id: w.id, message: `a second record at seq ${w.seq}: ${w.id} was inserted (${genuine.id} holds that place)` });
    }
    const r = genuine;
    records++;
    if (!prev) {
      first = r;
      if (r.seq > start && !anchored) notices.push({ kind: 'pruned', node, seq: start, toSeq: r.seq - 1, message: `seq ${start}–${r.seq - 1} are not present: removed by retention (deleting the oldest records looks the same)` });
    } else if (r.seq > prev.seq + 1) {
      const [a, b] = [prev.seq + 1, r.seq - 1];
      findings.push({ kind: 'deleted', node, seq: a, toSeq: b, message: `${a === b ? `seq ${a} is` : `seq ${a}–${b} are`} missing, between ${prev.id} (seq ${prev.seq}) and ${r.id} (seq ${r.seq}): deleted` });
    } else if (r.prevHash !== prev.hash && r.selfOk && prev.selfOk) {
      findings.push({ kind: 'changed', node, seq: prev.seq, id: prev.id, message: `seq ${prev.seq} (${prev.id}) is not the record seq ${r.seq} was chained to (links to ${short(r.prevHash)}, it hashes to ${short(prev.hash)}): changed, its hash recomputed` });
    }
    if (!r.selfOk) {
      // Matched against each other afterwards; past the cap (a table rewritten wholesale), reported as changed at once.
      if (suspects.length < MAX_SUSPECTS) suspects.push(r);
      else findings.push({ kind: 'changed', node, seq: r.seq, id: r.id, message: `seq ${r.seq} (${r.id}) does not match its hash: a field was changed` });
    }
    if (named.has(r.seq)) named.set(r.seq, r);
    prev = r;
  };

  let group: Walked[] = [];
  let after = { chainSeq: start - 1, seq: Number.MAX_SAFE_INTEGER };
  for (;;) {
    const rows = await source.page(node, after, PAGE);
    for (const row of rows) {
      const seq = Number(row.chain_seq);
      const prevHash = row.prev_hash === null || row.prev_hash === undefined ? null : String(row.prev_hash);
      const hash = String(row.hash);
      const w: Walked = { row, seq, id: String(row.id), hash, prevHash, selfOk: rowHash(row, { node, seq, prevHash }) === hash };
      if (group.length > 0 && group[0]!.seq !== seq) {
        accept(group);
        group = [];
      }
      group.push(w);
    }
    const last = rows.at(-1);
    if (!last || rows.length < PAGE) break;
    after = { chainSeq: Number(last.chain_seq), seq: Number(last.seq) };
  }
  if (group.length > 0) accept(group);

  resolveSuspects(node, suspects, findings);
  const signed = checkCheckpoints(node, checkpoints, named, first, prev, start, options, findings);
  const lastSeq = (prev as Walked | undefined)?.seq;
  if (lastSeq !== undefined && lastSeq > signed.to) {
    const from = Math.max(signed.to + 1, (first as Walked | undefined)?.seq ?? 1);
    const count = lastSeq - from + 1;
    const expect = options.expect;
    if (expect && count > expect.records + expect.batch && !anchored) {
      findings.push({ kind: 'unsigned', node, seq: from, toSeq: lastSeq, message: `seq ${from}–${lastSeq} (${count} records) are covered by no checkpoint, though one is signed every ${expect.records} records: checkpoints were deleted` });
    } else {
      notices.push({ kind: 'unsigned-tail', node, seq: from, toSeq: lastSeq, message: `seq ${from}–${lastSeq} are not signed yet (written after the last checkpoint; removing them would leave no trace here)` });
    }
  }
  return { node, records, firstSeq: (first as Walked | undefined)?.seq, lastSeq, checkpoints: checkpoints.length, signedTo: signed.to, keys: [...signed.keys] };
}

/**
 * A record that fails its own hash was changed, unless it fits another suspect's place: hashed
 * with that place's seq it matches (its seq was swapped), or hashed with that place's link it
 * matches that place's hash (the rows' contents were swapped).
 */
function resolveSuspects(node: string, suspects: Walked[], findings: Finding[]): void {
  for (const x of suspects) {
    const home = suspects.find((y) => y !== x && (rowHash(x.row, { node, seq: y.seq, prevHash: x.prevHash }) === x.hash || rowHash(x.row, { node, seq: y.seq, prevHash: y.prevHash }) === y.hash));
    if (home) findings.push({ kind: 'reordered', node, seq: x.seq, id: x.id, message: `seq ${x.seq} holds ${x.id}, which was written at seq ${home.seq}: reordered` });
    else findings.push({ kind: 'changed', node, seq: x.seq, id: x.id, message: `seq ${x.seq} (${x.id}) does not match its hash: a field was changed` });
  }
}

/** Where the walk began when it found no record. */
function from0(start: number, first: Walked | undefined): number {
  return (first?.seq ?? start) - 1;
}

function checkCheckpoints(
  node: string,
  checkpoints: Checkpoint[],
  named: Map<number, Walked | undefined>,
  first: Walked | undefined,
  last: Walked | undefined,
  start: number,
  options: VerifyOptions,
  findings: Finding[],
): { to: number; keys: Set<string> } {
  const keys = new Set<string>();
  const trusted = options.trustedKeys ? new Set(options.trustedKeys) : undefined;
  let covered: number | undefined; // the last seq the checkpoints so far cover
  let signedTo = 0;
  /** How far a cut end of the chain is reported already (several checkpoints may name it: one finding). */
  let cutTo = last?.seq ?? from0(start, first);
  let cut: Finding | undefined;
  const from = Math.max(start, first?.seq ?? start);
  for (const c of checkpoints) {
    if (c.toSeq < from) {
      covered = c.toSeq;
      continue; // pruned, or before --since
    }
    const where = `checkpoint seq ${c.fromSeq}–${c.toSeq}`;
    let valid = true;
    if (!signatureValid(c)) {
      valid = false;
      findings.push({ kind: 'bad-signature', node, seq: c.fromSeq, toSeq: c.toSeq, message: `${where} (signed ${new Date(c.time).toISOString()}): the signature does not verify: forged or altered` });
    } else if (trusted && !trusted.has(c.publicKey)) {
      valid = false;
      findings.push({ kind: 'untrusted-key', node, seq: c.fromSeq, toSeq: c.toSeq, message: `${where}: signed with a key that is not among --public-key` });
    } else keys.add(c.publicKey);
    if (covered !== undefined && c.fromSeq > covered + 1) {
      findings.push({ kind: 'checkpoint-gap', node, seq: covered + 1, toSeq: c.fromSeq - 1, message: `no checkpoint covers seq ${covered + 1}–${c.fromSeq - 1}: a checkpoint was deleted` });
    } else if (covered !== undefined && c.fromSeq <= covered) {
      findings.push({ kind: 'checkpoint-overlap', node, seq: c.fromSeq, toSeq: c.toSeq, message: `${where} overlaps the one before (which ends at ${covered}): inserted` });
    } else if (covered === undefined && c.fromSeq > from && first !== undefined && c.fromSeq > first.seq) {
      findings.push({ kind: 'checkpoint-gap', node, seq: first.seq, toSeq: c.fromSeq - 1, message: `no checkpoint covers seq ${first.seq}–${c.fromSeq - 1}: a checkpoint was deleted` });
    }
    const record = named.get(c.toSeq);
    if (record && record.hash !== c.lastHash) {
      findings.push({ kind: 'checkpoint-mismatch', node, seq: c.toSeq, id: record.id, message: `seq ${c.toSeq} (${record.id}) is not the record ${where} signed (${short(c.lastHash)}, it holds ${short(record.hash)}): replaced, or changed with its hash recomputed` });
    } else if (!record && c.toSeq > cutTo) {
      const a = cut?.seq ?? cutTo + 1;
      const message = `${a === c.toSeq ? `seq ${a} is` : `seq ${a}–${c.toSeq} are`} signed by checkpoints but not present: deleted (the end of the chain was cut)`;
      if (cut) Object.assign(cut, { toSeq: c.toSeq, message });
      else findings.push((cut = { kind: 'deleted', node, seq: a, toSeq: c.toSeq, message }));
      cutTo = c.toSeq;
    }
    covered = Math.max(covered ?? 0, c.toSeq);
    if (valid) signedTo = Math.max(signedTo, c.toSeq);
  }
  return { to: Math.max(signedTo, from - 1), keys };
}
