// The admin listener's view of the tools the pinning policy recorded (src/policy/pinning/), in
// file mode as in managed mode: `GET /api/tools` lists each server's recorded tools with their
// status, hashes, the diff to approve when the definition seen is not the approved one, and the
// operator's annotations (toolAnnotations) as they resolve for that tool; `POST
// /api/tools/<server>/<tool>/approve` with `{"hash": …}` approves the definition shown, only if it
// is still that one (409 when it changed again). A viewer reads and approves nothing; a tenant's
// admin sees its tenant's servers only. An approval is audited as the management API's is (a
// control-plane record `approve tool`: who, which tool, which hash).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConfigData } from '../config/schema.ts';
import { tenantOf } from '../config/tenant-schema.ts';
import { sendJson } from '../http/reply.ts';
import type { Logger } from '../log.ts';
import { TrustedAnnotations, type ToolAnnotations } from '../policy/annotations/trusted.ts';
import { approvalRefusal, pinDiff, pinView } from '../policy/pinning/views.ts';
import type { Store, ToolPinRecord } from '../store/store.ts';
import type { AuditEvent } from '../audit/event.ts';
import { auditEventOfConfigChange } from '../audit/config-events.ts';
import { pointer } from '../control/http.ts';
import { actorOf, identityOf } from './auth.ts';
import { readJsonObject } from './json-body.ts';

const MAX_BODY = 4 * 1024;
const NO_STORE = { 'cache-control': 'no-store' };
const HASH = /^[0-9a-f]{64}$/;

export const TOOLS_API = '/api/tools';

export interface ToolPinsHost {
  readonly config: ConfigData;
  readonly store: Store;
  readonly log: Logger;
  /** Applies an approval on this node at once (others see it within their store poll). */
  readonly pinning: { refreshOne(server: string, tool: string): Promise<void> };
  /** The audit log, when it is on. */
  readonly audit?: { record?(event: AuditEvent): void } | undefined;
}

// Compiled once per config (the admin listener reads the config in force per request).
const compiled = new WeakMap<ConfigData, TrustedAnnotations>();
function annotationsOf(config: ConfigData): TrustedAnnotations {
  let annotations = compiled.get(config);
  if (!annotations) compiled.set(config, (annotations = new TrustedAnnotations(config.toolAnnotations)));
  return annotations;
}

/** /api/tools[/<server>/<tool>/approve], behind admin authentication. */
export async function toolPinsApi(host: ToolPinsHost, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const who = identityOf(req);
  const config = host.config;
  // A tenant's admin sees the servers of its tenant; a server no longer configured is the platform's.
  const visible = (server: string): boolean => who?.tenant === undefined || (config.servers[server] !== undefined && tenantOf(config.servers[server]) === who.tenant);
  if (path === TOOLS_API) {
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'Method Not Allowed' }, { ...NO_STORE, allow: 'GET' });
    const pins = (await host.store.listToolPins()).filter((pin) => visible(pin.server));
    const annotations = annotationsOf(config);
    const configured = Object.entries(config.toolAnnotations).filter(([server]) => visible(server));
    return sendJson(res, 200, { items: pins.map((pin) => toolView(pin, annotations.of(pin.server, pin.tool))), annotations: Object.fromEntries(configured) }, NO_STORE);
  }
  const segments = path.slice(TOOLS_API.length + 1).split('/');
  const [server, tool, verb] = segments.map(decoded);
  if (segments.length !== 3 || verb !== 'approve' || !server || !tool) return sendJson(res, 404, { error: `Not Found: ${path} (approve with POST ${TOOLS_API}/<server>/<tool>/approve)` }, NO_STORE);
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'Method Not Allowed' }, { ...NO_STORE, allow: 'POST' });
  if (!visible(server)) return sendJson(res, 404, { error: approvalRefusal('missing', server, tool) }, NO_STORE);
  if (who?.role === 'viewer') return sendJson(res, 403, { error: 'Forbidden: a viewer may not approve tool definitions' }, NO_STORE);
  const body = await readJsonObject(req, MAX_BODY);
  if (!body) return sendJson(res, 400, { error: 'Bad Request: the body must be a JSON object: {"hash": "<the 64 hex digits of the definition shown>"}' }, NO_STORE);
  if (typeof body.hash !== 'string' || !HASH.test(body.hash)) return sendJson(res, 400, { error: 'Bad Request: hash must be the 64 hex digits of the definition shown' }, NO_STORE);
  const by = who ? actorOf(who) : 'admin';
  const outcome = await host.store.approveToolPin(server, tool, body.hash, Date.now(), by);
  if (outcome === 'missing') return sendJson(res, 404, { error: approvalRefusal(outcome, server, tool) }, NO_STORE);
  if (outcome === 'stale') return sendJson(res, 409, { error: approvalRefusal(outcome, server, tool) }, NO_STORE);
  await host.pinning.refreshOne(server, tool);
  host.log.info({ pinning: { server, tool, hash: body.hash }, by }, 'tool definition approved');
  const patch = [{ op: 'replace', path: pointer('servers', server, 'tools', tool, 'approvedHash'), value: body.hash }];
  host.audit?.record?.(auditEventOfConfigChange({ at: Date.now(), actor: by, action: 'approve tool', target: `servers/${server}/tools/${tool}`, patch, address: req.socket.remoteAddress, tenant: who?.tenant }));
  const pin = await host.store.getToolPin(server, tool);
  return sendJson(res, 200, pin ? toolView(pin, annotationsOf(config).of(server, tool)) : { server, tool }, NO_STORE);
}

export type ToolView = ReturnType<typeof toolView>;

/** What GET /api/tools answers: recorded tools, and the operator's annotations as configured (server → tool name or glob → flags). */
export interface ToolsAnswer {
  items: ToolView[];
  annotations: ConfigData['toolAnnotations'];
}

/** A recorded tool as the console shows it: its pin, what it says of itself, the operator's flags, and the diff to review. */
function toolView(pin: ToolPinRecord, annotations: ToolAnnotations) {
  const definition = parsed(pin.definition);
  return {
    ...pinView(pin),
    description: typeof definition.description === 'string' ? definition.description : null,
    /** The server's own annotations: hints only, the operator's word wins. */
    serverAnnotations: typeof definition.annotations === 'object' && definition.annotations !== null ? definition.annotations : null,
    annotations,
    diff: pinDiff(pin),
  };
}

function parsed(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
