// `approver: user`: the question put to the person behind the agent, as a form elicitation
// (2025-06-18 and later clients that declared it), and how their answer reads. The form shows the
// tool, its server and the exact arguments (cut when huge: the hash names them whole) and has one
// field, `approve`; only an accepted form with approve = true approves.
import { randomUUID } from 'node:crypto';
import { isObject, type JsonRpcRequest, type JsonRpcResponse } from '../../mcp/jsonrpc.ts';
import type { PendingApproval } from './book.ts';

/** Gatehouse's own request ids start so: a client's answer with one is for Gatehouse, never for a server. */
export const QUESTION_ID_PREFIX = 'gatehouse-approval-';

/** Longest arguments text shown in the form. */
const MAX_SHOWN = 4000;

export function approvalQuestion(approval: PendingApproval): JsonRpcRequest & { id: string } {
  let shown = JSON.stringify(approval.arguments, null, 2);
  if (shown.length > MAX_SHOWN) shown = `${shown.slice(0, MAX_SHOWN)}\n… (${shown.length - MAX_SHOWN} more characters; SHA-256 of the arguments: ${approval.argumentsHash})`;
  const where = approval.server !== '' && approval.originalName !== approval.tool ? ` (${approval.server}/${approval.originalName})` : approval.server !== '' ? ` on server "${approval.server}"` : '';
  return {
    jsonrpc: '2.0',
    id: `${QUESTION_ID_PREFIX}${randomUUID()}`,
    method: 'elicitation/create',
    params: {
      message: `Your agent wants to call the tool "${approval.tool}"${where} with these arguments:\n${shown}\nApprove this call?`,
      requestedSchema: {
        type: 'object',
        properties: { approve: { type: 'boolean', title: 'Approve this call', description: `Run "${approval.tool}" with the arguments shown, once.`, default: false } },
        required: ['approve'],
      },
    },
  };
}

/** The key of the question among a 2026-07-28 `input_required` result's inputRequests. */
export const INPUT_KEY = 'gatehouse-approval';

/** Whether the user's answer (an elicitation result) approves: accepted, with approve = true. Anything else refuses. */
export function approvedIn(result: unknown): boolean {
  return isObject(result) && result.action === 'accept' && isObject(result.content) && result.content.approve === true;
}

/** How the answer refused, for the audit trace. */
export function refusalOf(answer: Pick<JsonRpcResponse, 'result' | 'error'>): string {
  if (answer.error) return `the client answered with error ${answer.error.code}`;
  const result = answer.result;
  const action = isObject(result) && typeof result.action === 'string' ? result.action : 'no action';
  return action === 'accept' ? 'accepted the form without approving' : action === 'decline' ? 'declined' : action === 'cancel' ? 'cancelled the form' : `answered "${action}"`;
}
