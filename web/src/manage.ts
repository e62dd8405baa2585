// Calls to the management API (/api/v1, managed mode) for the console screens: JSON in and out,
// the ETag of what was read, and refusals turned into sentences an operator can act on (a stale
// ETag says someone else changed the object; config problems keep their field paths).
import { ApiFailure, signalUnauthorized } from './api.ts';

export interface Problem {
  field: string;
  message: string;
}

export class ManageFailure extends ApiFailure {
  constructor(
    status: number,
    message: string,
    readonly problems: readonly Problem[] = [],
  ) {
    super(status, message);
  }
}

export interface Answer<T> {
  body: T;
  etag: string | undefined;
}

export async function manage<T>(method: string, path: string, options: { body?: unknown; ifMatch?: string | undefined; ifNoneMatch?: string | undefined } = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch;
  if (options.ifNoneMatch !== undefined) headers['if-none-match'] = options.ifNoneMatch;
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, { method, credentials: 'same-origin', headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  } catch {
    throw new ManageFailure(0, 'Gatehouse cannot be reached: is it still running?');
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    // The frame's sign-in notice listens for this (api.ts).
    if (response.status === 401) signalUnauthorized();
    const refusal = (body ?? {}) as { error?: unknown; problems?: Problem[] };
    throw new ManageFailure(response.status, explain(response.status, typeof refusal.error === 'string' ? refusal.error : `HTTP ${response.status}`), refusal.problems ?? []);
  }
  return { body: body as T, etag: response.headers.get('etag') ?? undefined };
}

/** The server's words, with what to do about the refusals an operator meets while editing. */
function explain(status: number, error: string): string {
  if (status === 412) return `Someone else changed this since you opened it, so your change was not saved. Reload to see their version, then make your change again. (${error})`;
  if (status === 428) return `The change was refused: it must name the version it replaces. Reload and try again. (${error})`;
  if (status === 409) return `Conflict: ${error}`;
  if (status === 403) return `Not allowed for your role: ${error}`;
  if (status === 404 && /managed mode/.test(error)) return 'The console changes a managed Gatehouse (gatehouse start --managed); this one runs from a configuration file, which is the place to change it.';
  return error;
}

// Saves and deploys tell the draft bar to look again.
const draftListeners = new Set<() => void>();
export function onDraftChanged(listener: () => void): () => void {
  draftListeners.add(listener);
  return () => void draftListeners.delete(listener);
}
export function draftChanged(): void {
  for (const listener of draftListeners) listener();
}
