// Management API resources that live in the draft: servers, APIs (single, federated, virtual),
// the policies inside an API, the draft itself, deployments and the change history. Every change
// sends If-Match with the object's ETag (creation excepted), is validated as a whole config, and
// lands in the draft; `POST /deployments` makes it live.
import type { ControlDocument } from '../store/control.ts';
import type { Deployments } from './deployments.ts';
import { applyPatch, PatchError } from './diff.ts';
import { ManagementError, badRequest, notFound } from './errors.ts';
import { checkIfMatch, draftEtag, etagOf, optionalIfMatch, requireIfMatch, revisionOfEtag } from './etag.ts';
import { jsonBody, methodNotAllowed, nameSegment, reply, type Call } from './http.ts';
import type { Store } from '../store/store.ts';
import { simulateResource } from './simulate.ts';
import type { Store as AgentStore } from '../store/store.ts';
import { checkTenantWrite, claimTenant, platformOnly, seesObject, tenantField, tenantView } from './tenant-scope.ts';

type Servers = Record<string, Record<string, unknown>>;
type ApiEntry = Record<string, unknown> & { name?: unknown; policies?: unknown };

const servers = (doc: ControlDocument): Servers => {
  if (doc.servers === undefined) doc.servers = {};
  return doc.servers as Servers;
};
const apis = (doc: ControlDocument): ApiEntry[] => {
  if (doc.apis === undefined) doc.apis = [];
  return doc.apis as ApiEntry[];
};
const apiIndex = (doc: ControlDocument, name: string): number => apis(doc).findIndex((a) => a.name === name);
/** The API's index if the call may see it, else -1 (a foreign API is a missing one). */
const visibleApi = (doc: ControlDocument, name: string, call: Call): number => {
  const at = apiIndex(doc, name);
  return at !== -1 && seesObject(call, apis(doc)[at]) ? at : -1;
};
/** The server's definition if it exists and the call may see it. */
export const visibleServer = (doc: ControlDocument, name: string, call: Call): Record<string, unknown> | undefined => {
  const def = Object.hasOwn(servers(doc), name) ? servers(doc)[name] : undefined;
  return def !== undefined && seesObject(call, def) ? def : undefined;
};
const serverView = (name: string, definition: Record<string, unknown>) => ({ name, ...definition });
/** The tenant a change's audit record belongs to: the caller's, or for a platform admin the object's. */
const ownerOf = (call: Call, object: unknown): string | undefined => call.tenant ?? tenantField(object);

export async function draftResource(call: Call, deployments: Deployments): Promise<void> {
  if (call.segments[1] === 'diff' && call.segments.length === 2) {
    if (call.method !== 'GET') methodNotAllowed(call, 'GET');
    // With the ETag a deploy names to publish what was reviewed (the console's draft bar reads it
    // here, as `/draft` itself is the platform's): the draft's for the platform, which deploys all
    // of it; for a tenant, its pending changes', which other tenants' edits leave alone.
    const { diff, etag } = await deployments.pending((d) => tenantView(d, call.tenant), call.tenant);
    return reply(call, 200, diff, etag);
  }
  if (call.segments.length !== 1) throw notFound(`/api/v1/${call.segments.join('/')}`);
  // The whole document is the platform's: a tenant reads and changes its objects one by one.
  platformOnly(call);
  if (call.method === 'GET') {
    const draft = await deployments.draft();
    const latest = await deployments.store.latestVersion();
    return reply(call, 200, { revision: draft.revision, updatedAt: draft.updatedAt, updatedBy: draft.updatedBy, deployedVersion: latest ?? null, document: draft.document }, draftEtag(draft.revision));
  }
  if (call.method === 'PUT' || call.method === 'PATCH') {
    const expected = revisionOfEtag(requireIfMatch(call.req));
    if (expected === undefined) throw new ManagementError(412, 'Precondition Failed: If-Match must be the draft\'s ETag ("draft-<revision>")');
    const body = await jsonBody(call, call.method === 'PATCH' ? 'array' : 'object');
    let next: ControlDocument;
    if (call.method === 'PATCH') {
      try {
        next = applyPatch((await deployments.draft()).document, body);
      } catch (error) {
        if (error instanceof PatchError) throw badRequest(`JSON Patch refused: ${error.message}`);
        throw error;
      }
    } else next = body;
    const saved = await deployments.replace(call.actor, next, expected, call.method === 'PATCH' ? 'patch draft' : 'replace draft');
    return reply(call, 200, { revision: saved.revision, document: saved.document }, draftEtag(saved.revision));
  }
  methodNotAllowed(call, 'GET, PUT, PATCH');
}

