// The official MCP conformance suite, directly and through Gatehouse (test/conformance/run.ts).
// It needs Node 22 and the pinned suite; without them it skips with one line, unless
// GATEHOUSE_REQUIRE_CONFORMANCE=1 (CI) makes that a failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { findSuite, REPO_ROOT } from './conformance/suite.ts';

const found = findSuite();
const missing = 'missing' in found ? found.missing : undefined;
const required = process.env['GATEHOUSE_REQUIRE_CONFORMANCE'] === '1';
// CI runs the suite once (on the first Node leg) and sets this on the other leg.
const off = process.env['GATEHOUSE_CONFORMANCE'] === 'off';

test(
  'the conformance suite: every check that passes against an upstream directly passes through Gatehouse (keyless, api-key, ACL, stdio, federated), or is a listed known difference; the authorization command passes against the embedded authorization server',
  { timeout: 720_000, skip: off ? 'conformance suite: GATEHOUSE_CONFORMANCE=off (CI runs it on the other Node leg)' : missing && !required ? `conformance suite not available: ${missing}` : false },
  async () => {
    assert.equal(missing, undefined, `GATEHOUSE_REQUIRE_CONFORMANCE=1 but ${missing}`);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join('test', 'conformance', 'run.ts')], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, output.slice(-20_000));
    assert.match(output, /0 unlisted/);
  },
);
