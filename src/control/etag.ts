// Optimistic concurrency: an ETag per object (a digest of its content, so it changes exactly when
// the object does) and one for the draft (its revision). Changes must send If-Match.
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

/** Refuses with 412 unless `ifMatch` names `current` (or is `*` and the object exists). */
export function checkIfMatch(ifMatch: string, current: string | undefined, what: string): void {
  const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (current !== undefined && (tags.includes('*') || tags.includes(current))) return;
  throw new ManagementError(412, `Precondition Failed: ${what} changed since you read it (ETag now ${current ?? 'none: it no longer exists'}); GET it again and retry`, undefined, current ? { etag: current } : {});
}