export async function serversResource(call: Call, deployments: Deployments): Promise<void> {
  const [, rawName, ...rest] = call.segments;
  if (rest.length > 0) throw notFound(`/api/v1/${call.segments.join('/')}`);
  if (rawName === undefined) {
    if (call.method === 'GET') {
      const doc = (await deployments.draft()).document;
      return reply(call, 200, { items: Object.entries(servers(doc)).filter(([, def]) => seesObject(call, def)).map(([name, def]) => ({ ...serverView(name, def), etag: etagOf(serverView(name, def)) })) });
    }
    if (call.method !== 'POST') methodNotAllowed(call, 'GET, POST');
    const { name, ...given } = await jsonBody(call);
    const definition = claimTenant(call, given, 'server');
    checkTenantWrite(call, definition, 'server');
    if (typeof name !== 'string') throw badRequest('invalid server: name: required field is missing (expected string)', [{ field: 'name', message: 'required field is missing (expected string)' }]);
    await deployments.change(call.actor, 'create server', `servers/${name}`, (doc) => {
      if (Object.hasOwn(servers(doc), name)) throw new ManagementError(409, `server "${name}" already exists (PUT /api/v1/servers/${name} with If-Match changes it)`);
      servers(doc)[name] = definition;
      return doc;
    }, ownerOf(call, definition));
    return reply(call, 201, serverView(name, definition), etagOf(serverView(name, definition)));
  }
  const name = nameSegment(rawName, 'server');
  if (call.method === 'GET') {
    const def = visibleServer((await deployments.draft()).document, name, call);
    if (!def) throw notFound(`server "${name}"`);
    return reply(call, 200, serverView(name, def), etagOf(serverView(name, def)));
  }
  if (call.method === 'PUT') {
    const ifMatch = requireIfMatch(call.req);
    const { name: given, ...body } = await jsonBody(call);
    const definition = claimTenant(call, body, 'server');
    checkTenantWrite(call, definition, 'server');
    if (given !== undefined && given !== name) throw badRequest(`name: expected "${name}" (the path's name) or nothing; renaming is a DELETE and a POST`, [{ field: 'name', message: `expected "${name}"` }]);
    await deployments.change(call.actor, 'update server', `servers/${name}`, (doc) => {
      const current = visibleServer(doc, name, call);
      if (current === undefined) throw notFound(`server "${name}"`);
      checkIfMatch(ifMatch, etagOf(serverView(name, current)), `server "${name}"`, `/api/v1/servers/${name}`);
      servers(doc)[name] = definition;
      return doc;
    }, ownerOf(call, definition));
    return reply(call, 200, serverView(name, definition), etagOf(serverView(name, definition)));
  }
  if (call.method === 'DELETE') {
    const ifMatch = requireIfMatch(call.req);
    await deployments.change(call.actor, 'delete server', `servers/${name}`, (doc) => {
      const current = visibleServer(doc, name, call);
      if (current === undefined) throw notFound(`server "${name}"`);
      checkIfMatch(ifMatch, etagOf(serverView(name, current)), `server "${name}"`, `/api/v1/servers/${name}`);
      delete servers(doc)[name];
      return doc;
    }, call.tenant);
    return reply(call, 204, undefined);
  }
  methodNotAllowed(call, 'GET, PUT, DELETE');
}

