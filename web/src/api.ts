// Calls to the admin API (same origin, the admin session cookie or token rides along).
// A 401 means the admin session is gone: the app shows the sign-in link instead of a broken screen.
import type { OverviewView } from '../../src/admin/api/overview.ts';
import type { Page, Live } from '../../src/admin/api/logs.ts';
import type { RecordDetail, RecordRow } from '../../src/admin/api/records.ts';
import type { UpstreamView } from '../../src/admin/api/upstreams.ts';
import type { AuditSinkStatus } from '../../src/audit/audit.ts';
import type { ApprovalView } from '../../src/admin/approvals.ts';
import type { ToolsAnswer, ToolView } from '../../src/admin/tool-pins.ts';
import type { SafetyMarks } from '../../src/admin/api/safety.ts';

export type { OverviewView, Page, Live, RecordDetail, RecordRow, UpstreamView, ApprovalView, ToolsAnswer, ToolView, SafetyMarks };

export interface Meta {
  version: string;
  apis: Array<{ name: string; path: string; server: string }>;
  servers: string[];
  /** Tenant ids the viewer may see (empty without tenants); absent from an older gateway. */
  tenants?: string[];
  /** `sink` is absent when audit is off. */
  audit: { readable: boolean; sink?: AuditSinkStatus | undefined };
  /** Who is signed in; a viewer's screens hide what it may not do. Absent from an older gateway. */
  you?: { name: string; role: 'owner' | 'admin' | 'viewer'; tenant: string | null } | null;
}

/**
 * Whether the signed-in identity is the platform's (no tenant): tenants, users of the
 * authorization server and rollbacks are its alone. False until /api/meta is read.
 */
export const isPlatform = (meta: Meta | undefined): boolean => meta !== undefined && (meta.you === undefined || meta.you === null || meta.you.tenant === null);

/** Whether the signed-in identity may change things (approve, deny): anyone but a viewer. */
export const mayDecide = (meta: Meta | undefined): boolean => meta?.you?.role !== undefined && meta.you.role !== 'viewer';

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => void unauthorizedListeners.delete(listener);
}

/** The admin session is gone (a 401 from any admin call). */
export function signalUnauthorized(): void {
  for (const listener of unauthorizedListeners) listener();
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' }, signal });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiFailure(0, 'Gatehouse cannot be reached: is it still running?');
  }
  if (response.status === 401) signalUnauthorized();
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const message = typeof body === 'object' && body !== null && 'error' in body ? describe((body as { error: unknown }).error) : `HTTP ${response.status}`;
    throw new ApiFailure(response.status, message);
  }
  return body as T;
}

/** POSTs JSON to the admin API; refusals become an ApiFailure with the server's words. */
export async function postJson<T>(path: string, body: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { method: 'POST', credentials: 'same-origin', headers: { accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch {
    throw new ApiFailure(0, 'Gatehouse cannot be reached: is it still running?');
  }
  if (response.status === 401) signalUnauthorized();
  const answer = (await response.json().catch(() => undefined)) as unknown;
  if (!response.ok) throw new ApiFailure(response.status, typeof answer === 'object' && answer !== null && 'error' in answer ? describe((answer as { error: unknown }).error) : `HTTP ${response.status}`);
  return answer as T;
}

function describe(error: unknown): string {
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null && 'message' in error) return String((error as { message: unknown }).message);
  return JSON.stringify(error);
}
