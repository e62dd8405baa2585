// The cluster's internal channel: a request one node forwards to another carries the header
// `Gatehouse-Forwarded`, an HMAC-SHA256 (key derived from the shared session key) over the
// method, the path, the session id, both nodes, a timestamp, a nonce, and what the owner should
// take from the first node (the client's address and the scheme it used). The owner accepts it
// within 30 s of its timestamp and once only (nonces seen are kept for the window). Nothing else
// about the request is trusted: it still carries the client's own credentials, which the owner
// authenticates as for any request. What the header buys is the client's address and scheme,
// and that the owner never forwards it again.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const FORWARDED_HEADER = 'gatehouse-forwarded';
/** How far a forwarded request's timestamp may be from the owner's clock. */
export const FORWARD_WINDOW_MS = 30_000;
/** Nonces remembered at most (a node's forwarding rate over the window stays far below). */
const MAX_NONCES = 200_000;

export interface ForwardedClaims {
  /** The node that forwards. */
  readonly from: string;
  /** The node it is meant for (the session's owner). */
  readonly to: string;
  readonly ts: number;
  readonly nonce: string;
  /** The client's address as the forwarding node saw it. */
  readonly address: string;
  /** The scheme the client used with the forwarding node. */
  readonly scheme: 'http' | 'https';
}

export type Verdict = { readonly ok: true; readonly claims: ForwardedClaims } | { readonly ok: false; readonly reason: string };

export class ForwardSigner {
  /** Nonce → when it may be forgotten (insertion order is time order, near enough). */
  private readonly seen = new Map<string, number>();

  constructor(private readonly key: Buffer) {}

  /** The header value for a request about to be forwarded. */
  sign(method: string, url: string, session: string, claims: Omit<ForwardedClaims, 'ts' | 'nonce'>, now = Date.now()): string {
    const full: ForwardedClaims = { ...claims, ts: now, nonce: randomBytes(12).toString('base64url') };
    const fields = `v1;from=${enc(full.from)};to=${enc(full.to)};ts=${full.ts};n=${full.nonce};a=${enc(full.address)};p=${full.scheme}`;
    return `${fields};sig=${this.mac(method, url, session, fields).toString('base64url')}`;
  }

  /** Checks a received request's header: signature, age, and that it was not seen before. */
  verify(req: IncomingMessage, now = Date.now()): Verdict {
    const value = req.headers[FORWARDED_HEADER];
    if (typeof value !== 'string') return { ok: false, reason: 'the header is sent more than once' };
    const at = value.lastIndexOf(';sig=');
    if (at < 0) return { ok: false, reason: 'the header is not signed' };
    const fields = value.slice(0, at);
    const sig = value.slice(at + 5);
    const session = req.headers['mcp-session-id'];
    const expected = this.mac(req.method ?? '', req.url ?? '', typeof session === 'string' ? session : '', fields);
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'the signature does not verify' };
    const parts = new Map<string, string>();
    for (const part of fields.split(';').slice(1)) {
      const eq = part.indexOf('=');
      if (eq > 0) parts.set(part.slice(0, eq), part.slice(eq + 1));
    }
    if (!fields.startsWith('v1;')) return { ok: false, reason: 'unknown version' };
    const ts = Number(parts.get('ts'));
    if (!Number.isFinite(ts) || Math.abs(now - ts) > FORWARD_WINDOW_MS) return { ok: false, reason: 'the timestamp is outside the 30 s window' };
    const nonce = parts.get('n') ?? '';
    if (nonce.length < 16) return { ok: false, reason: 'no nonce' };
    this.forgetOld(now);
    if (this.seen.has(nonce)) return { ok: false, reason: 'a replay (the nonce was seen before)' };
    this.seen.set(nonce, ts + FORWARD_WINDOW_MS);
    const scheme = parts.get('p') === 'https' ? 'https' : 'http';
    return { ok: true, claims: { from: dec(parts.get('from')), to: dec(parts.get('to')), ts, nonce, address: dec(parts.get('a')), scheme } };
  }

  private mac(method: string, url: string, session: string, fields: string): Buffer {
    return createHmac('sha256', this.key).update(`${method}\n${url}\n${session}\n${fields}`).digest();
  }

  private forgetOld(now: number): void {
    for (const [nonce, until] of this.seen) {
      if (until > now && this.seen.size < MAX_NONCES) break;
      this.seen.delete(nonce);
    }
  }
}

function enc(value: string): string {
  return encodeURIComponent(value);
}

function dec(value: string | undefined): string {
  try {
    return decodeURIComponent(value ?? '');
  } catch {
    return '';
  }
}
