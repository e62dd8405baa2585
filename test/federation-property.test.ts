// Property: for generated tool sets on two servers and generated ACL rules (patterns over the
// federated names, conditions on mcp.server and mcp.originalName), nothing the agent may not see
// appears in a merged list, and no call of a hidden (or unknown) name reaches any server.
// Real peers: two SDK servers over Streamable HTTP (JSON answers), whose tools each generated
// case sets; one Gatehouse, reloaded with each case's rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { connectClient, startTestGateway } from './helpers/gatehouse.ts';
import { validateConfig } from '../src/config/load.ts';
import type { ConfigInput } from '../src/config/schema.ts';

interface Peer {
  url: string;
  tools: string[];
  /** Names the server was asked to run. */
  calls: string[];
  close(): Promise<void>;
}

async function startPeer(): Promise<Peer> {
  const peer: Peer = { url: '', tools: [], calls: [], close: async () => undefined };
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? sessions.get(id) : undefined;
    if (!transport) {
      const server = new McpServer({ name: 'generated', version: '1.0.0' });
      for (const name of peer.tools) {
        server.registerTool(name, { description: `tool ${name}` }, async () => {
          peer.calls.push(name);
          return { content: [{ type: 'text', text: `ran ${name}` }] };
        });
      }
      const created = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), enableJsonResponse: true, onsessioninitialized: (sid) => void sessions.set(sid, created) });
      await server.connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res);
  };
  const http = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  peer.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  peer.close = async () => {
    for (const t of sessions.values()) await t.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  };
  return peer;
}

const TOOL = fc.constantFrom('echo', 'add', 'read', 'write', 'delete', 'search', 'x.y', 'a-b');
const SERVERS = ['alpha', 'beta'] as const;

interface Rule {
  effect: 'allow' | 'deny';
  /** A literal federated name, a glob on one server's prefix, or any. */
  pattern: { type: 'literal'; value: string } | { type: 'glob'; value: string } | { type: 'any' };
  /** Optional condition on the server or the original name. */
  condition: { field: 'server' | 'originalName'; value: string } | undefined;
}

const RULE: fc.Arbitrary<Rule> = fc.record({
  effect: fc.constantFrom<'allow' | 'deny'>('allow', 'allow', 'deny'),
  pattern: fc.oneof(
    fc.tuple(fc.constantFrom(...SERVERS), TOOL).map(([s, t]) => ({ type: 'literal' as const, value: `${s}__${t}` })),
    fc.constantFrom(...SERVERS).map((s) => ({ type: 'glob' as const, value: `${s}__*` })),
    fc.constant({ type: 'any' as const }),
  ),
  condition: fc.option(
    fc.oneof(fc.constantFrom(...SERVERS).map((value) => ({ field: 'server' as const, value })), TOOL.map((value) => ({ field: 'originalName' as const, value }))),
    { nil: undefined },
  ),
});

function matches(rule: Rule, server: string, tool: string): boolean {
  const name = `${server}__${tool}`;
  const pattern = rule.pattern;
  const byPattern = pattern.type === 'any' || (pattern.type === 'literal' ? pattern.value === name : name.startsWith(pattern.value.slice(0, -1)) && !name.slice(pattern.value.length - 1).includes('/'));
  if (!byPattern) return false;
  if (!rule.condition) return true;
  return rule.condition.field === 'server' ? rule.condition.value === server : rule.condition.value === tool;
}

/** The reference model: some allow rule matches and no deny rule does. */
function visible(rules: readonly Rule[], server: string, tool: string): boolean {
  return rules.some((r) => r.effect === 'allow' && matches(r, server, tool)) && !rules.some((r) => r.effect === 'deny' && matches(r, server, tool));
}

test('property: no merged list shows, and no call reaches, what the ACL hides', { timeout: 180_000 }, async () => {
  const peers = { alpha: await startPeer(), beta: await startPeer() };
  const base = (rules: readonly Rule[]): ConfigInput => ({
    listen: { host: '127.0.0.1', port: 0 },
    servers: { alpha: { url: peers.alpha.url }, beta: { url: peers.beta.url } },
    apis: [
      {
        name: 'fed',
        path: '/mcp',
        servers: ['alpha', 'beta'],
        auth: { type: 'keyless' },
        policies: [
          {
            acl: {
              rules: rules.map((r) => ({
                effect: r.effect,
                features: [{ type: 'tools', methods: ['tools/list', 'tools/call'], pattern: r.pattern }],
                ...(r.condition ? { condition: `mcp.${r.condition.field} == ${JSON.stringify(r.condition.value)}` } : {}),
              })),
            },
          },
        ],
      },
    ],
  });
  const gh = await startTestGateway(base([]) as never);
  try {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(TOOL, { maxLength: 5 }), fc.uniqueArray(TOOL, { maxLength: 5 }), fc.array(RULE, { maxLength: 5 }), async (alphaTools, betaTools, rules) => {
        peers.alpha.tools = alphaTools;
        peers.beta.tools = betaTools;
        peers.alpha.calls = [];
        peers.beta.calls = [];
        gh.gateway.reload(validateConfig(base(rules)));
        const c = await connectClient(gh.url('fed'));
        try {
          const listed = (await c.client.listTools()).tools.map((t) => t.name);
          const offered: Array<[string, string]> = [...alphaTools.map((t) => ['alpha', t] as [string, string]), ...betaTools.map((t) => ['beta', t] as [string, string])];
          const expected = offered.filter(([s, t]) => visible(rules, s, t)).map(([s, t]) => `${s}__${t}`);
          assert.deepEqual(listed, expected, 'exactly the visible tools, in server order');
          for (const server of SERVERS) {
            for (const tool of ['echo', 'add', 'read', 'write', 'delete', 'search', 'x.y', 'a-b']) {
              const name = `${server}__${tool}`;
              const result = await c.client.callTool({ name, arguments: {} });
              const ran = (server === 'alpha' ? alphaTools : betaTools).includes(tool as never) && visible(rules, server, tool);
              if (ran) assert.deepEqual(result.content, [{ type: 'text', text: `ran ${tool}` }], name);
              else assert.deepEqual(result.content, [{ type: 'text', text: `MCP error -32602: Tool ${name} not found` }], name);
            }
          }
          const reached = [...peers.alpha.calls.map((t) => ['alpha', t]), ...peers.beta.calls.map((t) => ['beta', t])];
          for (const [s, t] of reached) assert.ok(visible(rules, s!, t!), `a call of hidden ${s}__${t} reached its server`);
        } finally {
          await c.close();
        }
      }),
      { numRuns: 60 },
    );
  } finally {
    await gh.close();
    await peers.alpha.close();
    await peers.beta.close();
  }
});
