// Counters in Redis, shared by every Gatehouse node: each check is one atomic Lua script using
// Redis's own clock, so nodes with skewed clocks agree.
import { Redis } from 'ioredis';
import type { Counters, LimitOutcome } from './counters.ts';

// KEYS[1] bucket; ARGV: interval ms, burst. Returns {allowed, remaining, retryAfterMs, resetMs}.
const GCRA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local nextTat = tat + interval
local allowAt = nextTat - interval * burst
if allowAt > now then
  return {0, 0, math.ceil(allowAt - now), math.ceil(tat - now)}
end
redis.call('SET', KEYS[1], nextTat, 'PX', math.ceil(nextTat - now) + 1000)
return {1, math.floor((now - allowAt) / interval), 0, math.ceil(nextTat - now)}
`;

// KEYS[1] window counter; ARGV: limit, window end (ms). Returns {allowed, remaining, retryAfterMs, resetMs}.
const QUOTA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local reset = math.max(0, tonumber(ARGV[2]) - now)
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= limit then return {0, 0, reset, reset} end
used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('PEXPIRE', KEYS[1], reset + 60000) end
return {1, limit - used, 0, reset}
`;

type Reply = [number, number, number, number];

export class RedisCounters implements Counters {
  private readonly redis: Redis;

  constructor(url: string, private readonly prefix: string, timeoutMs: number) {
    // No offline queue and no retries per command: when Redis is away, a check fails fast and
    // the policy's onError decides, instead of requests piling up.
    this.redis = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      connectTimeout: Math.max(timeoutMs, 1000),
      lazyConnect: false,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    this.redis.on('error', () => undefined); // reported per command through onError
    this.redis.defineCommand('ghGcra', { numberOfKeys: 1, lua: GCRA_SCRIPT });
    this.redis.defineCommand('ghQuota', { numberOfKeys: 1, lua: QUOTA_SCRIPT });
  }

  async take(key: string, intervalMs: number, burst: number): Promise<LimitOutcome> {
    return toOutcome(await this.call('ghGcra', this.prefix + key, intervalMs, burst));
  }

  async count(key: string, limit: number, windowEnd: number): Promise<LimitOutcome> {
    return toOutcome(await this.call('ghQuota', this.prefix + key, limit, windowEnd));
  }

  private call(command: 'ghGcra' | 'ghQuota', ...args: Array<string | number>): Promise<Reply> {
    // defineCommand adds methods ioredis' types cannot know about.
    const fn = (this.redis as unknown as Record<string, (...a: Array<string | number>) => Promise<Reply>>)[command]!;
    return fn.apply(this.redis, args);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

function toOutcome([allowed, remaining, retryAfterMs, resetMs]: Reply): LimitOutcome {
  return { allowed: allowed === 1, remaining, retryAfterMs, resetMs };
}
