// ${env:…} in a field that takes a number or a boolean (`port: ${env:PORT}`): substitution gives
// a string, so the value is converted where the schema says a number (or boolean) is expected,
// and only for values that came from the environment: a string typed in the file stays an
// error. A value that is not a number is refused naming the variable.
import type { z } from 'zod';
import type { EnvProblem } from './env.ts';

type Path = ReadonlyArray<PropertyKey>;

/** Fields whose value came from ${env:…}: path (as JSON) → the text written in the file. */
export type EnvFields = Map<string, string>;

export function envFieldKey(path: Path): string {
  return JSON.stringify(path.map((p) => (typeof p === 'number' ? p : String(p))));
}

/**
 * Returns `value` with env-substituted strings converted where `schema` expects a number or a
 * boolean; problems for those that do not convert. Parses only when some field came from the
 * environment, and again after each round of conversions (a union is judged anew).
 */
export function coerceEnvScalars(value: unknown, fields: EnvFields, schema: z.ZodType, problems: EnvProblem[]): unknown {
  if (fields.size === 0) return value;
  const converted = new Set<string>();
  for (let round = 0; round < 4; round++) {
    const result = schema.safeParse(value);
    if (result.success) return value;
    let changed = false;
    for (const { path, expected } of expectedScalars(result.error.issues, [])) {
      const key = envFieldKey(path);
      const written = fields.get(key);
      const found = valueAt(value, path);
      if (written === undefined || typeof found !== 'string' || converted.has(key)) continue;
      const scalar = expected === 'boolean' ? toBoolean(found) : toNumber(found);
      if (scalar === undefined) {
        problems.push({ path: [...path] as (string | number)[], message: `expected ${expected === 'boolean' ? 'true or false' : 'a number'}; ${written} gave ${JSON.stringify(found)}` });
        converted.add(key);
        continue;
      }
      value = setAt(value, path, scalar);
      converted.add(key);
      changed = true;
    }
    if (!changed) return value;
  }
  return value;
}

/** invalid_type issues that expect a number or a boolean, inside unions too, with full paths. */
function expectedScalars(issues: readonly z.core.$ZodIssue[], prefix: Path): Array<{ path: Path; expected: 'number' | 'boolean' }> {
  const out: Array<{ path: Path; expected: 'number' | 'boolean' }> = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_type' && (issue.expected === 'number' || issue.expected === 'int' || issue.expected === 'boolean')) {
      out.push({ path, expected: issue.expected === 'boolean' ? 'boolean' : 'number' });
    } else if (issue.code === 'invalid_union') {
      for (const branch of issue.errors) out.push(...expectedScalars(branch, path));
    }
  }
  return out;
}

function toNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) return undefined;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : undefined;
}

function toBoolean(text: string): boolean | undefined {
  const lower = text.trim().toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : undefined;
}

function valueAt(root: unknown, path: Path): unknown {
  let node: unknown = root;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

/** A copy of `root` with the value at `path` replaced (the parsed config is not shared, but stay pure). */
function setAt(root: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(root)) {
    const copy = [...root];
    copy[head as number] = setAt(copy[head as number], rest, replacement);
    return copy;
  }
  const record = root as Record<PropertyKey, unknown>;
  return { ...record, [head as PropertyKey]: setAt(record[head as PropertyKey], rest, replacement) };
}
