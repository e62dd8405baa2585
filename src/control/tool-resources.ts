// /api/v1/servers/{name}/tools…: the tool definitions the pinning policy recorded for a server
// (src/policy/pinning/), from the store. GET …/tools lists them; GET …/tools/{tool}/diff shows the
// definition last seen against the approved one and its hash; POST …/tools/{tool}/approve with
// `{ "hash": … }` approves it only if it is still that definition (409 when it changed again).
// Applies at once in the store and on this node; other nodes see it within their store poll (2 s).
import { z } from 'zod';
import type { Store } from '../store/store.ts';
import type { Deployments } from './deployments.ts';
import { visibleServer } from './config-resources.ts';
import { badRequest, ManagementError, notFound } from './errors.ts';
import { jsonBody, methodNotAllowed, pointer, reply, type Call } from './http.ts';
import { approvalRefusal, pinDiff, pinView } from '../policy/pinning/views.ts';

const Approval = z.strictObject({ hash: z.string().regex(/^[0-9a-f]{64}$/, 'expected the 64 hex digits of the definition shown by …/diff') });

/** segments: servers, {name}, tools, [{tool}, (diff | approve)] */
export async function toolsResource(call: Call, store: Store, deployments: Deployments, approved?: (server: string, tool: string) => Promise<void>): Promise<void> {
  const [, server, , tool, verb, ...rest] = call.segments;
  if (server === undefined || rest.length > 0) throw notFound(`/api/v1/${call.segments.join('/')}`);
  // A tenant's identity sees the tools of its own servers only: another tenant's is a missing one.
  if (call.tenant !== undefined && !visibleServer((await deployments.draft()).document, server, call)) throw notFound(`/api/v1/${call.segments.join('/')}`);
  if (tool === undefined) {
    if (call.method !== 'GET') methodNotAllowed(call, 'GET');
    return reply(call, 200, { items: (await store.listToolPins(server)).map(pinView) });
  }
  if (verb === undefined) {
    if (call.method !== 'GET') methodNotAllowed(call, 'GET');
    const pin = await store.getToolPin(server, tool);
    if (!pin) throw new ManagementError(404, approvalRefusal('missing', server, tool));
    return reply(call, 200, { ...pinView(pin), definition: JSON.parse(pin.definition) as unknown, approvedDefinition: pin.approvedDefinition === undefined ? null : (JSON.parse(pin.approvedDefinition) as unknown) });
  }
  if (verb === 'diff') {
    if (call.method !== 'GET') methodNotAllowed(call, 'GET');
    const pin = await store.getToolPin(server, tool);
    if (!pin) throw new ManagementError(404, approvalRefusal('missing', server, tool));
    return reply(call, 200, { ...pinView(pin), diff: pinDiff(pin) });
  }
  if (verb === 'approve') {
    if (call.method !== 'POST') methodNotAllowed(call, 'POST');
    const parsed = Approval.safeParse(await jsonBody(call));
    if (!parsed.success) throw badRequest('invalid approval', parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(approval)', message: i.message })));
    const outcome = await store.approveToolPin(server, tool, parsed.data.hash, Date.now(), call.actor);
    if (outcome === 'missing') throw new ManagementError(404, approvalRefusal(outcome, server, tool));
    if (outcome === 'stale') throw new ManagementError(409, approvalRefusal(outcome, server, tool));
    await approved?.(server, tool);
    call.changed('approve tool', `servers/${server}/tools/${tool}`, [{ op: 'replace', path: pointer('servers', server, 'tools', tool, 'approvedHash'), value: parsed.data.hash }]);
    const pin = await store.getToolPin(server, tool);
    return reply(call, 200, pin ? pinView(pin) : {});
  }
  throw notFound(`/api/v1/${call.segments.join('/')}`);
}
