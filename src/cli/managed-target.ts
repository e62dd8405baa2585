// Where `gatehouse export` and `gatehouse apply` read and write a managed configuration: the
// store itself (opened through the node settings, like the other store commands) or a running
// gateway's management API (--url with an admin token).
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { ControlDocument } from '../store/control.ts';
import { openControlStore } from '../store/control-open.ts';
import { Deployments } from '../control/deployments.ts';
import { emptyDocument, snapshotConfig, validateNodeSettings } from '../control/document.ts';
import { ManagementError } from '../control/errors.ts';
import { draftEtag } from '../control/etag.ts';
import { ConfigError } from '../config/errors.ts';
import { substituteEnv, type EnvProblem } from '../config/env.ts';
import { dataPaths } from '../data-paths.ts';
import { CliError } from './store-access.ts';

export interface ManagedTarget {
  /** The version in force (undefined: nothing deployed). */
  latest(): Promise<{ version: number; document: ControlDocument } | undefined>;
  draft(): Promise<{ revision: number; document: ControlDocument }>;
  replaceDraft(document: ControlDocument, revision: number): Promise<number>;
  deploy(revision: number, comment: string | undefined): Promise<number>;
  close(): Promise<void>;
}

export interface TargetOptions {
  config?: string;
  url?: string;
  token?: string;
}

export async function openTarget(options: TargetOptions, env: NodeJS.ProcessEnv = process.env): Promise<ManagedTarget> {
  if (options.url !== undefined) {
    const token = options.token ?? env.GATEHOUSE_ADMIN_TOKEN;
    if (!token) throw new CliError('--url needs an admin token: --token or GATEHOUSE_ADMIN_TOKEN', 2);
    return apiTarget(options.url.replace(/\/$/, ''), token);
  }
  const node = options.config === undefined ? {} : await loadNodeFile(options.config, env);
  return storeTarget(node, options.config, env);
}

/** A node file: node settings only, `${env:…}` substituted. */
export async function loadNodeFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [{ field: '(file)', message: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message }]);
  }
  const raw = (parse(text) ?? {}) as unknown;
  const problems: EnvProblem[] = [];
  const substituted = substituteEnv(raw, env, problems);
  if (problems.length > 0) throw new ConfigError(file, problems.map((p) => ({ field: p.path.join('.'), message: p.message })));
  return validateNodeSettings(substituted, file);
}

async function storeTarget(node: Record<string, unknown>, nodeFile: string | undefined, env: NodeJS.ProcessEnv): Promise<ManagedTarget> {
  const base = snapshotConfig(node, emptyDocument(), nodeFile ?? '(node settings)', env);
  const store = await openControlStore(dataPaths(base, nodeFile, env).store);
  const deployments = new Deployments(store, node, env, undefined);
  return {
    latest: async () => {
      const v = await deployments.latest();
      return v && { version: v.version, document: v.document };
    },
    draft: () => deployments.draft(),
    replaceDraft: async (document, revision) => (await deployments.replace(actor(env), document, revision, 'apply')).revision,
    deploy: async (revision, comment) => (await deployments.deploy(actor(env), comment, draftEtag(revision))).version,
    close: () => store.close(),
  };
}

function actor(env: NodeJS.ProcessEnv): string {
  return `cli:${env.USER ?? env.LOGNAME ?? 'unknown'}`;
}

function apiTarget(base: string, token: string): ManagedTarget {
  const call = async (method: string, path: string, body?: unknown, ifMatch?: string): Promise<{ status: number; etag: string | null; body: Record<string, unknown> }> => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (ifMatch !== undefined) headers['if-match'] = ifMatch;
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      throw new CliError(`cannot reach ${base}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`);
    }
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      parsed = { error: text.slice(0, 200) };
    }
    if (response.status >= 400) throw new ManagementError(response.status, String(parsed.error ?? `HTTP ${response.status}`), parsed.problems as Array<{ field: string; message: string }> | undefined);
    return { status: response.status, etag: response.headers.get('etag'), body: parsed };
  };
  return {
    latest: async () => {
      const items = (await call('GET', '/api/v1/deployments')).body.items as Array<{ version: number }>;
      if (items.length === 0) return undefined;
      const v = (await call('GET', `/api/v1/deployments/${items[0]!.version}`)).body;
      return { version: v.version as number, document: v.document as ControlDocument };
    },
    draft: async () => {
      const d = (await call('GET', '/api/v1/draft')).body;
      return { revision: d.revision as number, document: d.document as ControlDocument };
    },
    replaceDraft: async (document, revision) => (await call('PUT', '/api/v1/draft', document, `"draft-${revision}"`)).body.revision as number,
    deploy: async (revision, comment) => (await call('POST', '/api/v1/deployments', { comment }, `"draft-${revision}"`)).body.version as number,
    close: async () => undefined,
  };
}
