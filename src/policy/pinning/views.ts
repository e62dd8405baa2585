// How pinned tools are shown to operators (CLI `gatehouse tools`, management API): a status per
// tool, and a readable diff of the approved definition against the one last seen.
import { createTwoFilesPatch } from 'diff';
import type { ToolPinRecord } from '../../store/store.ts';

/** `approved`: the definition seen is the approved one; `changed`: another was approved; `unapproved`: none ever was. */
export type PinStatus = 'approved' | 'changed' | 'unapproved';

export function pinStatus(pin: ToolPinRecord): PinStatus {
  if (pin.approvedHash === undefined) return 'unapproved';
  return pin.approvedHash === pin.hash ? 'approved' : 'changed';
}

export function pinView(pin: ToolPinRecord) {
  return {
    server: pin.server,
    tool: pin.tool,
    status: pinStatus(pin),
    hash: pin.hash,
    approvedHash: pin.approvedHash ?? null,
    firstSeenAt: new Date(pin.firstSeenAt).toISOString(),
    lastSeenAt: new Date(pin.lastSeenAt).toISOString(),
    changedAt: new Date(pin.changedAt).toISOString(),
    approvedAt: pin.approvedAt === undefined ? null : new Date(pin.approvedAt).toISOString(),
    approvedBy: pin.approvedBy ?? null,
  };
}

/** Definitions one member per line (keys sorted, as stored), so that a diff shows what changed. */
function pretty(text: string | undefined): string {
  return text === undefined ? '' : JSON.stringify(JSON.parse(text), null, 2) + '\n';
}

/** A unified diff from the approved definition (or nothing) to the one last seen; '' when equal. */
export function pinDiff(pin: ToolPinRecord): string {
  if (pin.approvedHash === pin.hash) return '';
  const from = pin.approvedHash === undefined ? '(none approved)' : `approved ${pin.approvedHash.slice(0, 12)}`;
  return createTwoFilesPatch(`${pin.server}/${pin.tool}`, `${pin.server}/${pin.tool}`, pretty(pin.approvedDefinition), pretty(pin.definition), from, `seen ${pin.hash.slice(0, 12)}`);
}

/** The answer to an approval, in words (CLI) — the API maps the same outcomes to 200/404/409. */
export function approvalRefusal(outcome: 'stale' | 'missing', server: string, tool: string): string {
  return outcome === 'missing'
    ? `no tool "${tool}" of server "${server}" has been seen`
    : `the definition of "${tool}" (server "${server}") changed since the hash given was shown; review the new diff (gatehouse tools diff) and approve its hash`;
}
