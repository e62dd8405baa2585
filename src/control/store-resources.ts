// Management API resources that live in the store and apply at once, like the CLI commands that
// manage them (no deployment): agents and their API keys (a key is shown once, when created),
// upstream credentials (write-only: set and delete, listed by name and type, never shown).
// Users of the embedded authorization server are in user-resources.ts.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Store, AgentRecord, ApiKeyRecord } from '../store/store.ts';
import { StoreConstraintError } from '../store/errors.ts';
import { AgentSchema } from '../config/auth-schema.ts';
import { digestKey, generateApiKey, keyPrefix } from '../auth/api-key.ts';
import type { CredentialSummary, CredentialVault } from '../credentials/vault.ts';
import { parseSecretCredential } from '../credentials/secret.ts';
import { ManagementError, badRequest, notFound } from './errors.ts';
import { checkIfMatch, checkIfNoneMatch, etagOf, optionalIfMatch, requireIfMatch } from './etag.ts';
import { Serial } from './serial.ts';
import { conditionalWrite, RACED } from './conditional.ts';
import { jsonBody, methodNotAllowed, nameSegment, pointer, reply, type Call } from './http.ts';
import type { Deployments } from './deployments.ts';
import { claimTenant, declaredTenants, sees, seesCredential, seesObject } from './tenant-scope.ts';
import { DEFAULT_TENANT } from '../config/tenant-schema.ts';

/** What PUT /agents/{id} may change (createdAt and keys are not fields of it). */
const AgentUpdate = AgentSchema.pick({ name: true, labels: true }).extend({ id: AgentSchema.shape.id.optional(), name: z.string().nullable().optional(), disabled: z.boolean().optional(), createdAt: z.number().optional(), tenant: z.string().nullable().optional() }).strict();

/**
 * One write at a time per object through this node, so that the ETag check and the write it
 * guards see the same object (module-wide: the store behind them is the process's). Between
 * nodes, the store's compare-and-set decides (conditional.ts): the slower of two gets 412.
 */
const writes = new Serial();

const agentView = (a: AgentRecord) => ({ id: a.id, name: a.name ?? null, labels: a.labels, tenant: a.tenant ?? null, disabled: a.disabled, createdAt: a.createdAt });
const keyView = ({ hash: _hash, ...k }: ApiKeyRecord) => ({ ...k, api: k.api ?? null, expiresAt: k.expiresAt ?? null, revokedAt: k.revokedAt ?? null, lastUsedAt: k.lastUsedAt ?? null });

/** The agents quota of a tenant in the draft, if it has one. */
function agentQuota(document: Record<string, unknown>, tenant: string): number | undefined {
  const entry = (Array.isArray(document.tenants) ? document.tenants : []).find((t) => (t as { id?: unknown } | null)?.id === tenant) as { quotas?: { agents?: unknown } } | undefined;
  return typeof entry?.quotas?.agents === 'number' ? entry.quotas.agents : undefined;
}

