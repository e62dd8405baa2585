// A clean shutdown loses no audit record: `gatehouse start` under a steady load from several
// concurrent clients gets SIGTERM mid-load; every request that got an answer must be in the
// SQLite file afterwards. The batch interval is long, so nearly every record is still queued
// when the signal comes: only the flush on shutdown can have written it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { MCP_HEADERS, runCli, startEverything, tempDir, writeConfig } from './helpers/gatehouse.ts';
import { cliLogLines, freePort, stopCli, waitForLogLines } from './helpers/lifecycle-procs.ts';
import { readAuditFile } from './helpers/audit-db.ts';
import type { AuditCounters } from '../src/audit/audit.ts';

const CLIENTS = 6;
const PER_CLIENT = 150;
/** SIGTERM once this many answers have come back: mid-load. */
const SIGNAL_AFTER = (CLIENTS * PER_CLIENT) / 3;

test('SIGTERM under load: every answered request has its audit record', { timeout: 120_000 }, async (t) => {
  const everything = await startEverything();
  const port = await freePort();
  const dataDir = tempDir();
  const file = writeConfig(
    [
      `listen: { host: 127.0.0.1, port: ${port} }`,
      `dataDir: ${JSON.stringify(dataDir)}`,
      'servers:',
      `  everything: { url: ${JSON.stringify(`${everything.origin}/mcp`)} }`,
      'apis:',
      '  - { name: everything, path: /mcp, server: everything }',
      'audit:',
      '  batch: { size: 5000, interval: 60s }',
      '',
    ].join('\n'),
  );
  const cli = runCli(['start', '--config', file]);
  t.after(async () => {
    await stopCli(cli);
    await everything.close();
  });
  await waitForLogLines(cli, (l) => l.msg === 'gatehouse listening', 'Gatehouse listens');
  const url = `http://127.0.0.1:${port}/mcp`;

  const post = (headers: Record<string, string>, body: unknown) => fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: JSON.stringify(body) });
  const sessions: string[] = [];
  for (let c = 0; c < CLIENTS; c++) {
    const init = await post({}, { jsonrpc: '2.0', id: `init-${c}`, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: `load-${c}`, version: '1' } } });
    await init.text();
    const session = init.headers.get('mcp-session-id')!;
    const ack = await post({ 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' }, { jsonrpc: '2.0', method: 'notifications/initialized' });
    await ack.text();
    sessions.push(session);
  }

  // Each client sends its calls one after another until it has sent them all or is refused.
  const answered = new Set<string>();
  const refusals: string[] = [];
  let signalled = false;
  const client = async (c: number) => {
    for (let i = 0; i < PER_CLIENT; i++) {
      const id = `c${c}-${i}`;
      try {
        const response = await post({ 'mcp-session-id': sessions[c]!, 'mcp-protocol-version': '2025-06-18' }, { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { message: id } } });
        const text = await response.text();
        if (response.status === 200 && text.includes(`"id":"${id}"`) && text.includes(`Echo: ${id}`)) answered.add(id);
        else refusals.push(`${response.status}`);
      } catch (err) {
        refusals.push((err as { cause?: { code?: string } }).cause?.code ?? String(err));
        return; // the listener has closed
      }
      if (!signalled && answered.size >= SIGNAL_AFTER) {
        signalled = true;
        cli.child.kill('SIGTERM');
      }
    }
  };
  await Promise.all(sessions.map((_, c) => client(c)));
  assert.ok(signalled, 'SIGTERM was sent mid-load');
  const exit = await cli.exited;
  assert.equal(exit.code, 0, `clean exit: ${cli.output().slice(-2000)}`);
  t.diagnostic(`answered ${answered.size} of ${CLIENTS * PER_CLIENT}; refused after SIGTERM: ${refusals.length} (${[...new Set(refusals)].join(', ')})`);
  assert.ok(answered.size >= SIGNAL_AFTER && answered.size < CLIENTS * PER_CLIENT, 'the signal came mid-load');

  const records = readAuditFile(path.join(dataDir, 'audit.db'));
  const recorded = new Set(records.filter((e) => e.method === 'tools/call' && e.status === 200).map((e) => e.rpcId));
  const lost = [...answered].filter((id) => !recorded.has(id));
  assert.deepEqual(lost, [], 'no answered request is missing from the audit log');
  assert.equal(records.filter((e) => e.method === 'initialize').length, CLIENTS);

  const closed = cliLogLines(cli).find((l) => l.msg === 'audit log closed') as { audit?: AuditCounters } | undefined;
  assert.ok(closed?.audit, 'the audit log reports its counters on shutdown');
  assert.equal(closed.audit.written, records.length, 'everything enqueued was written');
  assert.equal(closed.audit.enqueued, records.length);
  assert.equal(closed.audit.dropped + closed.audit.failed + closed.audit.queueDepth, 0);
});
