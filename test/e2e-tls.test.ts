// TLS on the MCP and admin listeners, with real peers: a CA and server certificates made in the
// test, the official SDK client over https (trusting the CA through an undici Agent) calling
// server-everything's echo, the admin API over https, certificate files replaced on disk and
// picked up by new connections while an open session goes on, a refused pair keeping the running
// one, a config reload naming other files, OAuth metadata saying https, plain HTTP to the TLS
// port, mutual TLS, and a key that does not match as a config error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { pino } from 'pino';
import { Agent, fetch as undiciFetch } from 'undici';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startGateway, type Gateway } from '../src/gateway.ts';
import { validateConfig } from '../src/config/load.ts';
import type { ConfigInput } from '../src/config/schema.ts';
import { ConfigError } from '../src/config/errors.ts';
import { LogCapture, randomKeyHex, runCli, startEverything, tempDir, type RunningEverything } from './helpers/gatehouse.ts';
import { freePort, stopCli, waitForLogLines } from './helpers/lifecycle-procs.ts';
import { createCa, servedCertificate, type Pem, type TestCa } from './helpers/tls-certs.ts';

let ca: TestCa;
let everything: RunningEverything;
let dir: string;
let configPath: string;
let gateway: Gateway;
let logs: LogCapture;
let agent: Agent;
const TOKEN = 'tls-test-admin-token-8c1f5e2a';

/** Writes a file the way certbot or an editor does: a new file renamed over the old one. */
function replaceFile(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

function writePair(name: string, pem: Pem): void {
  replaceFile(path.join(dir, 'certs', `${name}.pem`), pem.cert);
  replaceFile(path.join(dir, 'certs', `${name}-key.pem`), pem.key);
}

function config(tls: { cert: string; key: string } = { cert: 'certs/server.pem', key: 'certs/server-key.pem' }): ConfigInput {
  return {
    listen: { host: '127.0.0.1', port: 0, tls },
    admin: { port: 0, token: TOKEN, tls: { cert: 'certs/server.pem', key: 'certs/server-key.pem' } },
    servers: { everything: { url: `${everything.origin}/mcp` } },
    apis: [
      { name: 'everything', path: '/mcp', server: 'everything', auth: { type: 'keyless' } },
      { name: 'oauth', path: '/oauth-mcp', server: 'everything', auth: { type: 'oauth2' } },
    ],
  };
}

const fetchTrustingCa = ((url: string | URL, init?: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher: agent })) as unknown as typeof fetch;

async function connectSdk(url: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'tls-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: fetchTrustingCa });
  await client.connect(transport);
  return { client, transport };
}

/** New TLS connections until one is served the certificate with this serial (the reload is asynchronous: watch events). */
async function waitForServedSerial(port: number, serial: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const served = await servedCertificate(port, ca.cert);
    if (served.serialNumber === serial) return;
    if (Date.now() > deadline) assert.fail(`the listener still serves serial ${served.serialNumber}, expected ${serial}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

before(async () => {
  ca = await createCa();
  agent = new Agent({ connect: { ca: ca.cert } });
  everything = await startEverything();
  dir = tempDir('gatehouse-tls-');
  mkdirSync(path.join(dir, 'certs'));
  writePair('server', await ca.issue({ serial: 'A001' }));
  configPath = path.join(dir, 'gatehouse.yaml');
  writeFileSync(configPath, '# the test passes its config in code; paths are relative to this file\n');
  logs = new LogCapture();
  gateway = await startGateway({ config: config(), configPath, logger: pino({ level: 'debug' }, logs), env: { ...process.env, GATEHOUSE_SESSION_KEY: randomKeyHex() }, dataDir: path.join(dir, 'data') });
});

after(async () => {
  await gateway?.close();
  await everything?.close();
  await agent?.close();
});

test('the SDK client calls echo over https; URLs say https', async () => {
  assert.match(gateway.url('everything'), /^https:\/\/127\.0\.0\.1:\d+\/mcp$/);
  assert.match(gateway.admin!.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
  const served = await servedCertificate(gateway.port, ca.cert);
  assert.equal(served.serialNumber, 'A001');
  const { client, transport } = await connectSdk(gateway.url('everything'));
  try {
    const result = await client.callTool({ name: 'echo', arguments: { message: 'over TLS' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: over TLS' }]);
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }
});

test('the admin API answers over https, with the admin token', async () => {
  const admin = gateway.admin!.url;
  const health = await fetchTrustingCa(`${admin}-/health`);
  assert.equal(health.status, 200);
  const refused = await fetchTrustingCa(`${admin}api/overview`);
  assert.equal(refused.status, 401);
  await refused.body?.cancel();
  const metrics = await fetchTrustingCa(`${admin}metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(metrics.status, 200);
  assert.match(await metrics.text(), /gatehouse_/);
  // The sign-in cookie is Secure: the browser reached the listener over TLS.
  const login = await fetchTrustingCa(`${admin}login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${TOKEN}`, redirect: 'manual' });
  assert.equal(login.status, 303);
  assert.match(login.headers.get('set-cookie') ?? '', /;\s*Secure/i);
});

