// Small HTTP helpers of the management API: the JSON body, answers with an ETag, refusals.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../http/guards.ts';
import { sendJson } from '../http/reply.ts';
import { ManagementError, badRequest } from './errors.ts';

const MAX_BODY_BYTES = 1024 * 1024;

export interface Call {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  /** Path segments after /api/v1/, decoded. */
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
  /** Who is changing things: "admin-token" or "user:<name>". */
  readonly actor: string;
  /** The one tenant the caller may see and change (tenant-scope.ts); undefined: the whole platform. */
  readonly tenant: string | undefined;
  /** Records a change this call made to the store (audit log): never a secret in `patch`. */
  readonly changed: (action: string, target: string, patch: readonly PatchOp[]) => void;
}

/** One RFC 6902 operation of an audited change. */
export interface PatchOp {
  readonly op: 'add' | 'replace' | 'remove';
  readonly path: string;
  readonly value?: unknown;
}

/** A JSON Pointer (RFC 6901) of path segments. */
export function pointer(...segments: string[]): string {
  return segments.map((s) => '/' + s.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export async function jsonBody(call: Call, expected: 'object' | 'array' = 'object'): Promise<Record<string, unknown>> {
  const type = (call.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && type !== 'application/json-patch+json') throw new ManagementError(415, 'Unsupported Media Type: send Content-Type: application/json');
  const text = (await readBody(call.req, MAX_BODY_BYTES)).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw badRequest(`the body is not JSON: ${(error as Error).message}`);
  }
  const isArray = Array.isArray(value);
  if (value === null || typeof value !== 'object' || isArray !== (expected === 'array')) throw badRequest(expected === 'array' ? 'expected a JSON list' : 'expected a JSON object');
  return value as Record<string, unknown>;
}

export function reply(call: Call, status: number, body: unknown, etag?: string): void {
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (etag) headers.etag = etag;
  if (status === 204) {
    call.res.writeHead(204, headers).end();
    return;
  }
  sendJson(call.res, status, body, headers);
}

export function methodNotAllowed(call: Call, allowed: string): never {
  throw new ManagementError(405, `${call.method} is not allowed here (allowed: ${allowed})`, undefined, { allow: allowed });
}

/** A name segment checked like a config name, so that a path never names what a file could not. */
export function nameSegment(value: string | undefined, what: string): string {
  if (value === undefined || !/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$/.test(value)) throw new ManagementError(404, `${what} "${value ?? ''}" not found`);
  return value;
}
