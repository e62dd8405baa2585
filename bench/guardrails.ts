// What content guardrails cost per kilobyte of result text: each detector Gatehouse ships alone,
// and the whole policy (redact, strip, flag) on a tool result, for a small result and a 100 KB
// one; with `--libs <dir>`, also the maintained detectors considered (secretlint with its
// recommended preset, openredaction), resolved from a directory where they are installed (they are
// not dependencies). Paired rounds: every case runs once per round, in a rotated order, and the
// median over rounds is reported with its spread, so a busy machine shifts all cases alike.
//   node --import tsx bench/guardrails.ts [rounds, default 15] [--libs <dir>]
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { findSecrets } from '../src/policy/guardrails/secrets.ts';
import { findPersonalData } from '../src/policy/guardrails/personal-data.ts';
import { findInjection } from '../src/policy/guardrails/injection.ts';
import { GuardrailsPolicy } from '../src/policy/guardrails/guardrails-policy.ts';
import { GuardrailsPolicySchema } from '../src/policy/guardrails/schema.ts';
import type { PolicyContext } from '../src/policy/policy.ts';
import type { JsonRpcMessage, JsonRpcRequest } from '../src/mcp/jsonrpc.ts';
import { fmt, median, quantile, table } from './stats.ts';

const args = process.argv.slice(2);
const libsAt = args.includes('--libs') ? args[args.indexOf('--libs') + 1] : undefined;
const ROUNDS = Number(args.find((a) => /^\d+$/.test(a)) ?? 15);
/** Each case runs at least this long per round (ms), so timer resolution does not matter. */
const MIN_MS = 40;

// Ordinary text with, once per KB, an e-mail address and a key: the detectors do their full work.
const LINE = 'The deploy of service api-7 finished at 12:04 with 3 warnings; see the log for details and contact ';
const kb = (n: number): string => {
  let text = '';
  for (let i = 0; text.length < n * 1024; i++) text += i % 10 === 0 ? `${LINE}ops${i}@example.com about AKIAIOSFODNN7EXAMPLE. ` : `${LINE}the on-call engineer. `;
  return text.slice(0, n * 1024);
};
const SMALL = kb(1);
const LARGE = kb(100);

const ctx = { api: 'bench', server: 'bench', trace: [] as unknown[] } as unknown as PolicyContext;
const request: JsonRpcRequest = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'fetch', arguments: {} } };
const policy = new GuardrailsPolicy(GuardrailsPolicySchema.parse({ guardrails: { secrets: 'redact', personalData: 'redact', injection: 'strip' } }).guardrails);
const answer = (text: string): JsonRpcMessage => ({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text }] } });

type Case = { name: string; bytes: number; run: () => unknown };
const cases: Case[] = [];
for (const [label, text] of [['1 KB', SMALL], ['100 KB', LARGE]] as const) {
  const message = answer(text);
  cases.push(
    { name: `secrets (${label})`, bytes: text.length, run: () => findSecrets(text) },
    { name: `personal data (${label})`, bytes: text.length, run: () => findPersonalData(text) },
    { name: `injection markers (${label})`, bytes: text.length, run: () => findInjection(text) },
    {
      name: `guardrails policy, all on (${label})`,
      bytes: text.length,
      run: () => {
        (ctx.trace as unknown[]).length = 0;
        return policy.onResponse(ctx, message, request);
      },
    },
  );
}

if (libsAt !== undefined) {
  const load = async (name: string): Promise<Record<string, unknown>> => {
    const resolved = createRequire(`${libsAt}/package.json`).resolve(name);
    return (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
  };
  const core = await load('@secretlint/core');
  const preset = await load('@secretlint/secretlint-rule-preset-recommend');
  const lintSource = core.lintSource as (input: unknown) => Promise<unknown>;
  const options = { config: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: preset.creator }] } };
  const OpenRedaction = (await load('@openredaction/openredaction')).OpenRedaction as new () => { detect(text: string): unknown };
  const openredaction = new OpenRedaction();
  for (const [label, text] of [['1 KB', SMALL], ['100 KB', LARGE]] as const) {
    cases.push(
      { name: `secretlint recommended (${label}, async)`, bytes: text.length, run: () => lintSource({ source: { content: text, filePath: 'result.txt', contentType: 'text' }, options }) },
      { name: `openredaction detect (${label})`, bytes: text.length, run: () => openredaction.detect(text) },
    );
  }
}

/** µs per KB of one timed stretch of a case. */
async function measure(c: Case): Promise<number> {
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < MIN_MS) {
    await c.run();
    n++;
    elapsed = performance.now() - start;
  }
  return (elapsed * 1000) / n / (c.bytes / 1024);
}

for (const c of cases) await measure(c); // warm-up: compile the regexes, JIT the code
const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < cases.length; i++) {
    const c = cases[(i + round) % cases.length]!;
    samples.get(c.name)!.push(await measure(c));
  }
}
const rows = cases.map((c) => {
  const sorted = [...samples.get(c.name)!].sort((a, b) => a - b);
  return [c.name, fmt(median(sorted), 1), `${fmt(quantile(sorted, 0.25), 1)}–${fmt(quantile(sorted, 0.75), 1)}`];
});
console.log(`${ROUNDS} paired rounds, node ${process.version}`);
console.log(table(['case', 'µs per KB (median)', 'interquartile'], rows));
