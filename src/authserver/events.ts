// Security events of the authorization server: client registrations (and refusals), tokens issued
// for an authorization, refreshes, revocations, replayed codes and reused refresh tokens, expired
// clients, sign-ins at external OpenID Connect providers (and refusals), refused second-factor
// codes, identity assertions (ID-JAG) redeemed, refused and replayed at the token endpoint, grants
// ended by their user or an administrator (grants.ts), Gatehouse sign-outs (end-session.ts). Each is logged (warn for what looks like an attack, info otherwise) and handed to the
// gateway's sink, which records it in the audit log. The request's address reaches code that
// never sees the request (the SDK calls the provider) through an AsyncLocalStorage set by the
// endpoint's first middleware.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log.ts';

export type AuthEventKind =
  | 'client-registered'
  | 'registration-refused'
  | 'clients-expired'
  | 'tokens-issued'
  | 'token-refreshed'
  | 'token-revoked'
  | 'code-replayed'
  | 'refresh-token-reused'
  | 'external-sign-in'
  | 'external-sign-in-refused'
  | 'second-factor-refused'
  | 'identity-assertion-redeemed'
  | 'identity-assertion-refused'
  | 'identity-assertion-replayed'
  | 'grant-revoked'
  | 'session-ended';

export interface AuthEvent {
  kind: AuthEventKind;
  time: number;
  /** The endpoint it happened at, e.g. /oauth/token. */
  endpoint: string;
  outcome: 'allowed' | 'denied';
  /** HTTP status of the answer. */
  status: number;
  clientId: string | undefined;
  userId: string | undefined;
  /** The API the grant is for, when there is one. */
  api: string | undefined;
  address: string | undefined;
  /** What happened, in words (never a token or secret). */
  detail: string;
}

export type AuthEventSink = (event: AuthEvent) => void;

/** What looks like an attack or a leak: logged at warn. */
const ALARMING: ReadonlySet<AuthEventKind> = new Set(['registration-refused', 'code-replayed', 'refresh-token-reused', 'external-sign-in-refused', 'second-factor-refused', 'identity-assertion-refused', 'identity-assertion-replayed']);

const requestAddress = new AsyncLocalStorage<string | undefined>();

/** The client's address: the socket's, or behind a trusted proxy the one that proxy saw (the last X-Forwarded-For entry: earlier ones are the client's to write). */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string | undefined {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const last = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded)?.split(',').at(-1)?.trim();
    if (last) return last;
  }
  const address = req.socket.remoteAddress;
  return address?.startsWith('::ffff:') ? address.slice(7) : address;
}

export class AuthEvents {
  constructor(
    private readonly log: Logger,
    private readonly sink: AuthEventSink | undefined,
    /** The API a token's resource (audience) names. */
    private readonly apiOf: (resource: string | undefined) => string | undefined,
    /** What the log lines say the event happened at. */
    private readonly source = 'authorization server',
  ) {}

  /** Runs the rest of a request with its address known to `emit`. */
  within(address: string | undefined, next: () => void): void {
    requestAddress.run(address, next);
  }

  emit(kind: AuthEventKind, fields: { endpoint: string; status: number; detail: string; clientId?: string | undefined; userId?: string | undefined; resource?: string | undefined; address?: string | undefined }): void {
    const event: AuthEvent = {
      kind,
      time: Date.now(),
      endpoint: fields.endpoint,
      outcome: fields.status < 400 ? 'allowed' : 'denied',
      status: fields.status,
      clientId: fields.clientId,
      userId: fields.userId,
      api: this.apiOf(fields.resource),
      address: fields.address ?? requestAddress.getStore(),
      detail: fields.detail,
    };
    const { time: _time, ...logged } = event;
    this.log[ALARMING.has(kind) ? 'warn' : 'info']({ event: logged }, `${this.source}: ${fields.detail}`);
    try {
      this.sink?.(event);
    } catch (error) {
      this.log.error({ err: error }, 'authorization server: could not record a security event');
    }
  }
}
