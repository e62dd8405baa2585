// Tests that need more than Node.js: Chromium (the browser tests), PostgreSQL, Redis, and the npm
// registry or cache (the packed-install test). On a machine without one, its tests are skipped
// with one line that says what is missing, so `npm test` passes on a fresh machine. CI (.ci/run)
// sets GATEHOUSE_REQUIRE_<NEED>=1 for what it provides: then a missing one is a failure, never a
// silent skip.
import { existsSync } from 'node:fs';
import path from 'node:path';

export type Need = 'browser' | 'postgres' | 'redis' | 'pack' | 'nginx';

export const CHROMIUM = '/usr/bin/chromium';

export interface Requirement {
  /** The line to skip with, or false when the tests run. */
  readonly skip: string | false;
  /** When required but missing: why the tests fail (they run, and check() throws this). */
  readonly missing: string | undefined;
  /** Throws when required but missing; call it first in the tests' setup. */
  check(): void;
}

const REQUIRE: Record<Need, string> = {
  browser: 'GATEHOUSE_REQUIRE_BROWSER',
  postgres: 'GATEHOUSE_REQUIRE_POSTGRES',
  redis: 'GATEHOUSE_REQUIRE_REDIS',
  pack: 'GATEHOUSE_REQUIRE_PACK',
  nginx: 'GATEHOUSE_REQUIRE_NGINX',
};

const WHAT: Record<Need, string> = {
  browser: 'browser tests',
  postgres: 'Postgres tests',
  redis: 'Redis tests',
  pack: 'packed-install test',
  nginx: 'nginx tests',
};

/**
 * The decision for one need: `absent` says what is missing (undefined when it is there), `fix`
 * how to provide it. Required (GATEHOUSE_REQUIRE_<NEED>=1) and absent: run and fail; absent:
 * skip; there: run. GATEHOUSE_SKIP_<NEED>=1 skips what is there too, unless it is required
 * (.ci/run's second Node leg skips the browser and packed-install tests, which the first ran).
 */
export function requirement(need: Need, env: NodeJS.ProcessEnv, absent: string | undefined, fix: string): Requirement {
  const variable = REQUIRE[need];
  const required = env[variable] === '1';
  const skipVariable = variable.replace('_REQUIRE_', '_SKIP_');
  if (env[skipVariable] === '1' && !required) absent = `${skipVariable}=1`;
  const skip = absent === undefined || required ? false : `${absent}: ${WHAT[need]} skipped (${fix}; ${variable}=1 makes this a failure)`;
  const missing = absent !== undefined && required ? `${variable}=1 but ${absent}: ${fix}` : undefined;
  return {
    skip,
    missing,
    check: () => {
      if (missing !== undefined) throw new Error(missing);
    },
  };
}

/** Chromium for the dashboard's and the authorization server's browser tests. */
export function browserRequirement(env: NodeJS.ProcessEnv = process.env, chromiumFound: boolean = existsSync(CHROMIUM)): Requirement {
  const fix = 'apt-get update && apt-get install -y chromium';
  return requirement('browser', env, chromiumFound ? undefined : `Chromium not found at ${CHROMIUM}`, fix);
}

/** A PostgreSQL server named by GATEHOUSE_TEST_POSTGRES_URL (the tests make and drop their own schemas). */
export function postgresRequirement(env: NodeJS.ProcessEnv = process.env): Requirement & { url: string | undefined } {
  const url = env.GATEHOUSE_TEST_POSTGRES_URL || undefined;
  const decided = requirement('postgres', env, url ? undefined : 'GATEHOUSE_TEST_POSTGRES_URL not set', 'set it to a server the tests may create schemas in, e.g. postgres://postgres@127.0.0.1:5432/test');
  return { ...decided, url };
}

/** A Redis server named by GATEHOUSE_TEST_REDIS_URL (the tests use their own key prefixes). */
export function redisRequirement(env: NodeJS.ProcessEnv = process.env): Requirement & { url: string | undefined } {
  const url = env.GATEHOUSE_TEST_REDIS_URL || undefined;
  const decided = requirement('redis', env, url ? undefined : 'GATEHOUSE_TEST_REDIS_URL not set', 'set it to a server the tests may use, e.g. redis://127.0.0.1:6379');
  return { ...decided, url };
}

/** nginx from the distribution's packages (the three-node test behind a real balancer): its binary, found on PATH or in /usr/sbin. */
export function nginxRequirement(env: NodeJS.ProcessEnv = process.env, sbin: readonly string[] = ['/usr/sbin', '/usr/local/sbin']): Requirement & { binary: string | undefined } {
  const dirs = [...(env.PATH ?? '').split(path.delimiter).filter((d) => d !== ''), ...sbin];
  const binary = dirs.map((d) => path.join(d, 'nginx')).find((file) => existsSync(file));
  const decided = requirement('nginx', env, binary ? undefined : 'nginx not found (PATH, /usr/sbin)', 'apt-get install -y nginx-light');
  return { ...decided, binary };
}
