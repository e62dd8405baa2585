// `gatehouse users create/list/disable/enable/passwd/totp` against the store a config names, then a person
// created that way signs in at the embedded authorization server of a Gatehouse using that store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, tempDir } from './helpers/gatehouse.ts';
import { pino } from 'pino';
import { startGateway } from '../src/gateway.ts';
import { loadConfigFile } from '../src/config/load.ts';
import { pkcePair, playUser, registerClient, tokenRequest } from './helpers/oauth-flow.ts';
import { Authenticator } from './helpers/authenticator.ts';

function gatehouse(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.GATEHOUSE_DATA_DIR; // the config's dataDir decides
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(stdin ?? '');
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}


/** A config in a fresh folder: one API on the embedded authorization server, its store in ./data. */
function oauth2Config(): string {
  const config = path.join(tempDir(), 'gatehouse.yaml');
  writeFileSync(
    config,
    ['dataDir: ./data', 'listen: { host: 127.0.0.1, port: 0 }', 'servers:', '  everything: { url: "http://127.0.0.1:9/mcp" }', 'apis:', '  - { name: everything, path: /mcp, server: everything, auth: { type: oauth2 } }', ''].join('\n'),
  );
  return config;
}

test('users are created from stdin, listed, disabled and enabled; they sign in at the authorization server', async () => {
  const config = oauth2Config();
  const secret = 'a long enough passphrase';

  const created = await gatehouse(['users', 'create', 'grace', '--password-stdin', '-c', config], `${secret}\n`);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /^created user grace \(id [0-9a-f-]{36}\)\n$/);

  const duplicate = await gatehouse(['users', 'create', 'grace', '--password-stdin', '-c', config], 'another password\n');
  assert.equal(duplicate.code, 1);
  assert.match(duplicate.stderr, /already exists/);
  const short = await gatehouse(['users', 'create', 'linus', '--password-stdin', '-c', config], 'short\n');
  assert.equal(short.code, 1);
  assert.match(short.stderr, /at least 8 characters/);
  const badName = await gatehouse(['users', 'create', '-x-', '--password-stdin', '-c', config], `${secret}\n`);
  assert.equal(badName.code, 1);
  const none = await gatehouse(['users', 'create', 'linus', '-c', config]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /--password-stdin/);
  const onCommandLine = await gatehouse(['users', 'create', 'linus', '--password', 'visible password', '-c', config]);
  assert.equal(onCommandLine.code, 0, onCommandLine.stderr);
  assert.match(onCommandLine.stderr, /warning: .*process list/);

  const listed = await gatehouse(['users', 'list', '-c', config]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^USERNAME +ID +TENANT +CREATED +STATUS +2FA\n/);
  assert.match(listed.stdout, /grace +\S+ +default +\S+ +active/);
  assert.match(listed.stdout, /linus +\S+ +default +\S+ +active/);
  for (const output of [created, listed, onCommandLine].map((r) => r.stdout + r.stderr)) {
    assert.ok(!output.includes(secret) && !output.includes('visible password'), 'no password printed');
  }

  const disabled = await gatehouse(['users', 'disable', 'linus', '-c', config]);
  assert.equal(disabled.code, 0, disabled.stderr);
  const json = JSON.parse((await gatehouse(['users', 'list', '--json', '-c', config])).stdout) as Array<{ username: string; status: string }>;
  assert.deepEqual(json.map((u) => [u.username, u.status]), [['grace', 'active'], ['linus', 'disabled']]);
  const unknown = await gatehouse(['users', 'disable', 'nobody', '-c', config]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no user named "nobody"/);
  const missingConfig = await gatehouse(['users', 'list', '-c', path.join(path.dirname(config), 'missing.yaml')]);
  assert.equal(missingConfig.code, 2);

  // The same store behind a running Gatehouse: grace signs in, disabled linus does not, until enabled.
  const env = { ...process.env };
  delete env.GATEHOUSE_DATA_DIR; // the config's dataDir decides, as it did for the CLI
  const gateway = await startGateway({ config: await loadConfigFile(config), configPath: config, logger: pino({ level: 'silent' }), env });
  try {
    const origin = `http://127.0.0.1:${gateway.port}`;
    const redirect = 'http://127.0.0.1:9997/cb';
    const clientId = await registerClient(origin, { redirect_uris: [redirect] });
    const authorize = async () => {
      const { challenge } = await pkcePair();
      const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256', resource: `${origin}/mcp` });
      return `${origin}/oauth/authorize?${query}`;
    };
    const grace = await playUser(await authorize(), { username: 'grace', password: secret });
    assert.ok(grace.final.searchParams.get('code'));
    await assert.rejects(playUser(await authorize(), { username: 'linus', password: 'visible password' }), /sign-in answered 401/);
    assert.equal((await gatehouse(['users', 'enable', 'linus', '-c', config])).code, 0);
    const linus = await playUser(await authorize(), { username: 'linus', password: 'visible password' });
    assert.ok(linus.final.searchParams.get('code'));
  } finally {
    await gateway.close();
  }
});