export async function apisResource(call: Call, deployments: Deployments, store: Store): Promise<void> {
  const [, rawName, sub, rawIndex, ...rest] = call.segments;
  if (sub === 'simulate' && rawIndex === undefined) {
    const name = nameSegment(rawName, 'API');
    if (visibleApi((await deployments.draft()).document, name, call) === -1) throw notFound(`API "${name}"`);
    return simulateResource(call, deployments, store, name);
  }
  if (rest.length > 0 || (sub !== undefined && sub !== 'policies')) throw notFound(`/api/v1/${call.segments.join('/')}`);
  if (rawName === undefined) {
    if (call.method === 'GET') return reply(call, 200, { items: apis((await deployments.draft()).document).filter((a) => seesObject(call, a)).map((a) => ({ ...a, etag: etagOf(a) })) });
    if (call.method !== 'POST') methodNotAllowed(call, 'GET, POST');
    const api = claimTenant(call, await jsonBody(call), 'API');
    checkTenantWrite(call, api, 'API');
    if (typeof api.name !== 'string') throw badRequest('invalid API: name: required field is missing (expected string)', [{ field: 'name', message: 'required field is missing (expected string)' }]);
    const name = api.name;
    await deployments.change(call.actor, 'create api', `apis/${name}`, (doc) => {
      if (apiIndex(doc, name) !== -1) throw new ManagementError(409, `API "${name}" already exists (PUT /api/v1/apis/${name} with If-Match changes it)`);
      apis(doc).push(api);
      return doc;
    }, ownerOf(call, api));
    return reply(call, 201, api, etagOf(api));
  }
  const name = nameSegment(rawName, 'API');
  if (sub === 'policies') return policiesResource(call, deployments, name, rawIndex);
  if (call.method === 'GET') {
    const doc = (await deployments.draft()).document;
    const at = visibleApi(doc, name, call);
    if (at === -1) throw notFound(`API "${name}"`);
    return reply(call, 200, apis(doc)[at], etagOf(apis(doc)[at]));
  }
  if (call.method === 'PUT' || call.method === 'DELETE') {
    const ifMatch = requireIfMatch(call.req);
    const api = call.method === 'PUT' ? claimTenant(call, await jsonBody(call), 'API') : undefined;
    checkTenantWrite(call, api, 'API');
    if (api && api.name !== undefined && api.name !== name) throw badRequest(`name: expected "${name}" (the path's name) or nothing`, [{ field: 'name', message: `expected "${name}"` }]);
    const entry = api && { ...api, name };
    await deployments.change(call.actor, call.method === 'PUT' ? 'update api' : 'delete api', `apis/${name}`, (doc) => {
      const at = visibleApi(doc, name, call);
      if (at === -1) throw notFound(`API "${name}"`);
      checkIfMatch(ifMatch, etagOf(apis(doc)[at]), `API "${name}"`, `/api/v1/apis/${name}`);
      if (entry) apis(doc)[at] = entry;
      else apis(doc).splice(at, 1);
      return doc;
    }, ownerOf(call, entry));
    return entry ? reply(call, 200, entry, etagOf(entry)) : reply(call, 204, undefined);
  }
  methodNotAllowed(call, 'GET, PUT, DELETE');
}

/** Policies of an API, addressed by their position in the chain (the ETag guards a shifted list). */
async function policiesResource(call: Call, deployments: Deployments, apiName: string, rawIndex: string | undefined): Promise<void> {
  const policiesOf = (doc: ControlDocument): Array<Record<string, unknown>> => {
    const at = visibleApi(doc, apiName, call);
    if (at === -1) throw notFound(`API "${apiName}"`);
    const api = apis(doc)[at]!;
    if (api.policies === undefined) api.policies = [];
    if (!Array.isArray(api.policies)) throw badRequest(`apis[${at}].policies: expected a list`);
    return api.policies as Array<Record<string, unknown>>;
  };
  const target = (index: number | undefined) => `apis/${apiName}/policies${index === undefined ? '' : `/${index}`}`;
  if (rawIndex === undefined) {
    if (call.method === 'GET') return reply(call, 200, { items: policiesOf((await deployments.draft()).document).map((p, index) => ({ index, policy: p, etag: etagOf(p) })) });
    if (call.method !== 'POST') methodNotAllowed(call, 'GET, POST');
    const policy = await jsonBody(call);
    checkTenantWrite(call, policy, 'policy');
    let index = 0;
    await deployments.change(call.actor, 'add policy', target(undefined), (doc) => {
      const list = policiesOf(doc);
      const at = call.query.get('at');
      index = at === null ? list.length : Number(at);
      if (!Number.isInteger(index) || index < 0 || index > list.length) throw badRequest(`at: expected a position 0–${list.length}`);
      list.splice(index, 0, policy);
      return doc;
    }, call.tenant);
    return reply(call, 201, { index, policy, etag: etagOf(policy) }, etagOf(policy));
  }
  const index = Number(rawIndex);
  if (!/^\d+$/.test(rawIndex)) throw notFound(`policy ${rawIndex} of API "${apiName}"`);
  if (call.method === 'GET') {
    const policy = policiesOf((await deployments.draft()).document)[index];
    if (!policy) throw notFound(`policy ${index} of API "${apiName}"`);
    return reply(call, 200, { index, policy }, etagOf(policy));
  }
  if (call.method === 'PUT' || call.method === 'DELETE') {
    const ifMatch = requireIfMatch(call.req);
    const policy = call.method === 'PUT' ? await jsonBody(call) : undefined;
    checkTenantWrite(call, policy, 'policy');
    await deployments.change(call.actor, policy ? 'update policy' : 'delete policy', target(index), (doc) => {
      const list = policiesOf(doc);
      if (list[index] === undefined) throw notFound(`policy ${index} of API "${apiName}"`);
      checkIfMatch(ifMatch, etagOf(list[index]), `policy ${index} of API "${apiName}"`, `/api/v1/apis/${apiName}/policies/${index}`);
      if (policy) list[index] = policy;
      else list.splice(index, 1);
      return doc;
    }, call.tenant);
    return policy ? reply(call, 200, { index, policy }, etagOf(policy)) : reply(call, 204, undefined);
  }
  methodNotAllowed(call, 'GET, PUT, DELETE');
}