export async function agentsResource(call: Call, store: Store, deployments: Deployments): Promise<void> {
  const [, rawId, sub, rawKey, ...rest] = call.segments;
  if (rest.length > 0 || (sub !== undefined && sub !== 'keys')) throw notFound(`/api/v1/${call.segments.join('/')}`);
  if (rawId === undefined) {
    if (call.method === 'GET') return reply(call, 200, { items: (await store.listAgents()).filter((a) => sees(call, a.tenant)).map((a) => ({ ...agentView(a), etag: etagOf(agentView(a)) })) });
    if (call.method !== 'POST') methodNotAllowed(call, 'GET, POST');
    const body = claimTenant(call, await jsonBody(call), 'agent');
    const parsed = AgentSchema.pick({ id: true, name: true, labels: true, tenant: true }).strict().safeParse(body);
    if (!parsed.success) throw badRequest('invalid agent', parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(agent)', message: i.message })));
    const tenant = parsed.data.tenant === DEFAULT_TENANT ? undefined : parsed.data.tenant;
    const document = (await deployments.draft()).document;
    if (tenant !== undefined && !declaredTenants(document).includes(tenant)) {
      throw badRequest(`invalid agent: tenant: no tenant "${tenant}"; expected one of the ids under \`tenants\``, [{ field: 'tenant', message: `no tenant "${tenant}"` }]);
    }
    const quota = agentQuota(document, tenant ?? DEFAULT_TENANT);
    if (quota !== undefined) {
      const count = (await store.listAgents()).filter((a) => (a.tenant ?? DEFAULT_TENANT) === (tenant ?? DEFAULT_TENANT)).length;
      if (count >= quota) throw new ManagementError(409, `tenant "${tenant ?? DEFAULT_TENANT}" has ${count} agents, its quota (tenants[].quotas.agents: ${quota}); raise the quota to add more`);
    }
    const agent: AgentRecord = { id: parsed.data.id, name: parsed.data.name ?? undefined, labels: parsed.data.labels, tenant, createdAt: Date.now(), disabled: false };
    try {
      await store.createAgent(agent);
    } catch (error) {
      if (error instanceof StoreConstraintError && error.reason === 'duplicate') throw new ManagementError(409, `agent "${agent.id}" already exists`);
      throw error;
    }
    call.changed('create agent', `agents/${agent.id}`, [{ op: 'add', path: pointer('agents', agent.id), value: agentView(agent) }]);
    return reply(call, 201, agentView(agent), etagOf(agentView(agent)));
  }
  const id = nameSegment(rawId, 'agent');
  const agent = await store.getAgent(id);
  // Another tenant's agent (and so its keys) is a missing one.
  if (!agent || !sees(call, agent.tenant)) throw notFound(`agent "${id}"`);
  if (sub === 'keys') return keysResource(call, store, agent, rawKey, deployments);
  if (call.method === 'GET') return reply(call, 200, agentView(agent), etagOf(agentView(agent)));
  if (call.method === 'PUT') {
    const ifMatch = requireIfMatch(call.req);
    const body = await jsonBody(call);
    const parsed = AgentUpdate.safeParse(body);
    if (!parsed.success) throw badRequest('invalid agent', parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(agent)', message: i.message })));
    if (parsed.data.id !== undefined && parsed.data.id !== id) throw badRequest(`id: expected "${id}"`, [{ field: 'id', message: `expected "${id}"` }]);
    const next = await writes.run(`agents/${id}`, () =>
      conditionalWrite(`agent "${id}"`, async () => {
        // Read again now that the body is in: the ETag is checked against the agent as it is.
        const current = await store.getAgent(id);
        if (!current || !sees(call, current.tenant)) throw notFound(`agent "${id}"`);
        checkIfMatch(ifMatch, etagOf(agentView(current)), `agent "${id}"`, `/api/v1/agents/${id}`);
        // An agent stays in its tenant (its keys and audit records belong there): make a new one instead.
        if (parsed.data.tenant !== undefined && (parsed.data.tenant ?? undefined) !== current.tenant) throw badRequest(`tenant: expected ${current.tenant === undefined ? 'null' : `"${current.tenant}"`} (an agent cannot move to another tenant)`, [{ field: 'tenant', message: 'an agent cannot move to another tenant' }]);
        const updated: AgentRecord = { ...current, name: parsed.data.name ?? undefined, labels: parsed.data.labels, disabled: parsed.data.disabled ?? current.disabled };
        // Written only if the agent is still the one checked (another node may have changed it since).
        return (await store.updateAgent(updated, current)) ? updated : RACED;
      }),
    );
    call.changed('update agent', `agents/${id}`, [{ op: 'replace', path: pointer('agents', id), value: agentView(next) }]);
    return reply(call, 200, agentView(next), etagOf(agentView(next)));
  }
  methodNotAllowed(call, 'GET, PUT');
}

async function keysResource(call: Call, store: Store, agent: AgentRecord, rawKey: string | undefined, deployments: Deployments): Promise<void> {
  if (rawKey === undefined) {
    if (call.method === 'GET') return reply(call, 200, { items: (await store.listApiKeys(agent.id)).map(keyView) });
    if (call.method !== 'POST') methodNotAllowed(call, 'GET, POST');
    const body = call.req.headers['content-type'] === undefined ? {} : await jsonBody(call);
    if (body.api !== undefined && typeof body.api !== 'string') throw badRequest('api: expected an API name', [{ field: 'api', message: 'expected an API name' }]);
    if (typeof body.api === 'string') {
      // A key bound to an API names one of its agent's tenant (as a config file's key must).
      const api = ((await deployments.draft()).document.apis as unknown[] | undefined)?.find((a) => (a as { name?: unknown }).name === body.api);
      // For a tenant's admin a missing API and another tenant's read alike.
      const foreign = api !== undefined && !seesObject({ tenant: agent.tenant ?? DEFAULT_TENANT }, api);
      if (foreign || (api === undefined && call.tenant !== undefined)) throw badRequest(`api: no API "${body.api}" of this agent's tenant`, [{ field: 'api', message: `no API "${body.api}" of this agent's tenant` }]);
    }
    if (body.expiresAt !== undefined && (typeof body.expiresAt !== 'number' || body.expiresAt <= Date.now())) throw badRequest('expiresAt: expected a time in the future (milliseconds since the epoch)', [{ field: 'expiresAt', message: 'expected a time in the future (milliseconds since the epoch)' }]);
    const key = generateApiKey();
    const record: ApiKeyRecord = { id: `key_${randomBytes(9).toString('base64url')}`, agentId: agent.id, hash: digestKey(key), prefix: keyPrefix(key), api: body.api as string | undefined, createdAt: Date.now(), expiresAt: body.expiresAt as number | undefined, revokedAt: undefined, lastUsedAt: undefined };
    await store.createApiKey(record);
    call.changed('create key', `agents/${agent.id}/keys/${record.id}`, [{ op: 'add', path: pointer('agents', agent.id, 'keys', record.id), value: keyView(record) }]);
    // The only time the key is shown: the store keeps its digest.
    return reply(call, 201, { ...keyView(record), key });
  }
  if (call.method !== 'DELETE') methodNotAllowed(call, 'DELETE');
  const owned = (await store.listApiKeys(agent.id)).some((k) => k.id === rawKey);
  const revokedAt = Date.now();
  if (!owned || !(await store.revokeApiKey(rawKey, revokedAt))) throw notFound(`key "${rawKey}" of agent "${agent.id}"`);
  call.changed('revoke key', `agents/${agent.id}/keys/${rawKey}`, [{ op: 'replace', path: pointer('agents', agent.id, 'keys', rawKey, 'revokedAt'), value: revokedAt }]);
  return reply(call, 204, undefined);
}

/** A credential as listed: name, type and dates, never the secret. */
const credentialView = (c: CredentialSummary) => ({ name: c.name, type: c.type ?? null, keyId: c.keyId ?? null, updatedAt: c.updatedAt, problem: c.problem ?? null });
const credentialEtag = (c: CredentialSummary | undefined): string | undefined => c && `"${c.stamp}"`;

export async function credentialsResource(call: Call, vault: CredentialVault, deployments: Deployments): Promise<void> {
  const [, rawName, ...rest] = call.segments;
  if (rest.length > 0) throw notFound(`/api/v1/${call.segments.join('/')}`);
  // A tenant's credentials are named "<tenant>.<name>" (config/tenant-credentials.ts).
  const tenants = declaredTenants((await deployments.draft()).document);
  if (rawName === undefined) {
    if (call.method !== 'GET') methodNotAllowed(call, 'GET');
    return reply(call, 200, { items: (await vault.list()).filter((c) => seesCredential(call, c.name, tenants)).map((c) => ({ ...credentialView(c), etag: credentialEtag(c) })) });
  }
  const name = nameSegment(rawName, 'credential');
  if (!seesCredential(call, name, tenants)) {
    if (call.method === 'PUT') throw badRequest(`credential "${name}": a credential of tenant "${call.tenant}" is named "${call.tenant}.<name>"`, [{ field: 'name', message: `expected "${call.tenant}.<name>"` }]);
    throw notFound(`credential "${name}"`);
  }
  const what = `credential "${name}"`;
  const path = `/api/v1/credentials/${name}`;
  if (call.method === 'GET') {
    const summary = await vault.summary(name);
    if (!summary) throw notFound(what);
    return reply(call, 200, credentialView(summary), credentialEtag(summary));
  }
  // If-Match is optional here (PUT also creates, and scripts set credentials blindly): with it,
  // the credential must be the one read; with `If-None-Match: *`, it must not exist yet.
  const ifMatch = optionalIfMatch(call.req);
  if (call.method === 'PUT') {
    const parsed = parseSecretCredential(await jsonBody(call));
    if (!parsed.ok) throw badRequest('invalid credential', parsed.problems.map((p) => ({ field: p.split(':')[0]!, message: p.slice(p.indexOf(':') + 1).trim() })));
    // With a precondition, the credential is written only if it is still the one checked.
    const guarded = ifMatch !== undefined || call.req.headers['if-none-match'] !== undefined;
    const saved = await writes.run(`credentials/${name}`, () =>
      conditionalWrite(what, async () => {
        const before = await vault.summary(name);
        const current = credentialEtag(before);
        if (ifMatch !== undefined) checkIfMatch(ifMatch, current, what, path);
        checkIfNoneMatch(call.req, current, what, path);
        if (!guarded) await vault.set(name, parsed.credential);
        else if (!(await vault.setIf(name, parsed.credential, before?.stamp ?? null))) return RACED;
        return vault.summary(name);
      }),
    );
    // The value is write-only: the audit record says which credential and its type, never the secret.
    call.changed('set credential', `credentials/${name}`, [{ op: 'add', path: pointer('credentials', name), value: { type: parsed.credential.type } }]);
    // Write-only: the answer says what was stored, never the secret.
    return reply(call, 200, { name, type: parsed.credential.type, updatedAt: saved?.updatedAt ?? Date.now() }, credentialEtag(saved));
  }
  if (call.method === 'DELETE') {
    await writes.run(`credentials/${name}`, () =>
      conditionalWrite(what, async () => {
        if (ifMatch === undefined) {
          if (!(await vault.delete(name))) throw notFound(what);
          return undefined;
        }
        const before = await vault.summary(name);
        checkIfMatch(ifMatch, credentialEtag(before), what, path);
        // Deleted only if it is still the one checked (another node may have set it since).
        return (await vault.deleteIf(name, before!.stamp)) ? undefined : RACED;
      }),
    );
    call.changed('delete credential', `credentials/${name}`, [{ op: 'remove', path: pointer('credentials', name) }]);
    return reply(call, 204, undefined);
  }
  methodNotAllowed(call, 'GET, PUT, DELETE');
}
