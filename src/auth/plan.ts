// Authentication plans turn a request's credentials into a principal. An API has one plan or an
// ordered list; each plan either finds its kind of credential (and accepts or refuses it) or
// finds none and passes to the next. A refused credential never falls through to keyless.
import type { IncomingMessage } from 'node:http';
import { GatehouseError } from '../errors.ts';
import type { Principal } from './principal.ts';
import { bearerChallenge, type ChallengeParams } from './challenge.ts';
import { headerCount } from '../http/guards.ts';

export interface AuthContext {
  readonly req: IncomingMessage;
  readonly api: string;
  /** The URL the client uses for this API (the OAuth resource identifier). */
  readonly resourceUrl: string;
  /** Protected Resource Metadata URL for this API. */
  readonly metadataUrl: string;
  /** The public base URL the client used (see public-url.ts), e.g. for an issuer that follows it. */
  readonly publicBase: string;
}

/** auth: passthrough only — what the connector forwards: the client's token and the 401 rewriter. */
export interface UpstreamForwarding {
  readonly token: string | undefined;
  readonly rewriteChallenge: (value: string) => string;
}

export interface Authenticated {
  readonly principal: Principal;
  readonly forward?: UpstreamForwarding;
}

export type AuthOutcome =
  | Authenticated
  /** No credential of this plan's kind: try the next plan. */
  | { readonly absent: true }
  | { readonly error: GatehouseError };

export interface AuthPlan {
  readonly type: string;
  authenticate(ctx: AuthContext): AuthOutcome | Promise<AuthOutcome>;
  /** WWW-Authenticate challenge when no plan found a credential. */
  challenge?(ctx: AuthContext): string;
  /** Protected Resource Metadata (RFC 9728) this plan publishes for its API (oauth2, passthrough). */
  resourceMetadata?(ctx: AuthContext): Record<string, unknown> | Promise<Record<string, unknown>>;
}

export const ABSENT: AuthOutcome = Object.freeze({ absent: true as const });

/** Runs the plans in order. */
export async function authenticate(plans: readonly AuthPlan[], ctx: AuthContext): Promise<Authenticated> {
  for (const plan of plans) {
    const outcome = await plan.authenticate(ctx);
    if ('principal' in outcome) return outcome;
    if ('error' in outcome) throw outcome.error;
  }
  // OAuth's challenge first: some clients read only the first one to find the metadata.
  const challenges = [...new Set(plans.map((p) => p.challenge?.(ctx)).filter((c): c is string => c !== undefined))].sort(
    (a, b) => Number(b.includes('resource_metadata=')) - Number(a.includes('resource_metadata=')),
  );
  throw new GatehouseError('GH_UNAUTHORIZED', 'Unauthorized: this API needs a credential', challenges.length > 0 ? { 'www-authenticate': challenges.join(', ') } : undefined);
}

/**
 * The bearer token of an Authorization header, or undefined; malformed or repeated headers are refused.
 * `challenge` is the plan's own WWW-Authenticate parameters (e.g. resource_metadata), added to
 * the refusal so that an OAuth client can still discover where to get a token.
 */
export function bearerToken(req: IncomingMessage, maxLength = 8192, challenge: ChallengeParams = [['realm', 'gatehouse']]): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  // Node would hand over the first of two; which one counts must not be a guess.
  if (headerCount(req, 'authorization') > 1) throw new GatehouseError('GH_BAD_HEADER', 'Bad Request: the Authorization header must be sent once');
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  const refuse = (message: string) =>
    new GatehouseError('GH_UNAUTHORIZED', `Unauthorized: ${message}`, {
      'www-authenticate': bearerChallenge([...challenge, ['error', 'invalid_request'], ['error_description', message]]),
    });
  if (!match) {
    if (/^Bearer\b/i.test(header)) throw refuse('malformed Bearer credential');
    return undefined; // another scheme: not this plan's business
  }
  const token = match[1]!;
  if (token.length > maxLength) throw refuse(`credential longer than ${maxLength} characters`);
  return token;
}
