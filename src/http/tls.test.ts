// Reading and checking a listener's TLS files: every problem names the config file, the field
// and what is expected; paths are relative to the config file.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCa, type Pem, type TestCa } from '../../test/helpers/tls-certs.ts';
import { ConfigError } from '../config/errors.ts';
import { loadListenersTls, readTlsMaterial, resolveTlsFiles, sameMaterial, validityProblem } from './tls.ts';

let ca: TestCa;
let leaf: Pem;
let other: Pem;
let dir: string;
const CONFIG = () => path.join(dir, 'gatehouse.yaml');
const source = () => ({ configFile: CONFIG(), field: 'listen.tls' as const });

function write(name: string, text: string): string {
  writeFileSync(path.join(dir, name), text);
  return name;
}

before(async () => {
  ca = await createCa();
  leaf = await ca.issue({ serial: '1001' });
  other = await ca.issue({ serial: '1002' });
  dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-tls-'));
  write('cert.pem', leaf.cert);
  write('key.pem', leaf.key);
  write('other-key.pem', other.key);
  write('ca.pem', ca.cert);
  write('chain.pem', leaf.cert + ca.cert);
});

async function problems(tls: { cert: string; key: string; ca?: string }): Promise<ConfigError> {
  const error = await readTlsMaterial(resolveTlsFiles({ ...tls, minVersion: 'TLSv1.2' }, CONFIG()), source()).then(
    () => assert.fail('expected a ConfigError'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ConfigError, String(error));
  assert.equal(error.file, CONFIG());
  return error;
}

test('paths are relative to the config file, not the working directory', () => {
  const files = resolveTlsFiles({ cert: 'certs/cert.pem', key: '/etc/key.pem', minVersion: 'TLSv1.3' }, '/srv/gatehouse/gatehouse.yaml');
  assert.equal(files.cert, '/srv/gatehouse/certs/cert.pem');
  assert.equal(files.key, '/etc/key.pem');
  assert.equal(files.ca, undefined);
});

test('a matching certificate (with its chain) and key are read', async () => {
  const material = await readTlsMaterial(resolveTlsFiles({ cert: 'chain.pem', key: 'key.pem', ca: 'ca.pem', minVersion: 'TLSv1.2' }, CONFIG()), source());
  assert.equal(material.leaf.serialNumber, '1001');
  assert.ok(material.ca);
  assert.equal(validityProblem(material.leaf), undefined);
  const again = await readTlsMaterial(resolveTlsFiles({ cert: 'chain.pem', key: 'key.pem', ca: 'ca.pem', minVersion: 'TLSv1.2' }, CONFIG()), source());
  assert.ok(sameMaterial(material, again));
});

test('a key that does not belong to the certificate is a config error naming the key file and the field', async () => {
  const error = await problems({ cert: 'cert.pem', key: 'other-key.pem' });
  assert.equal(error.problems.length, 1);
  assert.equal(error.problems[0]!.field, 'listen.tls.key');
  assert.match(error.message, /other-key\.pem does not belong to the certificate in .*cert\.pem \(subject CN=localhost, serial 1001/);
  assert.match(error.message, /listen\.tls\.key: /);
  assert.ok(error.message.includes(CONFIG()));
});

test('a missing file is named with its absolute path and the field', async () => {
  const error = await problems({ cert: 'missing.pem', key: 'key.pem' });
  assert.equal(error.problems[0]!.field, 'listen.tls.cert');
  assert.match(error.problems[0]!.message, new RegExp(`cannot read ${path.join(dir, 'missing.pem').replace(/[.]/g, '\\.')}: file not found`));
});

test('a file that is not a PEM certificate says so, and swapped files are pointed out', async () => {
  write('garbage.pem', 'not a certificate\n');
  const garbage = await problems({ cert: 'garbage.pem', key: 'key.pem' });
  assert.equal(garbage.problems[0]!.field, 'listen.tls.cert');
  assert.match(garbage.problems[0]!.message, /is not a PEM certificate: expected one or more "-----BEGIN CERTIFICATE-----" blocks/);

  const swapped = await problems({ cert: 'key.pem', key: 'cert.pem' });
  assert.deepEqual(
    swapped.problems.map((p) => p.field),
    ['listen.tls.cert', 'listen.tls.key'],
  );
  assert.match(swapped.problems[0]!.message, /are cert and key swapped\?/);
  assert.match(swapped.problems[1]!.message, /are cert and key swapped\?/);
});

test('a damaged certificate block and an encrypted key are refused with what is expected', async () => {
  write('damaged.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  write('encrypted.pem', '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n');
  const error = await problems({ cert: 'damaged.pem', key: 'encrypted.pem' });
  assert.match(error.problems[0]!.message, /certificate 1 in .*damaged\.pem cannot be parsed .*expected a PEM X\.509 certificate/);
  assert.match(error.problems[1]!.message, /is encrypted: expected an unencrypted PEM key/);
});

test('the client CA file is checked too (admin.tls.ca)', async () => {
  write('not-ca.pem', leaf.key);
  const error = await loadListenersTls(
    { listen: { tls: { cert: 'cert.pem', key: 'key.pem', minVersion: 'TLSv1.2' } }, admin: { enabled: true, tls: { cert: 'cert.pem', key: 'other-key.pem', ca: 'not-ca.pem', minVersion: 'TLSv1.2' } } },
    CONFIG(),
  ).then(
    () => assert.fail('expected a ConfigError'),
    (e: unknown) => e as ConfigError,
  );
  assert.ok(error instanceof ConfigError);
  assert.deepEqual(
    error.problems.map((p) => p.field),
    ['admin.tls.ca', 'admin.tls.key'],
  );
});

test('a disabled admin listener\'s TLS files are not read', async () => {
  const loaded = await loadListenersTls({ listen: {}, admin: { enabled: false, tls: { cert: 'missing.pem', key: 'missing.pem', minVersion: 'TLSv1.2' } } }, CONFIG());
  assert.equal(loaded.mcp, undefined);
  assert.equal(loaded.admin, undefined);
});
