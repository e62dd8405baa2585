// Optimistic concurrency: an ETag per object (a digest of its content, so it changes exactly when
// the object does), one for the draft (its revision), and one for what a tenant's deploy would
// publish (a digest of its objects in the draft). Changes of draft objects, agents and users
// must send If-Match; credentials may (docs/management-api.md says which and why).
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ManagementError } from './errors.ts';

export function etagOf(value: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(value) ?? 'undefined').digest('base64url').slice(0, 22)}"`;
}

export function draftEtag(revision: number): string {
  return `"draft-${revision}"`;
}

/** The revision a draft ETag names, or undefined when it is not one. */
export function revisionOfEtag(tag: string): number | undefined {
  const match = /^(?:W\/)?"draft-(\d+)"$/.exec(tag.trim());
  return match ? Number(match[1]) : undefined;
}

/** The If-Match header; a change without one is refused (428), so nobody overwrites blindly. */
export function requireIfMatch(req: IncomingMessage): string {
  const value = req.headers['if-match'];
  if (value === undefined || value === '') throw new ManagementError(428, 'Precondition Required: send If-Match with the ETag you read (GET the object first)');
  return value;
}

/** The If-Match header where it is optional (undefined: none sent). */
export function optionalIfMatch(req: IncomingMessage): string | undefined {
  const value = req.headers['if-match'];
  return value === undefined || value === '' ? undefined : value;
}

const tagsOf = (header: string): string[] => header.split(',').map((t) => t.trim().replace(/^W\//, ''));

/**
 * Refuses with 412 unless `ifMatch` names `current` (or is `*` and the object exists). The
 * answer names the object (`what`, and `path` in the body) and carries its current ETag.
 */
export function checkIfMatch(ifMatch: string, current: string | undefined, what: string, path?: string): void {
  const tags = tagsOf(ifMatch);
  if (current !== undefined && (tags.includes('*') || tags.includes(current))) return;
  throw preconditionFailed(`${what} changed since you read it (ETag now ${current ?? 'none: it no longer exists'}); GET it again and retry`, current, path);
}

/** `If-None-Match: *` (create only): refused with 412 when the object exists. */
export function checkIfNoneMatch(req: IncomingMessage, current: string | undefined, what: string, path?: string): void {
  const value = req.headers['if-none-match'];
  if (value === undefined || current === undefined) return;
  const tags = tagsOf(value);
  if (tags.includes('*') || tags.includes(current)) throw preconditionFailed(`${what} exists already (ETag ${current}); GET it and send If-Match to replace it`, current, path);
}

export function preconditionFailed(message: string, current: string | undefined, path?: string): ManagementError {
  return new ManagementError(412, `Precondition Failed: ${message}`, undefined, current ? { etag: current } : {}, { ...(path !== undefined && { object: path }), etag: current ?? null });
}
