import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPublicAddress, publicOnlyLookup, BlockedAddressError } from './ssrf.ts';

test('only public unicast addresses count as public', () => {
  for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '[2001:4860:4860::8888]']) assert.equal(isPublicAddress(address), true, address);
  for (const address of [
    '127.0.0.1',
    '127.255.0.9',
    '10.1.2.3',
    '172.31.255.255',
    '192.168.0.1',
    '169.254.169.254',
    '100.64.1.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::a00:1',
    'fd12:3456::1',
    'fe80::1%eth0',
    'ff02::1',
    'not-an-ip',
  ]) {
    assert.equal(isPublicAddress(address), false, address);
  }
});

test('the socket lookup refuses a name that resolves to loopback', async () => {
  const lookup = publicOnlyLookup();
  for (const all of [false, true]) {
    const error = await new Promise<Error | null>((resolve) => lookup('localhost', { all }, (err) => resolve(err)));
    assert.ok(error instanceof BlockedAddressError, String(error));
    assert.match(error.message, /localhost resolves to .* not a public address/);
  }
});
