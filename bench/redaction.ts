// What payload redaction costs the audit writer thread, per record: records per second through
// the writer's payload step (finishPayloads: parse, redact, re-serialize, cut) with the redactor
// Gatehouse ships and with none, on payloads of the shapes MCP traffic has.
//   node --import tsx bench/redaction.ts [seconds per case, default 2]
import { finishPayloads, payloadText, type RawPayloads } from '../src/audit/payloads.ts';
import { compileRedactor, type Redactor } from '../src/audit/redact.ts';
import type { AuditEvent } from '../src/audit/event.ts';

const SECONDS = Number(process.argv[2] ?? 2);
const MAX = 8 * 1024;
const ROOM = MAX * 2 + 4096;

const NONE: Redactor = { value: (value) => value, text: (text) => text };

const sse = (message: unknown) => `event: message\ndata: ${JSON.stringify(message)}\n\n`;

/** A tools/call and its answer as the writer gets them: the params as JSON text, the SSE body as kept. */
function call(params: unknown, result: unknown): RawPayloads {
  return { redaction: 0, maxBytes: MAX, request: payloadText(params, ROOM), answer: undefined, body: sse({ jsonrpc: '2.0', id: 7, result }).slice(0, ROOM), bodyIsOwn: true };
}

const issues = Array.from({ length: 30 }, (_, i) => `#${1000 + i} Memory leak when the worker restarts (opened by user${i}, 3 comments, sha 9f8e7d6c5b4a39281706f5e4d3c2b1a0${i % 10}abcdef)`).join('\n');
const tools = Array.from({ length: 25 }, (_, i) => ({
  name: `tool_${i}`,
  description: `Does thing number ${i}: reads the repository, filters by label and returns at most "limit" results. Needs a token with repo scope.`,
  inputSchema: { type: 'object', properties: { query: { type: 'string' }, limit: { type: 'number' }, token: { type: 'string', description: 'optional override' } }, required: ['query'] },
}));
const secrets = [
  'config {"password": "hunter2", "ADMIN_TOKEN": "abc123"}',
  'clone https://deploy:s3cr3t@git.example.com/app.git',
  'client_id=app&client_secret=xyz123&grant_type=client_credentials',
  'charge with sk_live_51HxQ2eLmNoPqRsTuVwXyZ01',
  '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx4UbaDzYk3vQ9\n-----END RSA PRIVATE KEY-----',
].join('\n');

const CASES: Array<[name: string, raw: RawPayloads]> = [
  ['echo (120 B request, 150 B answer)', call({ name: 'echo', arguments: { message: 'hello from the bench' } }, { content: [{ type: 'text', text: 'Echo: hello from the bench' }] })],
  ['search result (4 KB of text)', call({ name: 'search_issues', arguments: { query: 'label:bug state:open memory leak', limit: 30 } }, { content: [{ type: 'text', text: issues }] })],
  ['tools/list answer (8 KB)', { redaction: 0, maxBytes: MAX, request: payloadText({}, ROOM), answer: undefined, body: sse({ jsonrpc: '2.0', id: 7, result: { tools } }).slice(0, ROOM), bodyIsOwn: true }],
  ['call with secrets in arguments and result', call({ name: 'run', arguments: { script: secrets, dbPass: 'x', apiKey: 'y' } }, { content: [{ type: 'text', text: secrets }] })],
];

function record(raw: RawPayloads): AuditEvent {
  return { id: 'x', time: 0, api: 'a', tenant: undefined, agent: 'a', user: undefined, clientAddress: undefined, session: undefined, rpcId: '7', method: 'tools/call', feature: 'tools', target: 'echo', server: 'everything', originalTarget: 'echo', decision: 'allowed', rule: undefined, reason: undefined, status: 200, upstreamStatus: 200, errorCode: undefined, toolError: false, durationMs: 1, upstreamMs: 1, bytesIn: 1, bytesOut: 1, request: undefined, response: undefined, trace: undefined, raw };
}

/** Records per second over one short round. */
function round(raw: RawPayloads, redactor: Redactor, ms: number): number {
  const batch = Array.from({ length: 50 }, () => record(raw));
  const start = performance.now();
  const deadline = start + ms;
  let done = 0;
  while (performance.now() < deadline) {
    for (const event of batch) {
      event.raw = raw;
      finishPayloads(event, redactor);
    }
    done += batch.length;
  }
  return done / ((performance.now() - start) / 1000);
}

const redactor = compileRedactor(['ssn']);
const ROUNDS = 10;
console.log(`payload step of the audit writer: best of ${ROUNDS} alternating rounds per case, ${SECONDS} s in all per case, node ${process.version}`);
console.log('case | records/s without redaction | records/s with | µs per record added');
for (const [name, raw] of CASES) {
  // Alternating short rounds, best of each: a busy machine slows some rounds, not the best one.
  let without = 0;
  let withIt = 0;
  for (let i = 0; i < ROUNDS; i++) {
    without = Math.max(without, round(raw, NONE, (SECONDS * 1000) / ROUNDS / 2));
    withIt = Math.max(withIt, round(raw, redactor, (SECONDS * 1000) / ROUNDS / 2));
  }
  console.log(`${name} | ${Math.round(without)} | ${Math.round(withIt)} | ${(1e6 / withIt - 1e6 / without).toFixed(1)}`);
}
