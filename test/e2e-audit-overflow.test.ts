// Overflow of the audit queue, with a tiny queue and a writer that only writes when told to:
// drop-oldest keeps the newest records and counts the rest as dropped; spill and block lose
// nothing. Counters always add up: enqueued = written + dropped + failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { raw, rawSession, sessionHeaders, startEverything, startTestGateway, tempDir, type RunningEverything } from './helpers/gatehouse.ts';
import { readAuditFile } from './helpers/audit-db.ts';
import type { ConfigInput } from '../src/config/schema.ts';

const CALLS = 20;

/** A session (initialize + initialized) and CALLS echo calls, one after another: CALLS + 2 records. */
async function traffic(url: string): Promise<void> {
  const session = await rawSession(url);
  for (let i = 0; i < CALLS; i++) {
    const answer = await raw(url, { headers: sessionHeaders(session), body: { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { message: `m${i}` } } } });
    assert.equal(answer.status, 200);
  }
}

async function run(everything: RunningEverything, audit: NonNullable<ConfigInput['audit']>) {
  const dataDir = tempDir();
  const gh = await startTestGateway({ servers: { e: { url: `${everything.origin}/mcp` } }, apis: [{ name: 'e', path: '/mcp', server: 'e' }], audit }, { dataDir });
  await traffic(gh.url());
  await gh.close();
  return { counters: gh.gateway.audit!.counters, records: readAuditFile(path.join(dataDir, 'audit.db')), dataDir };
}

test('audit queue overflow: drop-oldest counts its drops, spill and block lose nothing', { timeout: 90_000 }, async (t) => {
  const everything = await startEverything();
  t.after(() => everything.close());
  // Batches of up to 1000 every minute: the queue only empties when the gateway closes.
  const slow = { size: 1000, interval: '60s' };

  await t.test('drop-oldest', async () => {
    const { counters, records } = await run(everything, { queue: { size: 5, overflow: 'drop-oldest' }, batch: slow });
    assert.equal(counters.enqueued, CALLS + 2);
    assert.equal(counters.dropped, CALLS + 2 - 5, 'everything beyond the queue was dropped and counted');
    assert.equal(counters.written, 5);
    assert.equal(counters.failed + counters.spilled + counters.queueDepth, 0);
    assert.deepEqual(records.map((e) => e.rpcId), ['15', '16', '17', '18', '19'], 'the newest records were kept');
  });

  await t.test('spill', async () => {
    const { counters, records, dataDir } = await run(everything, { queue: { size: 5, overflow: 'spill' }, batch: slow });
    assert.equal(counters.enqueued, CALLS + 2);
    assert.equal(counters.spilled, CALLS + 2 - 5, 'what did not fit went to the spill file');
    assert.equal(counters.dropped, 0);
    assert.equal(counters.written, CALLS + 2, 'spilled records were written later');
    assert.deepEqual(records.filter((e) => e.method === 'tools/call').map((e) => Number(e.rpcId)).sort((a, b) => a - b), [...Array(CALLS).keys()]);
    assert.deepEqual(readdirSync(dataDir).filter((n) => n.startsWith('audit-spill')), [], 'spill files are removed once read back');
  });

  await t.test('block', async () => {
    // A full queue hands its records to the writer at once, and waits for the previous batch first.
    const { counters, records } = await run(everything, { queue: { size: 2, overflow: 'block' }, batch: slow });
    assert.equal(counters.enqueued, CALLS + 2);
    assert.equal(counters.dropped, 0);
    assert.equal(counters.written, CALLS + 2);
    assert.equal(records.length, CALLS + 2);
  });

  await t.test('a spill file left by a crash is written at the next start', async () => {
    const { records, dataDir } = await run(everything, { batch: slow });
    // What a crashed gateway leaves: records in the spill file that never reached the sink.
    // Marked with a suffix no record id has: ids are base 36, so one ending in "x" was once
    // taken for a leftover.
    const lost = records.slice(0, 4).map((e) => ({ ...e, id: `${e.id}-left` }));
    writeFileSync(path.join(dataDir, 'audit-spill.jsonl'), lost.map((e) => JSON.stringify(e) + '\n').join(''));
    const again = await startTestGateway({ servers: { e: { url: `${everything.origin}/mcp` } }, apis: [{ name: 'e', path: '/mcp', server: 'e' }], audit: { queue: { overflow: 'spill' } } }, { dataDir });
    await again.close();
    const after = readAuditFile(path.join(dataDir, 'audit.db'));
    assert.deepEqual(after.filter((e) => e.id.endsWith('-left')), lost, 'the leftover spill file was read back at start');
    assert.equal(existsSync(path.join(dataDir, 'audit-spill.jsonl')), false);
  });
});