test('OAuth metadata built from the request says https when the listener serves TLS', async () => {
  const base = `https://127.0.0.1:${gateway.port}`;
  const unauthorized = await fetchTrustingCa(`${base}/oauth-mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
  assert.equal(unauthorized.status, 401);
  assert.match(unauthorized.headers.get('www-authenticate') ?? '', new RegExp(`resource_metadata="${base}/\\.well-known/oauth-protected-resource/oauth-mcp"`));
  const prm = (await (await fetchTrustingCa(`${base}/.well-known/oauth-protected-resource/oauth-mcp`)).json()) as { resource: string; authorization_servers: string[] };
  assert.equal(prm.resource, `${base}/oauth-mcp`);
  assert.deepEqual(prm.authorization_servers, [base]);
  const as = (await (await fetchTrustingCa(`${base}/.well-known/oauth-authorization-server`)).json()) as { issuer: string; token_endpoint: string };
  assert.equal(as.issuer, base);
  assert.ok(as.token_endpoint.startsWith(`${base}/`), as.token_endpoint);
});

test('plain HTTP to the TLS port is answered 400 with a JSON-RPC error saying to use https', async () => {
  const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: gateway.port, path: '/mcp', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end('{"jsonrpc":"2.0","id":1,"method":"ping"}');
  });
  assert.equal(answer.status, 400);
  const error = JSON.parse(answer.body) as { error: { code: number; message: string; data: { code: string } } };
  assert.equal(error.error.data.code, 'GH_BAD_HTTP_REQUEST');
  assert.match(error.error.message, /serves HTTPS only: use an https:\/\/ URL/);
  // The admin listener says the same in its own shape; the listener keeps serving TLS.
  const admin = await fetch(`http://127.0.0.1:${gateway.admin!.port}/-/health`);
  assert.equal(admin.status, 400);
  assert.match(((await admin.json()) as { error: string }).error, /serves HTTPS only/);
  assert.equal((await fetchTrustingCa(`https://127.0.0.1:${gateway.port}/-/health`)).status, 200);
});

test('replaced certificate files are picked up by new connections without a restart, and an open session goes on', async () => {
  const { client, transport } = await connectSdk(gateway.url('everything'));
  try {
    assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: 'before' } })).content, [{ type: 'text', text: 'Echo: before' }]);
    writePair('server', await ca.issue({ serial: 'A002' }));
    await waitForServedSerial(gateway.port, 'A002');
    await waitForServedSerial(gateway.admin!.port, 'A002');
    assert.ok(logs.lines.some((l) => l.msg === 'TLS certificate reloaded: new connections get the new one' && l.serial === 'A002'), logs.text());
    // The session opened before the change is still served (same session id, same client).
    const sessionId = transport.sessionId;
    assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: 'after' } })).content, [{ type: 'text', text: 'Echo: after' }]);
    assert.equal(transport.sessionId, sessionId);
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }
});

test('a key that does not match the new certificate is refused: the running pair stays and the log says why', async () => {
  const before = (await servedCertificate(gateway.port, ca.cert)).serialNumber;
  const stray = await ca.issue({ serial: 'B001' });
  const other = await ca.issue({ serial: 'B002' });
  replaceFile(path.join(dir, 'certs', 'server.pem'), stray.cert);
  replaceFile(path.join(dir, 'certs', 'server-key.pem'), other.key);
  await gateway.reloadTls(); // what SIGHUP does: read the files now
  assert.equal((await servedCertificate(gateway.port, ca.cert)).serialNumber, before);
  const refusal = logs.lines.find((l) => l.msg === 'new TLS certificate or key refused; the listener keeps the current pair' && l.listener === 'listen.tls');
  assert.ok(refusal, logs.text());
  assert.match(String(refusal.problems), /listen\.tls\.key: the private key in .*server-key\.pem does not belong to the certificate in .*server\.pem/);
  // The pair made whole again is taken.
  replaceFile(path.join(dir, 'certs', 'server-key.pem'), stray.key);
  await gateway.reloadTls();
  assert.equal((await servedCertificate(gateway.port, ca.cert)).serialNumber, 'B001');
});