export async function deploymentsResource(call: Call, deployments: Deployments, mcpBase: () => string | undefined): Promise<void> {
  const [, rawVersion, action, ...rest] = call.segments;
  if (rest.length > 0) throw notFound(`/api/v1/${call.segments.join('/')}`);
  const summary = (v: { version: number; createdAt: number; createdBy: string; comment: string | undefined; rolledBackFrom: number | undefined }) => ({ version: v.version, createdAt: v.createdAt, createdBy: v.createdBy, comment: v.comment ?? null, rolledBackFrom: v.rolledBackFrom ?? null });
  if (rawVersion === undefined) {
    if (call.method === 'GET') return reply(call, 200, { items: (await deployments.store.listVersions()).map(summary) });
    if (call.method !== 'POST') methodNotAllowed(call, 'GET, POST');
    const body = call.req.headers['content-length'] === '0' || call.req.headers['content-type'] === undefined ? {} : await jsonBody(call);
    // Optional: the ETag of GET /draft/diff, to deploy exactly what was reviewed (deployments.ts).
    const version = await deployments.deploy(call.actor, typeof body.comment === 'string' ? body.comment : undefined, optionalIfMatch(call.req), call.tenant);
    return reply(call, 201, { ...summary(version), apis: apiUrls(tenantView(version.document, call.tenant), mcpBase()) });
  }
  const n = Number(rawVersion);
  if (!/^\d+$/.test(rawVersion)) throw notFound(`version ${rawVersion}`);
  if (action === undefined) {
    if (call.method !== 'GET') methodNotAllowed(call, 'GET');
    const version = await deployments.store.getVersion(n);
    if (!version) throw notFound(`version ${n}`);
    return reply(call, 200, { ...summary(version), document: tenantView(version.document, call.tenant) });
  }
  if (action === 'diff') {
    if (call.method !== 'GET') methodNotAllowed(call, 'GET');
    const against = call.query.get('against');
    const from = against === null ? (n > 1 ? n - 1 : 'empty') : against === 'draft' ? 'draft' : Number(against);
    if (typeof from === 'number' && !Number.isInteger(from)) throw badRequest('against: expected a version number or "draft"');
    return reply(call, 200, await deployments.diff(from, n, (d) => tenantView(d, call.tenant)));
  }
  if (action === 'rollback') {
    if (call.method !== 'POST') methodNotAllowed(call, 'POST');
    // A rollback replaces every tenant's configuration: the platform's to make.
    platformOnly(call);
    const expected = revisionOfEtag(requireIfMatch(call.req));
    if (expected === undefined) throw new ManagementError(412, 'Precondition Failed: If-Match must be the draft\'s ETag ("draft-<revision>"): a rollback replaces the draft');
    const version = await deployments.rollback(call.actor, n, expected);
    return reply(call, 201, { ...summary(version), apis: apiUrls(version.document, mcpBase()) });
  }
  throw notFound(`/api/v1/${call.segments.join('/')}`);
}

export async function changesResource(call: Call, deployments: Deployments, store: AgentStore): Promise<void> {
  if (call.method !== 'GET') methodNotAllowed(call, 'GET');
  const limit = Math.min(1000, Math.max(1, Number(call.query.get('limit') ?? 100) || 100));
  const items = await deployments.store.listChanges(limit);
  if (call.tenant === undefined) return reply(call, 200, { items });
  // A tenant sees the changes of its objects as they are now; never a whole-document change
  // (a deploy's or a replaced draft's patch holds every tenant's objects).
  const doc = (await deployments.draft()).document;
  const agents = new Set((await store.listAgents()).filter((a) => (a.tenant ?? 'default') === call.tenant).map((a) => a.id));
  const users = new Set((await store.listUsers()).filter((u) => (u.tenant ?? 'default') === call.tenant).map((u) => u.username));
  const admins = new Set((await deployments.store.listAdminUsers()).filter((a) => a.tenant === call.tenant).map((a) => a.username));
  const own = (target: string): boolean => {
    const [kind, name] = target.split('/');
    if (name === undefined) return false;
    if (kind === 'servers') return visibleServer(doc, name, call) !== undefined;
    if (kind === 'apis') return visibleApi(doc, name, call) !== -1;
    if (kind === 'agents') return agents.has(name);
    if (kind === 'users') return users.has(name);
    if (kind === 'admins') return admins.has(name);
    return false;
  };
  return reply(call, 200, { items: items.filter((c) => own(c.target)) });
}

function apiUrls(document: ControlDocument, base: string | undefined): Array<{ name: unknown; path: unknown; url: string | null }> {
  return apis(structuredClone(document)).map((a) => ({ name: a.name, path: a.path, url: base && typeof a.path === 'string' ? `${base}${a.path}` : null }));
}
