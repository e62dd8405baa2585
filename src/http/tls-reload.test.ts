// The certificate reloader without file watching: the periodic stat alone notices replaced files
// (file systems where watching does not work: some network and container mounts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createCa, servedCertificate } from '../../test/helpers/tls-certs.ts';
import { readTlsMaterial, resolveTlsFiles, secureContextOptions } from './tls.ts';
import { TlsReloader } from './tls-reload.ts';

test('without watching, the periodic stat finds replaced files and new connections get the new certificate', async () => {
  const ca = await createCa();
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-tls-poll-'));
  const replace = (name: string, text: string) => {
    writeFileSync(path.join(dir, `${name}.tmp`), text);
    renameSync(path.join(dir, `${name}.tmp`), path.join(dir, name));
  };
  const first = await ca.issue({ serial: '51' });
  replace('cert.pem', first.cert);
  replace('key.pem', first.key);
  const configPath = path.join(dir, 'gatehouse.yaml');
  const source = { configFile: configPath, field: 'listen.tls' as const, configPath };
  const material = await readTlsMaterial(resolveTlsFiles({ cert: 'cert.pem', key: 'key.pem', minVersion: 'TLSv1.2' }, configPath), source);
  const server = createServer(secureContextOptions(material), (_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const reloader = new TlsReloader(server, material, source, pino({ level: 'silent' }), { watch: false, pollMs: 20 });
  try {
    assert.equal((await servedCertificate(port, ca.cert)).serialNumber, '51');
    const second = await ca.issue({ serial: '52' });
    replace('cert.pem', second.cert);
    replace('key.pem', second.key);
    const deadline = Date.now() + 10_000;
    while ((await servedCertificate(port, ca.cert)).serialNumber !== '52') {
      assert.ok(Date.now() < deadline, 'the polled reloader never took the new certificate');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(reloader.certificate.serialNumber, '52');
  } finally {
    reloader.close();
    server.close();
  }
});
