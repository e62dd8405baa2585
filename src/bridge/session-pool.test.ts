// The pool of bridged sessions (session-pool.ts): one per API, agent and declaration, whatever
// the key order of the declaration, found without a promise once open.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { JsonRpcMessage } from '../mcp/jsonrpc.ts';
import type { IncomingMessage } from 'node:http';
import type { MessageChannel } from '../upstream/channel.ts';
import type { CallerSlot, CredentialContext } from '../upstream/upstream.ts';
import { LegacySession } from './legacy-session.ts';
import { SessionPool } from './session-pool.ts';

/** A 2025 server that answers initialize and nothing else. */
class InitChannel implements MessageChannel {
  onmessage: ((message: JsonRpcMessage) => void) | undefined;
  onclose: ((reason: string) => void) | undefined;
  async start(): Promise<void> {}
  send(message: JsonRpcMessage): void {
    if ('method' in message && message.method === 'initialize' && 'id' in message) {
      const id = message.id;
      queueMicrotask(() => this.onmessage?.({ jsonrpc: '2.0', id, result: { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 's', version: '1' } } }));
    }
  }
  async close(): Promise<void> {
    this.onclose?.('was closed');
  }
}

function pool(): SessionPool {
  return new SessionPool('s', () => new InitChannel(), { maxSessions: 100, idleTimeout: 60_000, responseTimeout: 5_000 }, pino({ level: 'silent' }));
}

const open = async (p: SessionPool, sub: string, capabilities: Record<string, unknown>, clientInfo: Record<string, unknown>): Promise<LegacySession> => {
  const got = p.acquire('api', sub, capabilities as never, clientInfo as never);
  return got instanceof Promise ? await got : got;
};

test('one session per agent and declaration, whatever the key order; an open one is returned without a promise', async () => {
  const p = pool();
  const first = await open(p, 'agent-a', { sampling: {}, elicitation: {} }, { name: 'c', version: '1' });
  const again = p.acquire('api', 'agent-a', { elicitation: {}, sampling: {} }, { version: '1', name: 'c' });
  assert.ok(again instanceof LegacySession, 'an open session is returned as it is');
  assert.equal(again, first);
  assert.notEqual(await open(p, 'agent-b', { sampling: {}, elicitation: {} }, { name: 'c', version: '1' }), first, 'two agents never share a session');
  assert.notEqual(await open(p, 'agent-a', { sampling: {} }, { name: 'c', version: '1' }), first, 'another declaration gets its own');
  assert.equal(p.size, 3);
  await p.close();
});

test('a declaration too long to be remembered as sent still finds its session', async () => {
  const p = pool();
  const clientInfo = { name: 'c', version: '1', description: 'x'.repeat(5000) };
  const first = await open(p, 'agent-a', {}, clientInfo);
  assert.equal(await open(p, 'agent-a', {}, { ...clientInfo }), first);
  await p.close();
});

test('a closed session is not returned: the next request opens another', async () => {
  const p = pool();
  const first = await open(p, 'agent-a', {}, { name: 'c', version: '1' });
  await first.close();
  const next = await open(p, 'agent-a', {}, { name: 'c', version: '1' });
  assert.notEqual(next, first);
  assert.equal(next.closed, false);
  await p.close();
});

test('each session\'s channel sends for its own caller: set when it opens, updated by each later request of that agent', async () => {
  const slots = new Map<string, CallerSlot>();
  const p = new SessionPool(
    's',
    (_log, caller) => {
      slots.set(String(caller.current?.principal.id), caller);
      return new InitChannel();
    },
    { maxSessions: 100, idleTimeout: 60_000, responseTimeout: 5_000 },
    pino({ level: 'silent' }),
  );
  const caller = (user: string, method: string): CredentialContext => ({ principal: { kind: 'user', id: user, key: `oauth2:iss:${user}:app`, plan: 'oauth2', user: { id: user } }, req: {} as IncomingMessage, method });
  const acquire = async (user: string, method: string) => {
    const got = p.acquire('api', `oauth2:iss:${user}:app`, {}, { name: 'c', version: '1' }, caller(user, method));
    return got instanceof Promise ? await got : got;
  };
  const grace = await acquire('grace', 'tools/list');
  const heidi = await acquire('heidi', 'tools/list');
  assert.notEqual(grace, heidi, 'two users never share a session');
  assert.equal(slots.get('grace')!.current!.method, 'tools/list');
  assert.equal(await acquire('grace', 'tools/call'), grace);
  assert.equal(slots.get('grace')!.current!.method, 'tools/call', 'the later request is the one the channel sends for');
  assert.equal(slots.get('heidi')!.current!.principal.id, 'heidi', 'and the other user\'s session is untouched');
  assert.equal(slots.get('heidi')!.current!.method, 'tools/list');
  await p.close();
});
