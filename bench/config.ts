// Benchmark settings from CLI flags and environment variables (flags win).
import path from 'node:path';
import { parseArgs } from 'node:util';

export const ALL_TARGETS = ['direct', 'floor', 'gatehouse', 'gatehouse+api-key', 'gatehouse+jwt', 'gatehouse+audit', 'gatehouse+audit-payloads', 'gatehouse+full-chain', 'gatehouse+safety', 'gatehouse+federated', 'gatehouse+managed', 'gatehouse+bridged', 'mcp-proxy', 'mcp-proxy-stdio'] as const;
export type TargetName = (typeof ALL_TARGETS)[number];
/** A Gatehouse target run from the --baseline checkout's build instead of this one's. */
export const BASELINE_SUFFIX = '@baseline';
export type BenchTarget = TargetName | `${TargetName}@baseline`;

export interface BenchConfig {
  quick: boolean;
  rounds: number;
  /** Measured requests per cell (target x scenario x round) with 32 sessions. */
  requests32: number;
  /** Measured requests per cell with 1 session. */
  requests1: number;
  /** Unmeasured requests per target and scenario before the first round. */
  warmup: number;
  targets: BenchTarget[];
  /** Another checkout (built) whose Gatehouse the `<target>@baseline` targets run: A/B of two builds in the same rounds. */
  baseline: string | undefined;
  /** Scenario names to run (substring match); empty: all. */
  scenarios: string[];
  skipIdle: boolean;
  idleSessions: number;
  /** The revision the 2025 load client speaks (sessions, initialize). */
  legacyRevision: LegacyRevision;
  help: boolean;
}

/** The 2025 revisions the load client can speak. */
export const LEGACY_REVISIONS = ['2025-06-18', '2025-11-25'] as const;
export type LegacyRevision = (typeof LEGACY_REVISIONS)[number];

export const USAGE = `Usage: npm run bench -- [flags]    (or: node --import tsx bench/run.ts [flags])
  --quick               short run (1 round, few requests, 1000 idle sessions)
  --rounds N            rounds; targets are interleaved in each round   (BENCH_ROUNDS, default 3)
  --requests N          requests per cell at 32 sessions               (BENCH_REQUESTS, default 1000)
  --requests-1 N        requests per cell at 1 session                 (BENCH_REQUESTS_1, default 300)
  --warmup N            unmeasured requests per target and scenario    (BENCH_WARMUP, default 300)
  --targets a,b,...     comma-separated subset (BENCH_TARGETS, default all):
                        ${ALL_TARGETS.join(',')}
  --scenarios a,b       run only scenarios whose name contains one of these (BENCH_SCENARIOS,
                        e.g. "tools/call" or "list, 32"; default all)
  --skip-idle           skip the idle-session heap step
  --idle-sessions N     sessions opened by the idle step               (BENCH_IDLE_SESSIONS, default 10000)
  --legacy-revision R   the 2025 load client's revision: ${LEGACY_REVISIONS.join(' or ')}
                        (BENCH_LEGACY_REVISION, default 2025-06-18); gatehouse+bridged opens its
                        upstream sessions with 2025-11-25, so compare it with that one
  --baseline DIR        another checkout of Gatehouse, built (npm run build): a target named
                        <gatehouse target>@baseline runs its build, in the same paired rounds as
                        this checkout's (BENCH_BASELINE); e.g. --baseline ../old
                        --targets gatehouse+federated,gatehouse+federated@baseline`;

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): BenchConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      requests: { type: 'string' },
      'requests-1': { type: 'string' },
      warmup: { type: 'string' },
      targets: { type: 'string' },
      scenarios: { type: 'string' },
      'skip-idle': { type: 'boolean', default: false },
      'idle-sessions': { type: 'string' },
      'legacy-revision': { type: 'string' },
      baseline: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const quick = values.quick === true || env.BENCH_QUICK === '1';
  const targetList = (values.targets ?? env.BENCH_TARGETS ?? ALL_TARGETS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const baseline = values.baseline ?? env.BENCH_BASELINE;
  for (const t of targetList) {
    const base = t.endsWith(BASELINE_SUFFIX) ? t.slice(0, -BASELINE_SUFFIX.length) : t;
    if (!(ALL_TARGETS as readonly string[]).includes(base)) throw new Error(`unknown target "${t}" (known: ${ALL_TARGETS.join(', ')}, each also as <name>${BASELINE_SUFFIX} with --baseline)`);
    if (base !== t && (!base.startsWith('gatehouse') || baseline === undefined)) throw new Error(`target "${t}": ${BASELINE_SUFFIX} needs --baseline DIR and a gatehouse target`);
  }
  const scenarioParts = (values.scenarios ?? env.BENCH_SCENARIOS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const legacyRevision = values['legacy-revision'] ?? env.BENCH_LEGACY_REVISION ?? '2025-06-18';
  if (!(LEGACY_REVISIONS as readonly string[]).includes(legacyRevision)) throw new Error(`--legacy-revision must be one of ${LEGACY_REVISIONS.join(', ')}, got "${legacyRevision}"`);
  return {
    quick,
    rounds: positive('--rounds', values.rounds ?? env.BENCH_ROUNDS, quick ? 1 : 3),
    requests32: positive('--requests', values.requests ?? env.BENCH_REQUESTS, quick ? 400 : 1000),
    requests1: positive('--requests-1', values['requests-1'] ?? env.BENCH_REQUESTS_1, quick ? 100 : 300),
    warmup: positive('--warmup', values.warmup ?? env.BENCH_WARMUP, quick ? 100 : 300),
    targets: targetList as BenchTarget[],
    baseline: baseline === undefined ? undefined : path.resolve(baseline),
    scenarios: scenarioParts,
    skipIdle: values['skip-idle'] === true || env.BENCH_SKIP_IDLE === '1',
    idleSessions: positive('--idle-sessions', values['idle-sessions'] ?? env.BENCH_IDLE_SESSIONS, quick ? 1000 : 10000),
    legacyRevision: legacyRevision as LegacyRevision,
    help: values.help === true,
  };
}