test('a config reload that names other files applies them', async () => {
  writePair('renewed', await ca.issue({ serial: 'C001' }));
  gateway.reload(validateConfig(config({ cert: 'certs/renewed.pem', key: 'certs/renewed-key.pem' }), configPath));
  await gateway.reloadTls(); // queued after the reload's own read
  assert.equal((await servedCertificate(gateway.port, ca.cert)).serialNumber, 'C001');
  // The admin listener kept its files.
  assert.equal((await servedCertificate(gateway.admin!.port, ca.cert)).serialNumber, 'B001');
});

test('a key that does not match the certificate is a config error naming the file and field: nothing starts', async () => {
  const stray = await ca.issue({ serial: 'D001' });
  writeFileSync(path.join(dir, 'certs', 'stray-key.pem'), stray.key);
  const broken = { ...config(), listen: { host: '127.0.0.1', port: 0, tls: { cert: 'certs/server.pem', key: 'certs/stray-key.pem' } }, admin: { enabled: false } };
  const error = await startGateway({ config: broken, configPath, logger: pino({ level: 'silent' }), env: { ...process.env, GATEHOUSE_SESSION_KEY: randomKeyHex() }, dataDir: tempDir() }).then(
    async (g) => {
      await g.close();
      return assert.fail('expected a config error');
    },
    (e: unknown) => e,
  );
  assert.ok(error instanceof ConfigError, String(error));
  assert.equal(error.problems[0]!.field, 'listen.tls.key');
  assert.match(error.message, new RegExp(`${configPath.replace(/[.]/g, '\\.')}: listen\\.tls\\.key: the private key in .*stray-key\\.pem does not belong to the certificate`));
});

test('gatehouse check reads the TLS files: a mismatched key exits 1 naming the file and the field', async () => {
  const file = path.join(dir, 'check.yaml');
  writeFileSync(
    file,
    ['listen:', '  tls:', '    cert: certs/server.pem', '    key: certs/stray-key.pem', 'servers:', '  s: { url: "http://127.0.0.1:9/mcp" }', 'apis:', '  - { name: a, path: /mcp, server: s }', ''].join('\n'),
  );
  const cli = runCli(['check', '--config', file]);
  const { code } = await cli.exited;
  assert.equal(code, 1, cli.output());
  assert.match(cli.output(), /check\.yaml: listen\.tls\.key: the private key in .*stray-key\.pem does not belong to the certificate/);
});

test('mutual TLS: with listen.tls.ca, a client without a certificate signed by it is refused in the handshake', async () => {
  const clientCa = await createCa('Gatehouse Test Client CA');
  const clientCert = await clientCa.issue({ serial: 'E001', server: false, commonName: 'agent-1' });
  writeFileSync(path.join(dir, 'certs', 'client-ca.pem'), clientCa.cert);
  const mutual = await startGateway({
    config: { ...config(), listen: { host: '127.0.0.1', port: 0, tls: { cert: 'certs/server.pem', key: 'certs/server-key.pem', ca: 'certs/client-ca.pem', minVersion: 'TLSv1.3' } }, admin: { enabled: false } },
    configPath,
    logger: pino({ level: 'silent' }),
    env: { ...process.env, GATEHOUSE_SESSION_KEY: randomKeyHex() },
    dataDir: tempDir(),
  });
  try {
    assert.equal((await servedCertificate(mutual.port, ca.cert, clientCert)).serialNumber, 'B001');
    const withCert = new Agent({ connect: { ca: ca.cert, cert: clientCert.cert, key: clientCert.key } });
    const response = await undiciFetch(`https://127.0.0.1:${mutual.port}/-/health`, { dispatcher: withCert });
    assert.equal(response.status, 200);
    await withCert.close();
    // TLS 1.3 sends the refusal after the handshake: the request fails either way.
    await assert.rejects(undiciFetch(`https://127.0.0.1:${mutual.port}/-/health`, { dispatcher: agent }));
    const wrongCa = await createCa('Another CA');
    const stranger = await wrongCa.issue({ serial: 'E002', server: false, commonName: 'stranger' });
    const strangerAgent = new Agent({ connect: { ca: ca.cert, cert: stranger.cert, key: stranger.key } });
    await assert.rejects(undiciFetch(`https://127.0.0.1:${mutual.port}/-/health`, { dispatcher: strangerAgent }));
    await strangerAgent.close();
  } finally {
    await mutual.close();
  }
});

