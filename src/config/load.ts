// Reads a config file (YAML or JSON), substitutes ${env:…}, validates it against the schema and
// checks cross-references. Every problem names the file, the field, its line and what is expected.
import { readFile } from 'node:fs/promises';
import { LineCounter, isMap, isScalar, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { Config, type ConfigData } from './schema.ts';
import { substituteEnv, type EnvProblem } from './env.ts';
import { coerceEnvScalars, type EnvFields } from './env-scalars.ts';
import { ConfigError, fieldPath, type ConfigProblem } from './errors.ts';
import { checkAuthConfig } from '../auth/check.ts';
import { checkApiServers } from './federation-check.ts';
import { checkTenants } from './tenant-check.ts';
import { checkOAuthUserServers } from './oauth-user-check.ts';

export async function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<ConfigData> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
    throw new ConfigError(file, [{ field: '(file)', message: reason }]);
  }
  return parseConfigText(text, file, env);
}

export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): ConfigData {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
        return { field: '(syntax)', message: e.message.split('\n')[0] ?? e.message, line: pos?.line, column: pos?.col };
      }),
    );
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(file, [{ field: '(top level)', message: 'expected a mapping with at least `servers` and `apis`' }]);
  }
  const locate = (path: ReadonlyArray<PropertyKey>): Pick<ConfigProblem, 'line' | 'column'> => locateIn(doc, lineCounter, path);
  const envProblems: EnvProblem[] = [];
  const envFields: EnvFields = new Map();
  const substituted = substituteEnv(raw, env, envProblems, [], envFields);
  // `port: ${env:PORT}`: a number (or boolean) field given by the environment.
  const coerced = envProblems.length > 0 ? substituted : coerceEnvScalars(substituted, envFields, Config, envProblems);
  if (envProblems.length > 0) {
    throw new ConfigError(file, envProblems.map((p) => ({ field: fieldPath(p.path), message: p.message, ...locate(p.path) })));
  }
  return validateConfig(coerced, file, locate);
}

/**
 * Validates an already-parsed config object (from a file, given in code, or a managed
 * configuration: `schema` is then the managed variant, which allows no API yet).
 */
export function validateConfig(
  value: unknown,
  file = '(inline config)',
  locate: (path: ReadonlyArray<PropertyKey>) => Pick<ConfigProblem, 'line' | 'column'> = () => ({}),
  schema: z.ZodType<ConfigData, unknown> = Config,
): ConfigData {
  const result = schema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue) => explainIssue(issue, value));
    throw new ConfigError(file, problems.map((p) => ({ field: fieldPath(p.path), message: p.message, ...locate(p.path) })));
  }
  const problems = crossCheck(result.data).map((p) => ({ field: fieldPath(p.path), message: p.message, ...locate(p.path) }));
  if (problems.length > 0) throw new ConfigError(file, problems);
  return result.data;
}

interface PathProblem {
  path: PropertyKey[];
  message: string;
}

const SERVER_KINDS = ['url', 'command', 'sse'] as const;

