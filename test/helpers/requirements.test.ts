// The decision to run or skip the tests that need more than Node.js: environment in, skip reason
// (or failure) out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { browserRequirement, nginxRequirement, postgresRequirement, redisRequirement, requirement } from './requirements.ts';

test('a fresh machine (no Chromium, no database URLs, nothing required) skips each group with one line saying what is missing and how to require it', () => {
  const browser = browserRequirement({}, false);
  assert.equal(browser.skip, 'Chromium not found at /usr/bin/chromium: browser tests skipped (apt-get update && apt-get install -y chromium; GATEHOUSE_REQUIRE_BROWSER=1 makes this a failure)');
  assert.equal(browser.missing, undefined);
  assert.doesNotThrow(() => browser.check());
  const postgres = postgresRequirement({});
  assert.match(postgres.skip as string, /^GATEHOUSE_TEST_POSTGRES_URL not set: Postgres tests skipped \(.*GATEHOUSE_REQUIRE_POSTGRES=1 makes this a failure\)$/);
  assert.equal(postgres.url, undefined);
  assert.match(redisRequirement({ GATEHOUSE_TEST_REDIS_URL: '' }).skip as string, /^GATEHOUSE_TEST_REDIS_URL not set: Redis tests skipped/);
  for (const decision of [browser, postgres, redisRequirement({})]) assert.doesNotMatch(decision.skip as string, /\n/, 'one line');
});

test('what is there runs: Chromium found, database URLs set', () => {
  assert.equal(browserRequirement({}, true).skip, false);
  const postgres = postgresRequirement({ GATEHOUSE_TEST_POSTGRES_URL: 'postgres://postgres@127.0.0.1:5432/test' });
  assert.deepEqual([postgres.skip, postgres.missing, postgres.url], [false, undefined, 'postgres://postgres@127.0.0.1:5432/test']);
  assert.equal(redisRequirement({ GATEHOUSE_TEST_REDIS_URL: 'redis://127.0.0.1:6379' }).skip, false);
});

test('required and missing (what .ci/run sets) runs and fails, saying what is missing: it never skips', () => {
  const browser = browserRequirement({ GATEHOUSE_REQUIRE_BROWSER: '1' }, false);
  assert.equal(browser.skip, false);
  assert.equal(browser.missing, 'GATEHOUSE_REQUIRE_BROWSER=1 but Chromium not found at /usr/bin/chromium: apt-get update && apt-get install -y chromium');
  assert.throws(() => browser.check(), /GATEHOUSE_REQUIRE_BROWSER=1 but Chromium not found/);
  const postgres = postgresRequirement({ GATEHOUSE_REQUIRE_POSTGRES: '1' });
  assert.equal(postgres.skip, false);
  assert.throws(() => postgres.check(), /^Error: GATEHOUSE_REQUIRE_POSTGRES=1 but GATEHOUSE_TEST_POSTGRES_URL not set/);
  assert.throws(() => redisRequirement({ GATEHOUSE_REQUIRE_REDIS: '1' }).check(), /GATEHOUSE_REQUIRE_REDIS=1 but GATEHOUSE_TEST_REDIS_URL not set/);
  // Required and there: runs, nothing to report.
  assert.doesNotThrow(() => postgresRequirement({ GATEHOUSE_REQUIRE_POSTGRES: '1', GATEHOUSE_TEST_POSTGRES_URL: 'postgres://x' }).check());
  // Only "1" requires.
  assert.notEqual(redisRequirement({ GATEHOUSE_REQUIRE_REDIS: 'true' }).skip, false);
});

test('GATEHOUSE_SKIP_BROWSER=1 skips the browser tests even with Chromium there, unless they are required', () => {
  assert.match(browserRequirement({ GATEHOUSE_SKIP_BROWSER: '1' }, true).skip as string, /^GATEHOUSE_SKIP_BROWSER=1: browser tests skipped/);
  const both = browserRequirement({ GATEHOUSE_SKIP_BROWSER: '1', GATEHOUSE_REQUIRE_BROWSER: '1' }, true);
  assert.deepEqual([both.skip, both.missing], [false, undefined]);
  assert.throws(() => browserRequirement({ GATEHOUSE_SKIP_BROWSER: '1', GATEHOUSE_REQUIRE_BROWSER: '1' }, false).check(), /Chromium not found/);
});

test('GATEHOUSE_SKIP_PACK=1 skips the packed-install test (the second Node leg of .ci/run), unless it is required', () => {
  assert.match(requirement('pack', { GATEHOUSE_SKIP_PACK: '1' }, undefined, 'npm pack').skip as string, /^GATEHOUSE_SKIP_PACK=1: packed-install test skipped/);
  assert.equal(requirement('pack', { GATEHOUSE_SKIP_PACK: '1', GATEHOUSE_REQUIRE_PACK: '1' }, undefined, 'npm pack').skip, false);
  assert.equal(requirement('pack', {}, undefined, 'npm pack').skip, false);
});

test('the packed-install test: skipped when npm cannot get the dependencies, a failure when GATEHOUSE_REQUIRE_PACK=1', () => {
  const why = 'the npm registry or cache could not provide the dependencies (ENOTCACHED)';
  assert.match(requirement('pack', {}, why, 'npm install needs the registry').skip as string, /^the npm registry or cache could not provide the dependencies \(ENOTCACHED\): packed-install test skipped/);
  assert.throws(() => requirement('pack', { GATEHOUSE_REQUIRE_PACK: '1' }, why, 'npm install needs the registry').check(), /GATEHOUSE_REQUIRE_PACK=1 but the npm registry/);
});

test('nginx: found on PATH or in sbin; missing skips with one line, or fails when required', () => {
  const missing = nginxRequirement({ PATH: '/nonexistent' }, []);
  assert.equal(missing.binary, undefined);
  assert.equal(missing.skip, 'nginx not found (PATH, /usr/sbin): nginx tests skipped (apt-get install -y nginx-light; GATEHOUSE_REQUIRE_NGINX=1 makes this a failure)');
  assert.throws(() => nginxRequirement({ PATH: '/nonexistent', GATEHOUSE_REQUIRE_NGINX: '1' }, []).check(), /GATEHOUSE_REQUIRE_NGINX=1 but nginx not found/);
});
