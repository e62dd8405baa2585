// Durations ("30s", "5m", 1500) and sizes ("4mb", 65536) as config accepts them.
import { z } from 'zod';

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
/** The string forms, also published in the JSON Schema so that editors flag "30 seconds". */
export const DURATION_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/i;
export const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)\s*$/i;

export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const match = DURATION_PATTERN.exec(value);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2]!.toLowerCase()]!);
}

export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : undefined;
  const match = SIZE_PATTERN.exec(value);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!);
}

/** "30000" as 30000: what `${env:NAME}` gives for a number of milliseconds or bytes. */
function bareNumber(value: string | number): string | number {
  return typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
}

/** A duration in milliseconds: a number of ms, or a string like "250ms", "30s", "5m", "1h", "1d". */
export const Duration = z
  .union([z.number(), z.string()])
  .transform((value, ctx) => {
    const ms = parseDuration(bareNumber(value));
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as 30s, 5m, 1h or a number of milliseconds; got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ id: 'Duration', description: 'A duration: milliseconds as a number, or a string like "250ms", "30s", "5m", "1h", "1d".' });

/** A size in bytes: a number of bytes, or a string like "64kb", "4mb". */
export const Size = z
  .union([z.number(), z.string()])
  .transform((value, ctx) => {
    const bytes = parseSize(bareNumber(value));
    if (bytes === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a size such as 64kb or 4mb, or a positive number of bytes; got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return bytes;
  })
  .meta({ id: 'Size', description: 'A size: bytes as a number, or a string like "64kb", "4mb".' });
