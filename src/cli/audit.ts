// gatehouse audit verify: checks the hash chains and signed checkpoints of a config's audit log
// (its SQLite file or Postgres table; read-only, beside a running gateway) and names every
// changed, deleted, inserted or reordered record and every bad or missing checkpoint, at its
// position (node, seq, record id). See src/audit/chain/verify.ts for what each finding means.
// Exit codes: 0 intact, 1 tampering found, 2 a config that does not load, a bad option, or no
// audit log to read.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { dataPaths } from '../data-paths.ts';
import { auditSinkSpec } from '../audit/paths.ts';
import type { SinkSpec } from '../audit/sink.ts';
import type { ChainSource } from '../audit/chain/chain-sql.ts';
import { parsePublicKey } from '../audit/chain/signing-key.ts';
import { verifyChains, type VerifyOptions, type VerifyReport } from '../audit/chain/verify.ts';
import { AUDIT_DEFAULT } from '../audit/schema.ts';
import { action, CliError, loadForSettings } from './store-access.ts';
import { since as sinceTime } from './logs.ts';

interface VerifyCliOptions {
  config: string;
  file?: string;
  since?: { seq: number } | { time: number };
  node?: string;
  publicKey: string[];
  json?: boolean;
}

/** A chain seq (a whole number), or a time: a duration ago (1h, 7d) or a date. */
function since(value: string): { seq: number } | { time: number } {
  if (/^\d+$/.test(value)) return { seq: Number(value) };
  try {
    return { time: sinceTime(value) };
  } catch {
    throw new InvalidArgumentError('expected a chain seq (a whole number), a duration such as 1h or 7d, or a date such as 2026-05-01T10:00:00Z');
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function openSource(options: VerifyCliOptions): Promise<{ source: ChainSource; close(): unknown; expect: VerifyOptions['expect'] }> {
  let spec: SinkSpec;
  let expect: VerifyOptions['expect'];
  if (options.file !== undefined) {
    spec = { type: 'sqlite', file: path.resolve(options.file) };
    expect = { records: AUDIT_DEFAULT.chain.checkpoint.records, batch: AUDIT_DEFAULT.batch.size };
  } else {
    const config = await loadForSettings(options.config, (c) => [c.audit.sink, c.dataDir ?? '']);
    spec = auditSinkSpec(config, options.config, dataPaths(config, options.config, process.env).dataDir);
    expect = { records: config.audit.chain.checkpoint.records, batch: config.audit.batch.size };
  }
  switch (spec.type) {
    case 'sqlite': {
      if (!existsSync(spec.file)) throw new CliError(`no audit log: ${spec.file} does not exist (it is created when Gatehouse starts with audit enabled)`, 2);
      const { openSqliteChainSource } = await import('../audit/sqlite-sink.ts');
      return { ...openSqliteChainSource(spec.file), expect };
    }
    case 'postgres': {
      const { openPostgresChainSource } = await import('../audit/postgres-sink.ts');
      try {
        return { ...(await openPostgresChainSource(spec.url, spec.schema)), expect };
      } catch (err) {
        throw new CliError(`audit.sink (postgres): ${(err as Error).message}`, 2);
      }
    }
    case 'jsonl':
      throw new CliError('audit.sink is jsonl: its records are not chained; `gatehouse audit verify` checks the sqlite and postgres sinks', 2);
  }
}

const LABEL: Record<string, string> = {
  changed: 'CHANGED',
  deleted: 'DELETED',
  inserted: 'INSERTED',
  reordered: 'REORDERED',
  'bad-signature': 'BAD SIGNATURE',
  'untrusted-key': 'UNTRUSTED KEY',
  'checkpoint-mismatch': 'CHECKPOINT MISMATCH',
  'checkpoint-gap': 'CHECKPOINT GAP',
  'checkpoint-overlap': 'CHECKPOINT OVERLAP',
  unsigned: 'UNSIGNED',
};

/** A short fingerprint of a public key: SHA-256 of its DER form, 16 hex digits. */
function keyId(publicKey: string): string {
  return `sha256:${createHash('sha256').update(Buffer.from(publicKey, 'base64')).digest('hex').slice(0, 16)}`;
}

export function formatReport(report: VerifyReport): string {
  const lines: string[] = [];
  for (const n of report.nodes) {
    const range = n.firstSeq === undefined ? 'no records' : `seq ${n.firstSeq}–${n.lastSeq} (${n.records} records)`;
    const signed = n.checkpoints === 0 ? 'no checkpoints' : `${n.checkpoints} checkpoints, signed up to ${n.signedTo}${n.keys.length > 0 ? ` by key ${n.keys.map(keyId).join(', ')}` : ''}`;
    lines.push(`node ${n.node}: ${range}, ${signed}`);
    for (const f of report.findings.filter((x) => x.node === n.node)) lines.push(`  ${(LABEL[f.kind] ?? f.kind).padEnd(19)} ${f.message}`);
    for (const x of report.notices.filter((x) => x.node === n.node)) lines.push(`  note                ${x.message}`);
  }
  for (const f of report.findings.filter((x) => x.node === undefined)) lines.push(`${(LABEL[f.kind] ?? f.kind).padEnd(21)} ${f.message}`);
  for (const x of report.notices.filter((x) => x.node === undefined)) lines.push(`note                  ${x.message}`);
  if (report.nodes.length === 0) lines.push('no chained records');
  lines.push(report.intact ? 'intact' : `NOT INTACT: ${report.findings.length} finding${report.findings.length === 1 ? '' : 's'}`);
  return lines.join('\n') + '\n';
}

async function runVerify(options: VerifyCliOptions): Promise<void> {
  const trustedKeys = options.publicKey.map((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new CliError(`--public-key ${file}: ${(err as Error).message}`, 2);
    }
    try {
      return parsePublicKey(text, `--public-key ${file}`);
    } catch (err) {
      throw new CliError((err as Error).message, 2);
    }
  });
  const { source, close, expect } = await openSource(options);
  try {
    const report = await verifyChains(source, { since: options.since, node: options.node, trustedKeys: trustedKeys.length > 0 ? trustedKeys : undefined, expect });
    process.stdout.write(options.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
    process.exitCode = report.intact ? 0 : 1;
  } finally {
    await close();
  }
}

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('check the audit log');
  audit
    .command('verify')
    .description('check every node\'s hash chain and every signed checkpoint; name each changed, deleted, inserted or reordered record (exit 0 intact, 1 not intact, 2 cannot check)')
    .option('-c, --config <file>', 'YAML or JSON configuration file (locates the audit log)', 'gatehouse.yaml')
    .option('--file <audit.db>', 'check this audit SQLite file instead of the config\'s')
    .option('--since <seq|when>', 'check from this chain seq, or from each node\'s first record since a duration ago (1h, 7d) or a date', since)
    .option('--node <id>', 'check this node\'s chain only')
    .option('--public-key <file>', 'accept checkpoints signed with this key only (PEM or base64; repeat for several nodes); default: the key stored with each checkpoint', collect, [])
    .option('--json', 'print the report as JSON')
    // A bad option is 2, never 1: 1 means the log is not intact.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .action(action(runVerify));
}