test('users passwd sets a new password: the old one no longer signs in, and refresh tokens and codes from before it are refused (invalid_grant)', async () => {
  const config = oauth2Config();
  const before = 'the first long passphrase';
  const after = 'the second long passphrase';
  assert.equal((await gatehouse(['users', 'create', 'grace', '--password-stdin', '-c', config], before)).code, 0);
  const env = { ...process.env };
  delete env.GATEHOUSE_DATA_DIR;
  const gateway = await startGateway({ config: await loadConfigFile(config), configPath: config, logger: pino({ level: 'silent' }), env });
  try {
    const origin = `http://127.0.0.1:${gateway.port}`;
    const redirect = 'http://127.0.0.1:9997/cb';
    const clientId = await registerClient(origin, { redirect_uris: [redirect], scope: 'mcp offline_access' });
    const signIn = async (password: string) => {
      const { verifier, challenge } = await pkcePair();
      const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256', scope: 'mcp offline_access', resource: `${origin}/mcp` });
      const { final } = await playUser(`${origin}/oauth/authorize?${query}`, { username: 'grace', password });
      return { code: final.searchParams.get('code')!, verifier };
    };
    const exchange = (code: string, verifier: string) => tokenRequest(origin, { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId, redirect_uri: redirect, resource: `${origin}/mcp` });
    const first = await signIn(before);
    const tokens = await exchange(first.code, first.verifier);
    assert.equal(tokens.status, 200);
    const pending = await signIn(before); // a code not yet exchanged when the password changes

    const reset = await gatehouse(['users', 'passwd', 'grace', '--password-stdin', '-c', config], after);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /^password of grace set/);
    assert.ok(!(reset.stdout + reset.stderr).includes(after), 'the password is not printed');
    const weak = await gatehouse(['users', 'passwd', 'grace', '--password-stdin', '-c', config], 'short');
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /at least 8 characters/);
    const nobody = await gatehouse(['users', 'passwd', 'nobody', '--password-stdin', '-c', config], after);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /no user named "nobody"/);

    const refreshed = await tokenRequest(origin, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token), client_id: clientId });
    assert.equal(refreshed.status, 400);
    assert.equal(refreshed.body.error, 'invalid_grant');
    assert.match(String(refreshed.body.error_description), /password changed/);
    const late = await exchange(pending.code, pending.verifier);
    assert.equal(late.status, 400);
    assert.equal(late.body.error, 'invalid_grant');
    await assert.rejects(signIn(before), /sign-in answered 401/);
    const fresh = await signIn(after);
    const renewed = await exchange(fresh.code, fresh.verifier);
    assert.equal(renewed.status, 200);
    assert.equal((await tokenRequest(origin, { grant_type: 'refresh_token', refresh_token: String(renewed.body.refresh_token), client_id: clientId })).status, 200);
  } finally {
    await gateway.close();
  }
});

