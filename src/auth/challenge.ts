// WWW-Authenticate challenges (RFC 6750 §3) and the refusals that carry them. Parameter values
// are quoted strings: anything that could end the quote or the header is dropped, since messages
// and URLs may contain text the client sent.
import { GatehouseError } from '../errors.ts';

export type ChallengeParams = ReadonlyArray<readonly [name: string, value: string | undefined]>;

export function bearerChallenge(params: ChallengeParams): string {
  const parts = params.filter(([, value]) => value !== undefined).map(([name, value]) => `${name}="${clean(value!)}"`);
  return parts.length === 0 ? 'Bearer' : `Bearer ${parts.join(', ')}`;
}

/** 401 invalid_token: the credential is unknown, expired, revoked or not meant for this API. */
export function invalidToken(reason: string, params: ChallengeParams = [['realm', 'gatehouse']]): GatehouseError {
  const challenge = bearerChallenge([...params, ['error', 'invalid_token'], ['error_description', reason]]);
  return new GatehouseError('GH_UNAUTHORIZED', `Unauthorized: ${reason}`, { 'www-authenticate': challenge });
}

/** 403 insufficient_scope: a valid credential that lacks scopes; `scope` names what is needed (step-up). */
export function insufficientScope(needed: readonly string[], params: ChallengeParams = [['realm', 'gatehouse']]): GatehouseError {
  const scope = needed.join(' ');
  const challenge = bearerChallenge([['error', 'insufficient_scope'], ['scope', scope], ...params.filter(([n]) => n !== 'scope')]);
  return new GatehouseError('GH_INSUFFICIENT_SCOPE', `Forbidden: the token lacks the scope ${scope}`, { 'www-authenticate': challenge });
}

/** The scopes of a token's claims: a space-separated `scope` string or an `scp` list (or string). */
export function scopesOf(claims: Readonly<Record<string, unknown>>): string[] {
  const found: string[] = [];
  for (const value of [claims.scope, claims.scp]) {
    if (typeof value === 'string') found.push(...value.split(' ').filter((s) => s !== ''));
    else if (Array.isArray(value)) found.push(...value.filter((s): s is string => typeof s === 'string'));
  }
  return [...new Set(found)];
}

export function missingScopes(have: readonly string[], required: readonly string[]): string[] {
  return required.filter((scope) => !have.includes(scope));
}

function clean(value: string): string {
  return value.replace(/["\\\u0000-\u001f\u007f]/g, '');
}
