// Changes made through the control plane (draft edits, deploys, rollbacks, agents, keys, users,
// credentials) as audit records, beside the exchanges: who (the admin actor), when, what (the
// action and its target) and the JSON Patch of the change, redacted like payloads (a literal
// header value in a server definition is a secret) and cut at 64 KiB. The record's fields are
// used this way: `api` "(control plane)", `agent` the actor, `method` the action, `feature`
// "config", `target` the object, `reason` the version a deploy made, `request` the patch.
import { NOT_AN_EXCHANGE, type AuditEvent } from './event.ts';
import { eventId } from './ids.ts';
import { cap } from './payloads.ts';
import { compileRedactor } from './redact.ts';

/** `api` of configuration changes. Not a valid API name: names have no parentheses. */
export const CONTROL_PLANE = '(control plane)';

const MAX_PATCH_BYTES = 64 * 1024;
const redactor = compileRedactor([]);

export interface ConfigChange {
  readonly at: number;
  /** "admin-token", "token:<id>", "user:<name>" — who made it. */
  readonly actor: string;
  /** e.g. "update server", "deploy", "rollback", "create agent". */
  readonly action: string;
  /** e.g. "servers/weather", "draft", "versions/3", "agents/ci". */
  readonly target: string;
  /** RFC 6902 operations from before to after; write-only values are never in it. */
  readonly patch: readonly unknown[];
  /** The version a deploy or rollback made. */
  readonly version?: number | undefined;
  /** The admin client's address, when the change came over the API. */
  readonly address?: string | undefined;
  /** The tenant of the identity that made it (a tenant's admin); undefined for a platform admin. */
  readonly tenant?: string | undefined;
}

export function auditEventOfConfigChange(change: ConfigChange): AuditEvent {
  return {
    ...NOT_AN_EXCHANGE,
    id: eventId(change.at),
    time: change.at,
    api: CONTROL_PLANE,
    tenant: change.tenant,
    agent: change.actor,
    user: change.actor.startsWith('user:') ? change.actor.slice('user:'.length) : undefined,
    clientAddress: change.address,
    method: change.action,
    feature: 'config',
    target: change.target,
    decision: 'allowed',
    rule: undefined,
    reason: change.version === undefined ? undefined : `version ${change.version}`,
    status: 200,
    request: cap(JSON.stringify(redactor.value(change.patch)), MAX_PATCH_BYTES),
  };
}