test('shutdown closes connections that are still silent or in their TLS handshake (not after the handshake timeout)', { timeout: 60_000 }, async () => {
  // With a 10-minute header timeout, a close that waited for these sockets would hit the test's timeout.
  const slow = await startGateway({
    config: { ...config(), admin: { enabled: false }, timeouts: { clientHeaders: 600_000, clientRequest: 600_000 } },
    configPath,
    logger: pino({ level: 'silent' }),
    env: { ...process.env, GATEHOUSE_SESSION_KEY: randomKeyHex() },
    dataDir: tempDir(),
  });
  const { connect } = await import('node:net');
  const open = (first?: Buffer) =>
    new Promise<import('node:net').Socket>((resolve, reject) => {
      const socket = connect(slow.port, '127.0.0.1', () => {
        if (first) socket.write(first);
        resolve(socket);
      });
      socket.once('error', reject);
    });
  const silent = await open();
  // The first bytes of a TLS handshake record, and nothing more.
  const midHandshake = await open(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff]));
  const closed = (socket: import('node:net').Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
  silent.on('error', () => undefined);
  midHandshake.on('error', () => undefined);
  await slow.close();
  await Promise.all([closed(silent), closed(midHandshake)]);
});

test('gatehouse start --config with listen.tls and --port serves HTTPS (the port override keeps tls); SIGHUP reads the files again', { timeout: 60_000 }, async (t) => {
  const cliDir = tempDir('gatehouse-tls-cli-');
  mkdirSync(path.join(cliDir, 'certs'));
  const first = await ca.issue({ serial: 'F001' });
  writeFileSync(path.join(cliDir, 'certs', 'cert.pem'), first.cert);
  writeFileSync(path.join(cliDir, 'certs', 'key.pem'), first.key, { mode: 0o600 });
  const file = path.join(cliDir, 'gatehouse.yaml');
  writeFileSync(
    file,
    [
      'listen:',
      '  port: 9',
      '  tls:',
      '    cert: certs/cert.pem',
      '    key: certs/key.pem',
      'admin:',
      '  enabled: false',
      'servers:',
      `  everything: { url: "${everything.origin}/mcp" }`,
      'apis:',
      '  - { name: everything, path: /mcp, server: everything, auth: { type: keyless } }',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const cli = runCli(['start', '--config', file, '--port', String(port)]);
  t.after(() => stopCli(cli));
  const [listening] = await waitForLogLines(cli, (l) => l.msg === 'gatehouse listening', 'Gatehouse listens');
  assert.equal(listening!.port, port);
  assert.equal(listening!.tls, true);
  assert.equal((await servedCertificate(port, ca.cert)).serialNumber, 'F001');
  const { client, transport } = await connectSdk(`https://127.0.0.1:${port}/mcp`);
  try {
    assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: 'via the CLI' } })).content, [{ type: 'text', text: 'Echo: via the CLI' }]);
    const second = await ca.issue({ serial: 'F002' });
    replaceFile(path.join(cliDir, 'certs', 'cert.pem'), second.cert);
    replaceFile(path.join(cliDir, 'certs', 'key.pem'), second.key);
    cli.child.kill('SIGHUP');
    await waitForLogLines(cli, (l) => l.msg === 'TLS certificate reloaded: new connections get the new one' && l.serial === 'F002', 'the new certificate is taken');
    assert.equal((await servedCertificate(port, ca.cert)).serialNumber, 'F002');
    assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: 'still here' } })).content, [{ type: 'text', text: 'Echo: still here' }]);
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }
  cli.child.kill('SIGTERM');
  assert.deepEqual(await cli.exited, { code: 0, signal: null });
});
