// The bearer token a jwt or oauth2 plan verified, kept beside its principal rather than in it, so
// that nothing which logs, audits or serializes a principal can carry it. Read only by a credential
// source that must present it again: token exchange, where it is the RFC 8693 subject token.
import type { Principal } from './principal.ts';

const tokens = new WeakMap<Principal, string>();

/** Records the token `principal` was authenticated with; returns the principal. */
export function withSubjectToken(principal: Principal, token: string): Principal {
  tokens.set(principal, token);
  return principal;
}

/** The verified bearer token of a jwt or oauth2 principal; undefined for API keys, keyless and the rest. */
export function subjectTokenOf(principal: Principal): string | undefined {
  return tokens.get(principal);
}
