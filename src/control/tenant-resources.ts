// /api/v1/tenants: the tenants of the draft (the `tenants` list of the document). Platform
// admins create, change and delete them; a tenant's identity sees its own entry only. A tenant
// still named by a server, API or agent cannot be deleted: the draft's validation refuses it,
// naming the field.
import type { ControlDocument } from '../store/control.ts';
import type { Deployments } from './deployments.ts';
import { ManagementError, badRequest, notFound } from './errors.ts';
import { checkIfMatch, etagOf, requireIfMatch } from './etag.ts';
import { jsonBody, methodNotAllowed, nameSegment, reply, type Call } from './http.ts';
import { platformOnly, sees } from './tenant-scope.ts';

type Tenant = Record<string, unknown> & { id?: unknown };

const tenants = (doc: ControlDocument): Tenant[] => {
  if (doc.tenants === undefined) doc.tenants = [];
  if (!Array.isArray(doc.tenants)) throw badRequest('tenants: expected a list');
  return doc.tenants as Tenant[];
};

export async function tenantsResource(call: Call, deployments: Deployments): Promise<void> {
  const [, rawId, ...rest] = call.segments;
  if (rest.length > 0) throw notFound(`/api/v1/${call.segments.join('/')}`);
  const visible = (t: Tenant) => typeof t.id === 'string' && sees(call, t.id);
  if (rawId === undefined) {
    if (call.method === 'GET') return reply(call, 200, { items: tenants(structuredClone((await deployments.draft()).document)).filter(visible).map((t) => ({ ...t, etag: etagOf(t) })) });
    if (call.method !== 'POST') methodNotAllowed(call, 'GET, POST');
    platformOnly(call);
    const tenant = await jsonBody(call);
    if (typeof tenant.id !== 'string') throw badRequest('invalid tenant: id: required field is missing (expected string)', [{ field: 'id', message: 'required field is missing (expected string)' }]);
    const id = tenant.id;
    await deployments.change(call.actor, 'create tenant', `tenants/${id}`, (doc) => {
      if (tenants(doc).some((t) => t.id === id)) throw new ManagementError(409, `tenant "${id}" already exists`);
      tenants(doc).push(tenant);
      return doc;
    });
    return reply(call, 201, tenant, etagOf(tenant));
  }
  const id = nameSegment(rawId, 'tenant');
  const find = (doc: ControlDocument) => tenants(doc).findIndex((t) => t.id === id && visible(t));
  if (call.method === 'GET') {
    const doc = structuredClone((await deployments.draft()).document);
    const at = find(doc);
    if (at === -1) throw notFound(`tenant "${id}"`);
    return reply(call, 200, tenants(doc)[at], etagOf(tenants(doc)[at]));
  }
  if (call.method === 'PUT' || call.method === 'DELETE') {
    platformOnly(call);
    const ifMatch = requireIfMatch(call.req);
    const body = call.method === 'PUT' ? await jsonBody(call) : undefined;
    if (body && body.id !== undefined && body.id !== id) throw badRequest(`id: expected "${id}" (the path's id) or nothing`, [{ field: 'id', message: `expected "${id}"` }]);
    const entry = body && { ...body, id };
    await deployments.change(call.actor, call.method === 'PUT' ? 'update tenant' : 'delete tenant', `tenants/${id}`, (doc) => {
      const at = find(doc);
      if (at === -1) throw notFound(`tenant "${id}"`);
      checkIfMatch(ifMatch, etagOf(tenants(doc)[at]), `tenant "${id}"`, `/api/v1/tenants/${id}`);
      if (entry) tenants(doc)[at] = entry;
      else tenants(doc).splice(at, 1);
      return doc;
    });
    return entry ? reply(call, 200, entry, etagOf(entry)) : reply(call, 204, undefined);
  }
  methodNotAllowed(call, 'GET, PUT, DELETE');
}