/** Turns a zod issue into problems a person can act on; unions are resolved by their key. */
function explainIssue(issue: z.core.$ZodIssue, root: unknown): PathProblem[] {
  const path = [...issue.path];
  if (issue.code === 'invalid_union' && path[0] === 'servers' && path.length === 2) {
    const entry = valueAt(root, path);
    const kinds = entry && typeof entry === 'object' ? SERVER_KINDS.filter((k) => k in entry) : [];
    if (kinds.length !== 1) {
      return [{ path, message: 'expected exactly one of `url` (Streamable HTTP), `command` (stdio) or `sse` (HTTP+SSE)' }];
    }
    const branch = issue.errors[SERVER_KINDS.indexOf(kinds[0]!)] ?? [];
    return branch.flatMap((inner) => explainIssue({ ...inner, path: [...path, ...inner.path] } as z.core.$ZodIssue, root));
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // Report the branch that got furthest (fewest issues).
    const best = [...issue.errors].sort((a, b) => a.length - b.length)[0] ?? [];
    return best.flatMap((inner) => explainIssue({ ...inner, path: [...path, ...inner.path] } as z.core.$ZodIssue, root));
  }
  if (issue.code === 'invalid_key' && issue.issues.length > 0) {
    // A record's key (a header name, say): say what is wrong with it, not just that it is.
    return issue.issues.map((inner) => ({ path, message: inner.message }));
  }
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...path, key], message: `unknown field \`${key}\`${suggest(path)}` }));
  }
  if (issue.code === 'invalid_type' && valueAt(root, path) === undefined) {
    return [{ path, message: `required field is missing (expected ${issue.expected})` }];
  }
  if (issue.code === 'invalid_type') {
    return [{ path, message: `expected ${issue.expected}, got ${describe(valueAt(root, path))}` }];
  }
  return [{ path, message: issue.message }];
}

function suggest(path: PropertyKey[]): string {
  if (path.length === 0) return ' (top-level fields: listen, servers, apis, limits, timeouts, sessions, security, log)';
  return '';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node: unknown = root;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

function crossCheck(config: ConfigData): PathProblem[] {
  const problems: PathProblem[] = [];
  const names = new Map<string, number>();
  const paths = new Map<string, number>();
  problems.push(...checkApiServers(config));
  problems.push(...checkTenants(config));
  problems.push(...checkOAuthUserServers(config));
  config.apis.forEach((api, index) => {
    api.policies.forEach((policy, at) => {
      if (!('pinning' in policy)) return;
      for (const server of Object.keys(policy.pinning.servers)) {
        if (!Object.hasOwn(config.servers, server)) problems.push({ path: ['apis', index, 'policies', at, 'pinning', 'servers', server], message: `no server named "${server}"; expected one of the names under \`servers\` (${Object.keys(config.servers).join(', ') || 'none defined'})` });
      }
    });
  });
  for (const server of Object.keys(config.toolAnnotations)) {
    if (!Object.hasOwn(config.servers, server)) problems.push({ path: ['toolAnnotations', server], message: `no server named "${server}"; expected one of the names under \`servers\` (${Object.keys(config.servers).join(', ') || 'none defined'})` });
  }
  config.apis.forEach((api, index) => {
    const sameName = names.get(api.name);
    if (sameName !== undefined) problems.push({ path: ['apis', index, 'name'], message: `duplicate API name "${api.name}" (also apis[${sameName}])` });
    names.set(api.name, index);
    const normalized = normalizeApiPath(api.path);
    const samePath = paths.get(normalized);
    if (samePath !== undefined) problems.push({ path: ['apis', index, 'path'], message: `duplicate path "${api.path}" (also apis[${samePath}]); a path is unique across the deployment, whatever the tenants` });
    paths.set(normalized, index);
  });
  if (problems.length === 0) problems.push(...checkAuthConfig(config));
  return problems;
}

/** Paths match with or without a trailing slash. */
export function normalizeApiPath(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function locateIn(doc: Document, lineCounter: LineCounter, path: ReadonlyArray<PropertyKey>): Pick<ConfigProblem, 'line' | 'column'> {
  // Walk up to the nearest node that exists (a missing field is reported at its parent). A
  // mapping entry is located at its key, so that `field:` with a nested value names its own line.
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  for (let depth = path.length; depth >= 0; depth--) {
    if (depth > 0) {
      const parent = doc.getIn(path.slice(0, depth - 1) as unknown[], true);
      if (isMap(parent)) {
        const name = path[depth - 1];
        const pair = parent.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === name);
        if (pair && isScalar(pair.key) && pair.key.range) return at(pair.key.range[0]);
      }
    }
    const node = doc.getIn(path.slice(0, depth) as unknown[], true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return at(node.range[0]);
  }
  return {};
}
