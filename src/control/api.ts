// The management API: /api/v1/... on the admin listener, behind the same admin authentication as
// the rest of it (the listener checks it before calling here). Answers JSON; refusals are
// `{ error, problems? }` with the right status (400 invalid, 404, 409, 412 stale ETag, 428
// If-Match missing).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store } from '../store/store.ts';
import type { CredentialVault } from '../credentials/vault.ts';
import type { Logger } from '../log.ts';
import { GatehouseError } from '../errors.ts';
import { sendJson } from '../http/reply.ts';
import type { Deployments } from './deployments.ts';
import { ManagementError, notFound } from './errors.ts';
import type { ConfigChange } from '../audit/config-events.ts';
import { actorOf, type AdminIdentity } from '../admin/auth.ts';
import { tokensResource } from './token-resources.ts';
import { adminsResource } from './admin-resources.ts';
import type { AdminUserEntry } from '../admin/admin-users.ts';
import { apisResource, changesResource, deploymentsResource, draftResource, serversResource } from './config-resources.ts';
import { agentsResource, credentialsResource } from './store-resources.ts';
import { usersResource } from './user-resources.ts';
import { validateResource } from './validate.ts';
import { platformOnly } from './tenant-scope.ts';
import { tenantsResource } from './tenant-resources.ts';
import { toolsResource } from './tool-resources.ts';
import { connectionsResource } from './connection-resources.ts';
import type { UserConnections } from '../credentials/oauth-user/connections.ts';
import type { UserGrants } from '../authserver/grants.ts';
import { methodNotAllowed, reply, type Call } from './http.ts';

export interface ManagementDeps {
  readonly deployments: Deployments;
  readonly store: Store;
  readonly vault: CredentialVault;
  readonly log: Logger;
  readonly openapi: () => unknown;
  /** Base URL of the MCP listener, to answer a deploy with each API's URL. */
  readonly mcpBase: () => string | undefined;
  /** Where changes to the store (agents, keys, users, credentials) are recorded: the audit log. */
  readonly onChange?: ((change: ConfigChange) => void) | undefined;
  /** After a tool approval: this node applies it at once (src/policy/pinning/registry.ts). */
  readonly toolApproved?: ((server: string, tool: string) => Promise<void>) | undefined;
  /** Users' connections to per-user upstream servers (auth: oauth-user). */
  readonly connections?: UserConnections | undefined;
  /** Users' grants at the embedded authorization server (the running one's, for its denylist). */
  readonly grants?: (() => UserGrants) | undefined;
  /** The node file's admin.users: listed by /admins, read-only. */
  readonly fileAdmins?: (() => readonly AdminUserEntry[]) | undefined;
}

export const API_PREFIX = '/api/v1/';

export type ManagementHandler = (req: IncomingMessage, res: ServerResponse, path: string, who: AdminIdentity) => Promise<void>;

export function managementApi(deps: ManagementDeps): ManagementHandler {
  return async (req, res, path, who) => {
    const actor = actorOf(who);
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    let segments: string[];
    try {
      segments = path.slice(API_PREFIX.length).split('/').filter((s) => s !== '').map(decodeURIComponent);
    } catch {
      return sendJson(res, 400, { error: 'malformed path' });
    }
    const address = req.socket.remoteAddress;
    const tenant = who.tenant;
    const changed: Call['changed'] = (action, target, patch) => deps.onChange?.({ at: Date.now(), actor, action, target, patch, address, tenant });
    const call: Call = { req, res, method: req.method ?? 'GET', segments, query: url.searchParams, actor, tenant, changed };
    try {
      allowed(who, call);
      await route(call);
    } catch (error) {
      if (error instanceof ManagementError) return sendJson(res, error.status, error.body(), { 'cache-control': 'no-store', ...error.headers });
      if (error instanceof GatehouseError) return sendJson(res, error.status, { error: error.message }, { 'cache-control': 'no-store' });
      deps.log.error({ err: error, path }, 'management API failed');
      sendJson(res, 500, { error: 'internal error; see the Gatehouse log' });
    }
  };

  /** What the console needs besides the objects: where clients connect (for the client snippet). */
  async function info(call: Call): Promise<void> {
    if (call.segments.length !== 1) throw notFound(`/api/v1/${call.segments.join('/')}`);
    if (call.method !== 'GET') methodNotAllowed(call, 'GET');
    return reply(call, 200, { mode: 'managed', mcpBase: deps.mcpBase() ?? null, deployedVersion: (await deps.deployments.store.latestVersion()) ?? null });
  }

  async function route(call: Call): Promise<void> {
    switch (call.segments[0]) {
      case 'openapi.json':
        return sendJson(call.res, 200, deps.openapi(), { 'cache-control': 'no-store' });
      case 'draft':
        return draftResource(call, deps.deployments);
      case 'tenants':
        return tenantsResource(call, deps.deployments);
      case 'servers':
        // The tools a server listed, as the pinning policy recorded them: store-backed, not config.
        if (call.segments[2] === 'tools') return toolsResource(call, deps.store, deps.deployments, deps.toolApproved);
        return serversResource(call, deps.deployments);
      case 'apis':
        return apisResource(call, deps.deployments, deps.store);
      case 'deployments':
        return deploymentsResource(call, deps.deployments, deps.mcpBase);
      case 'changes':
        return changesResource(call, deps.deployments, deps.store);
      case 'agents':
        return agentsResource(call, deps.store, deps.deployments);
      case 'users':
        // A tenant's identity sees its own tenant's users only (user-resources.ts).
        return usersResource(call, deps.store, deps.deployments, deps.connections, deps.grants);
      case 'connections':
        platformOnly(call);
        if (!deps.connections) throw notFound('/api/v1/connections');
        return connectionsResource(call, deps.connections);
      case 'credentials':
        return credentialsResource(call, deps.vault, deps.deployments);
      case 'tokens':
        return tokensResource(call, deps.deployments.store, deps.deployments);
      case 'admins':
        return adminsResource(call, deps.deployments.store, deps.store, deps.deployments, deps.fileAdmins?.() ?? []);
      case 'validate':
        return validateResource(call);
      case 'info':
        return info(call);
    }
    throw notFound(`/api/v1/${call.segments.join('/')}`);
  }
}

/**
 * Roles: a viewer reads; an admin changes everything but API tokens and admin users; an owner (the admin token,
 * listed admin users, owner tokens) everything. Refused with 403 before anything is read.
 */
function allowed(who: AdminIdentity, call: Call): void {
  // Validation reads nothing and changes nothing: a viewer may check an expression too. (Not
  // simulation: it connects to the servers, and starts stdio ones.)
  const reading = call.method === 'GET' || call.method === 'HEAD' || call.segments[0] === 'validate';
  if (who.role === 'viewer' && !reading) throw new ManagementError(403, `Forbidden: role viewer may only read (${call.method} refused)`);
  if (who.role !== 'owner' && call.segments[0] === 'tokens') throw new ManagementError(403, `Forbidden: API tokens are managed by owners (this identity's role is ${who.role})`);
  if (who.role !== 'owner' && call.segments[0] === 'admins') throw new ManagementError(403, `Forbidden: admin users are managed by owners (this identity's role is ${who.role})`);
}
