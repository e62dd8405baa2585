// The authorization server's security events as audit records. They are not JSON-RPC exchanges,
// so they use the record's fields this way: `api` is the API the grant is for (or
// "(authorization server)"), `agent` the OAuth client, `user` the user, `method` the endpoint
// (/oauth/register, /oauth/token, /oauth/revoke), `feature` "auth", `target` the event kind,
// `decision`/`rule`/`reason` what happened, `status` the HTTP answer. Timings, bytes and payloads
// are empty.
import type { AuthEvent } from '../authserver/events.ts';
import { NOT_AN_EXCHANGE, type AuditEvent } from './event.ts';
import { eventId } from './ids.ts';
import { UNAUTHENTICATED } from './exchange.ts';

/** `api` of events that belong to no API (registrations, expiry). Not a valid API name: names have no parentheses. */
export const AUTHORIZATION_SERVER = '(authorization server)';

export function auditEventOfAuth(event: AuthEvent): AuditEvent {
  return {
    ...NOT_AN_EXCHANGE,
    id: eventId(event.time),
    time: event.time,
    api: event.api ?? AUTHORIZATION_SERVER,
    tenant: undefined,
    agent: event.clientId ?? UNAUTHENTICATED,
    user: event.userId,
    clientAddress: event.address,
    method: event.endpoint,
    feature: 'auth',
    target: event.kind,
    decision: event.outcome,
    rule: event.outcome === 'denied' ? `authorization-server:${event.kind}` : undefined,
    reason: event.detail,
    status: event.status,
    request: undefined,
  };
}
