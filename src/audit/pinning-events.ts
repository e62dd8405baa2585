// Tool definition changes (src/policy/pinning/) as audit records: `feature` "pinning", `method`
// "tools/list" (the answer that showed it), `target` and `originalTarget` the tool, `server` its
// server, `agent` the agent whose list showed it, `decision` "denied" when the API's mode hides
// the tool until approved, `reason` the old and new hashes in words, `request` them as JSON.
import { NOT_AN_EXCHANGE, type AuditEvent } from './event.ts';
import { eventId } from './ids.ts';
import type { DefinitionChange } from '../policy/pinning/registry.ts';

export function auditEventOfDefinitionChange(change: DefinitionChange): AuditEvent {
  const hidden = change.origin.mode !== 'observe' && !change.approved;
  return {
    ...NOT_AN_EXCHANGE,
    id: eventId(change.at),
    time: change.at,
    api: change.origin.api,
    tenant: undefined,
    agent: change.origin.agent,
    user: undefined,
    clientAddress: undefined,
    method: 'tools/list',
    feature: 'pinning',
    target: change.tool,
    server: change.server,
    originalTarget: change.tool,
    decision: hidden ? 'denied' : 'allowed',
    rule: 'pinning',
    reason: `tool definition changed: ${change.oldHash} -> ${change.newHash}${hidden ? ' (hidden until approved)' : ''}`,
    status: 200,
    request: JSON.stringify({ server: change.server, tool: change.tool, oldHash: change.oldHash, newHash: change.newHash, mode: change.origin.mode }),
  };
}