test('users create --tenant puts the user in a declared tenant, listed with it; an unknown tenant is refused', async () => {
  const dir = tempDir();
  const config = path.join(dir, 'gatehouse.yaml');
  writeFileSync(config, ['dataDir: ./data', 'listen: { host: 127.0.0.1, port: 0 }', 'tenants:', '  - { id: acme, pathPrefix: /acme }', 'servers:', '  acme-s: { url: "https://mcp.example.com/mcp", tenant: acme }', 'apis:', '  - { name: acme-api, path: /acme/mcp, server: acme-s, tenant: acme, auth: { type: oauth2 } }', ''].join('\n'));
  const created = await gatehouse(['users', 'create', 'ann', '--tenant', 'acme', '--password-stdin', '-c', config], 'a long enough passphrase\n');
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /^created user ann \(id [0-9a-f-]{36}\) in tenant acme\n$/);
  const unknown = await gatehouse(['users', 'create', 'bob', '--tenant', 'globex', '--password-stdin', '-c', config], 'a long enough passphrase\n');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /--tenant: no tenant "globex" .*expected one of acme or default/);
  const platform = await gatehouse(['users', 'create', 'root', '--external', '-c', config]);
  assert.equal(platform.code, 0, platform.stderr);
  const listed = await gatehouse(['users', 'list', '-c', config]);
  assert.match(listed.stdout, /ann +\S+ +acme +\S+ +active/);
  assert.match(listed.stdout, /root +\S+ +default +\S+ +active/);
  assert.doesNotMatch(listed.stdout, /bob/);
  const json = JSON.parse((await gatehouse(['users', 'list', '--json', '-c', config])).stdout) as Array<{ username: string; tenant: string }>;
  assert.deepEqual(json.map((u) => [u.username, u.tenant]), [['ann', 'acme'], ['root', 'default']]);
});

test('users totp enable prints the otpauth URI once and the user then signs in with a code; disable removes it', async () => {
  const config = oauth2Config();
  const password = 'a long enough passphrase';
  assert.equal((await gatehouse(['users', 'create', 'grace', '--password-stdin', '-c', config], password)).code, 0);
  const enabled = await gatehouse(['users', 'totp', 'enable', 'grace', '-c', config]);
  assert.equal(enabled.code, 0, enabled.stderr);
  const uri = /^(otpauth:\/\/totp\/\S+)$/m.exec(enabled.stdout)?.[1];
  assert.ok(uri, enabled.stdout);
  const app = new Authenticator(uri);
  assert.match(enabled.stdout, new RegExp(`^secret \\(base32\\): ${app.secret}$`, 'm'));
  assert.equal((await gatehouse(['users', 'totp', 'enable', 'nobody', '-c', config])).code, 1);
  const listed = JSON.parse((await gatehouse(['users', 'list', '--json', '-c', config])).stdout) as Array<{ username: string; totp: boolean }>;
  assert.deepEqual(listed.map((u) => [u.username, u.totp]), [['grace', true]]);
  assert.ok(!(await gatehouse(['users', 'list', '-c', config])).stdout.includes(app.secret), 'list never shows the secret');

  const env = { ...process.env };
  delete env.GATEHOUSE_DATA_DIR;
  const gateway = await startGateway({ config: await loadConfigFile(config), configPath: config, logger: pino({ level: 'silent' }), env });
  try {
    // Sealed in the store under the credentials key the running Gatehouse reads too.
    const stored = await gateway.store.getUserByName('grace');
    assert.match(stored?.totpSecret ?? '', /^gj1\./);
    assert.ok(!stored!.totpSecret!.includes(app.secret));
    const origin = `http://127.0.0.1:${gateway.port}`;
    const redirect = 'http://127.0.0.1:9997/cb';
    const clientId = await registerClient(origin, { redirect_uris: [redirect] });
    const authorize = async () => {
      const { challenge } = await pkcePair();
      return `${origin}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256', resource: `${origin}/mcp` })}`;
    };
    await assert.rejects(playUser(await authorize(), { username: 'grace', password }), /asked for a second-factor code/);
    await assert.rejects(playUser(await authorize(), { username: 'grace', password, code: () => app.wrongCode() }), /sign-in answered 401/);
    const signedIn = await playUser(await authorize(), { username: 'grace', password, code: () => app.code() });
    assert.ok(signedIn.final.searchParams.get('code'));

    const disabled = await gatehouse(['users', 'totp', 'disable', 'grace', '-c', config]);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.match(disabled.stdout, /two-factor sign-in disabled for grace/);
    assert.equal((await gateway.store.getUserByName('grace'))?.totpSecret, undefined);
    const passwordOnly = await playUser(await authorize(), { username: 'grace', password });
    assert.ok(passwordOnly.final.searchParams.get('code'));
    assert.equal((await gatehouse(['users', 'totp', 'disable', 'nobody', '-c', config])).code, 1);
  } finally {
    await gateway.close();
  }
});
