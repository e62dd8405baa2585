// The admin listener's side of the approval policy: the queue of held calls for admins
// (`GET /api/approvals`, `POST /api/approvals/<id>` with `{"decision": "approve"|"deny"}`), and
// the signed links of the webhook (`/approvals/<id>?action=…&t=…`: a page showing the call with
// one button; the POST decides). A tenant's admin sees and decides its tenant's calls only; a
// viewer sees them and decides nothing. Every node's held calls are listed and decided here
// (policy/approval/shared.ts): a call another node holds is decided by a note to that node, which
// applies it within a second (202).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeHtml } from '../authserver/pages.ts';
import { sendJson } from '../http/reply.ts';
import type { LinkAction, PendingApproval } from '../policy/approval/book.ts';
import type { SharedApprovals } from '../policy/approval/shared.ts';
import { APPROVAL_LINK_PATH } from '../policy/approval/links.ts';
import { actorOf, identityOf } from './auth.ts';
import { sendHtml } from './pages.ts';
import { readJsonObject } from './json-body.ts';

const MAX_BODY = 8 * 1024;
const NO_STORE = { 'cache-control': 'no-store' };

export const APPROVALS_API = '/api/approvals';

/** A held call as the admin API shows it (times as ISO 8601). */
export type ApprovalView = ReturnType<typeof view>;

const view = (a: PendingApproval) => ({ ...a, reason: a.reason ?? null, user: a.user ?? null, session: a.session ?? null, tenant: a.tenant ?? null, requestedAt: new Date(a.requestedAt).toISOString(), expiresAt: new Date(a.expiresAt).toISOString() });

/** /api/approvals[/<id>], behind admin authentication. */
export async function approvalsApi(queue: SharedApprovals, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const who = identityOf(req);
  const tenant = who?.tenant;
  if (path === APPROVALS_API) {
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'Method Not Allowed' }, { ...NO_STORE, allow: 'GET' });
    return sendJson(res, 200, { items: (await queue.list(tenant)).map(view) }, NO_STORE);
  }
  const id = decodeURIComponent(path.slice(APPROVALS_API.length + 1));
  const approval = await queue.get(id);
  // Another tenant's call is a missing one.
  if (!approval || (tenant !== undefined && approval.tenant !== tenant)) return sendJson(res, 404, { error: `no call waits for approval under id "${id}" (decided already, timed out, or never held)` }, NO_STORE);
  if (req.method === 'GET') return sendJson(res, 200, view(approval), NO_STORE);
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'Method Not Allowed' }, { ...NO_STORE, allow: 'GET, POST' });
  if (who?.role === 'viewer') return sendJson(res, 403, { error: 'Forbidden: a viewer may not decide calls' }, NO_STORE);
  const body = await readJsonObject(req, MAX_BODY);
  if (!body) return sendJson(res, 400, { error: 'Bad Request: the body must be a JSON object: {"decision": "approve" | "deny", "argumentsHash"?: "<hex>"}' }, NO_STORE);
  if (body.decision !== 'approve' && body.decision !== 'deny') return sendJson(res, 400, { error: 'Bad Request: decision must be "approve" or "deny"' }, NO_STORE);
  if (body.argumentsHash !== undefined && typeof body.argumentsHash !== 'string') return sendJson(res, 400, { error: 'Bad Request: argumentsHash must be a string' }, NO_STORE);
  const by = who ? actorOf(who) : 'admin';
  const outcome = await queue.decide(id, body.decision === 'approve', by, body.argumentsHash as string | undefined);
  if (outcome === 'conflict' || outcome === 'missing') {
    return sendJson(res, 409, { error: body.argumentsHash !== undefined && (await queue.get(id)) ? 'Conflict: the arguments are not the ones shown (argumentsHash differs)' : 'Conflict: the call was decided or timed out meanwhile' }, NO_STORE);
  }
  // Relayed: the node holding the call applies the decision within a second.
  return sendJson(res, outcome === 'decided' ? 200 : 202, { id, decision: body.decision, by, ...(outcome === 'relayed' && { applied: 'by the node that holds the call, within a second' }) }, NO_STORE);
}

/** /approvals/<id>?action=…&t=…: the webhook's signed links; no admin sign-in (the signature is the authority). */
export async function approvalLink(queue: SharedApprovals, req: IncomingMessage, res: ServerResponse, path: string, url: string): Promise<void> {
  const id = decodeURIComponent(path.slice(APPROVAL_LINK_PATH.length));
  const params = new URL(url, 'http://admin.invalid').searchParams;
  const action = params.get('action');
  const token = params.get('t') ?? '';
  if ((action !== 'approve' && action !== 'deny') || !queue.checkLink(id, action, token)) {
    return sendHtml(res, 400, 'Invalid link', '<h1>Invalid link</h1><p>This approval link is malformed or was not issued by this Gatehouse.</p>');
  }
  const approval = await queue.get(id);
  if (!approval) return sendHtml(res, 410, 'Nothing to decide', '<h1>Nothing to decide</h1><p>This call was decided already, timed out, or its agent left.</p>');
  if (req.method === 'GET' || req.method === 'HEAD') return sendHtml(res, 200, 'Approve a tool call', confirmPage(approval, action, url));
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'GET, POST' }).end();
    return;
  }
  const outcome = await queue.decide(id, action === 'approve', `link:${action}`);
  const decided = outcome === 'decided' || outcome === 'relayed';
  return sendHtml(res, decided ? 200 : 410, decided ? 'Decided' : 'Nothing to decide', decided ? `<h1>${action === 'approve' ? 'Approved' : 'Denied'}</h1><p>The call of <b>${escapeHtml(approval.tool)}</b> by <b>${escapeHtml(approval.agent)}</b> is ${action === 'approve' ? 'approved and runs now' : 'denied'}.</p>` : '<h1>Nothing to decide</h1><p>This call was decided meanwhile.</p>');
}

function confirmPage(a: PendingApproval, action: LinkAction, url: string): string {
  const args = escapeHtml(JSON.stringify(a.arguments, null, 2));
  const verb = action === 'approve' ? 'Approve' : 'Deny';
  return `<h1>${verb} this tool call?</h1>
<p><b>${escapeHtml(a.agent)}</b>${a.user ? ` for <b>${escapeHtml(a.user)}</b>` : ''} calls <b>${escapeHtml(a.tool)}</b> (${escapeHtml(a.server)}/${escapeHtml(a.originalName)}) on API <b>${escapeHtml(a.api)}</b>.</p>
<pre>${args}</pre>${a.reason ? `<p>Why it waits: ${escapeHtml(a.reason)}.</p>` : ''}
<p>It waits until ${escapeHtml(new Date(a.expiresAt).toISOString())}.</p>
<form method="post" action="${escapeHtml(url)}"><button type="submit">${verb}</button></form>`;
}
