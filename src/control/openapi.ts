// The management API's OpenAPI 3.1 document, generated from the same zod schemas as the config
// file (servers, APIs, policies, agents, credentials), so the API and the file cannot disagree.
// Served at /api/v1/openapi.json and published as schema/openapi.json (npm run schema writes it,
// scripts/check-schema.mjs fails when it drifts).
import { z } from 'zod';
import { Api, Policy, Server } from '../config/schema.ts';
import { AgentSchema, UpstreamCredentialSchema } from '../config/auth-schema.ts';
import { ManagedConfig, NODE_FIELDS } from './document.ts';
import { TenantSchema } from '../config/tenant-schema.ts';

const Problem = z.object({ field: z.string().meta({ description: 'Where: a path such as apis[0].policies[0].acl.rules[1].tools' }), message: z.string() });
const ErrorBody = z
  .object({
    error: z.string(),
    problems: z.array(Problem).optional(),
    object: z.string().optional().meta({ description: '412: the path of the object whose ETag did not match' }),
    etag: z.string().nullable().optional().meta({ description: '412: the object\'s current ETag (null: it no longer exists); also the ETag header' }),
  })
  .meta({ description: 'A refusal; config problems are worded as `gatehouse check` words them.' });
const Version = z.object({ version: z.number().int(), createdAt: z.number(), createdBy: z.string(), comment: z.string().nullable(), rolledBackFrom: z.number().int().nullable() });
const Diff = z.object({ from: z.string(), to: z.string(), patch: z.array(z.record(z.string(), z.unknown())).meta({ description: 'RFC 6902 JSON Patch from `from` to `to`.' }), text: z.string().meta({ description: 'Unified diff of the two documents as YAML.' }) });
const Change = z.object({ seq: z.number(), at: z.number(), actor: z.string(), action: z.string(), target: z.string(), patch: z.array(z.record(z.string(), z.unknown())), version: z.number().optional() });
const ServerObject = z.intersection(z.object({ name: z.string() }), Server).meta({ description: 'A server: its name and its definition as under `servers:` in a config file.' });
const Document = ManagedConfig.omit(Object.fromEntries(NODE_FIELDS.filter((f) => f !== 'managed').map((f) => [f, true])) as Record<Exclude<(typeof NODE_FIELDS)[number], 'managed'>, true>).meta({ description: 'The managed configuration: a config file without the per-node fields.' });
const AgentInput = AgentSchema.pick({ id: true, name: true, labels: true, tenant: true });
const UserInput = z.object({
  username: z.string(),
  password: z.string(),
  tenant: z.string().nullable().optional().meta({ description: 'The user\'s tenant (a platform identity\'s choice; null or absent: the default tenant). A tenant\'s identity creates users of its own tenant: naming another is 400. A user gets tokens for its own tenant\'s APIs only.' }),
});
const AdminRoleEnum = z.enum(['owner', 'admin', 'viewer']).meta({ description: 'owner: everything; admin: everything but API tokens and admin users; viewer: reads only.' });
const AdminUserInput = z.object({
  username: z.string().meta({ description: 'A user of the embedded authorization server (400 when there is none; for a tenant\'s identity, a user of its tenant).' }),
  role: AdminRoleEnum,
  tenant: z.string().nullable().optional().meta({ description: 'The one tenant this admin sees and changes; null or absent: the whole platform. A tenant\'s identity grants its own tenant only (naming another is 400), and absent means its own.' }),
});
const AdminUserChange = z.object({
  role: AdminRoleEnum.optional(),
  tenant: z.string().nullable().optional().meta({ description: 'A platform identity moves the entry to a tenant, or to the whole platform (null).' }),
});
const AdminUser = z.object({
  username: z.string(),
  role: AdminRoleEnum,
  tenant: z.string().nullable(),
  source: z.enum(['store', 'node']).meta({ description: 'store: managed through this API; node: the node file\'s admin.users (read-only here: PUT and DELETE are 409).' }),
  user: z.enum(['active', 'disabled', 'missing']).meta({ description: 'The user behind the entry at the authorization server: active (signs in with this role), disabled, or missing (deleted, or deleted and made again: a stored entry names the user it was made for). Only an active user signs in.' }),
  createdAt: z.number().nullable(),
  createdBy: z.string().nullable(),
  updatedAt: z.number().nullable(),
  updatedBy: z.string().nullable(),
});
const PasswordInput = z.object({ password: z.string().meta({ description: 'The new password (8 to 1024 characters). Never shown or recorded.' }) });
const CelInput = z.object({ expression: z.string().meta({ description: 'A CEL condition as in an ACL rule\'s `condition`.' }) });
const CelCheck = z.object({ valid: z.boolean(), error: z.string().optional().meta({ description: 'Why it is refused, in the words of `gatehouse check`.' }), column: z.number().int().optional().meta({ description: '1-based column of the problem, when known.' }) });
const SimulateInput = z.object({
  agent: z
    .union([
      z.string().meta({ description: 'The id of an agent in the store (or the document\'s agents): its name, labels and tenant are read from there; 404 when there is none (or it is another tenant\'s).' }),
      z.object({ id: z.string(), name: z.string().optional(), labels: z.record(z.string(), z.string()).optional() }).meta({ description: 'An agent described here, not looked up (e.g. one a JWT plan names).' }),
    ])
    .meta({ description: 'The agent to simulate.' }),
  user: z
    .union([
      z.string().meta({ description: 'A user of the embedded authorization server, by id or username (platform identities only); 404 when there is none.' }),
      z.object({ id: z.string(), name: z.string().optional() }).meta({ description: 'A user described here, not looked up.' }),
    ])
    .optional()
    .meta({ description: 'The person behind the agent (user.id, user.name in conditions); their token claims `sub` and `preferred_username` follow from it.' }),
  claims: z.record(z.string(), z.unknown()).optional().meta({ description: 'Token claims for `claims.…` conditions, e.g. {"groups": ["ops"]}; over the ones the user implies.' }),
  tool: z.string().optional().meta({ description: 'A tool of the API, named as its agents see it, whose tools/call is decided with `arguments`; 404 when no server lists it.' }),
  arguments: z.record(z.string(), z.unknown()).optional().meta({ description: 'The arguments of that tool call (a JSON object; requires `tool`): read by `mcp.arguments` conditions and checked by a rule\'s argument checks.' }),
  source: z.enum(['draft', 'deployed']).default('draft'),
});
const Verdict = z.object({ method: z.string(), allowed: z.boolean(), rule: z.string().nullable().meta({ description: 'The rule that decided; null when none matched.' }), reason: z.string().optional() });
const Simulation = z.object({
  api: z.string(),
  source: z.enum(['draft', 'deployed']),
  version: z.number().int().nullable(),
  agent: z.object({ id: z.string(), known: z.boolean().meta({ description: 'Read from the store (false: described in the request).' }), name: z.string().nullable(), labels: z.record(z.string(), z.string()) }),
  user: z.object({ id: z.string(), name: z.string().nullable(), known: z.boolean().meta({ description: 'A user of the embedded authorization server (false: described in the request).' }) }).nullable(),
  claims: z.record(z.string(), z.unknown()).meta({ description: 'The token claims the conditions saw.' }),
  call: z.object({ tool: z.string(), arguments: z.record(z.string(), z.unknown()), verdict: Verdict }).nullable().meta({ description: 'The tool call decided with its arguments (also the tool\'s tools/call verdict in `items`); null without `tool`.' }),
  acls: z.number().int().meta({ description: 'ACL policies in the chain (0: everything is allowed).' }),
  servers: z.array(z.object({ server: z.string(), error: z.string().nullable() })),
  items: z.array(z.object({ kind: z.enum(['tool', 'prompt', 'resource', 'resourceTemplate']), name: z.string().meta({ description: 'As the agent sees it.' }), server: z.string(), original: z.string(), methods: z.array(Verdict) })),
  notes: z.array(z.string()),
});
const Info = z.object({ mode: z.literal('managed'), mcpBase: z.string().nullable().meta({ description: 'Base URL of the MCP listener: an API is at mcpBase + its path.' }), deployedVersion: z.number().int().nullable() });

const ToolApproval = z.object({ hash: z.string().meta({ description: 'SHA-256 (hex) of the definition being approved, as …/diff showed it: refused with 409 if the tool\'s definition changed since.' }) });
const schemas = { Tenant: TenantSchema, ToolApproval, Error: ErrorBody, Server: ServerObject, Api, Policy, Document, Version, Diff, Change, AgentInput, UserInput, PasswordInput, AdminUserInput, AdminUserChange, AdminUser, Credential: UpstreamCredentialSchema, CelInput, CelCheck, Info, SimulateInput, Simulation } as const;

type Op = { summary: string; body?: keyof typeof schemas | 'JsonPatch'; ok: number; returns?: keyof typeof schemas; ifMatch?: 'required' | 'optional'; ifNoneMatch?: true };

const PATHS: Record<string, Record<string, Op>> = {
  '/draft': {
    get: { summary: 'The draft: the document changes accumulate in, with its revision (ETag "draft-<revision>")', ok: 200 },
    put: { summary: 'Replace the whole draft', body: 'Document', ok: 200, ifMatch: 'required' },
    patch: { summary: 'Change the draft with an RFC 6902 JSON Patch', body: 'JsonPatch', ok: 200, ifMatch: 'required' },
  },
  '/draft/diff': { get: { summary: 'What deploying the draft would change, against the version in force, with the ETag a deploy\'s If-Match names: the draft\'s for a platform identity; for a tenant\'s, one of its pending changes only ("pending-…"), which other tenants\' edits leave unchanged', ok: 200, returns: 'Diff' } },
  '/servers': { get: { summary: 'Servers of the draft', ok: 200 }, post: { summary: 'Add a server', body: 'Server', ok: 201, returns: 'Server' } },
  '/servers/{name}': {
    get: { summary: 'One server (ETag)', ok: 200, returns: 'Server' },
    put: { summary: 'Change a server', body: 'Server', ok: 200, returns: 'Server', ifMatch: 'required' },
    delete: { summary: 'Remove a server', ok: 204, ifMatch: 'required' },
  },
  '/servers/{name}/tools': { get: { summary: 'Tools of the server as the pinning policy recorded them (store): status approved, changed or unapproved, hashes, first and last seen', ok: 200 } },
  '/servers/{name}/tools/{tool}': { get: { summary: 'One recorded tool with its definition last seen and its approved definition', ok: 200 } },
  '/servers/{name}/tools/{tool}/diff': { get: { summary: 'Unified diff of the approved definition against the one last seen, and the hash to approve', ok: 200 } },
  '/servers/{name}/tools/{tool}/approve': { post: { summary: 'Approve the definition last seen, if its hash is the one given (409 when it changed again); this node applies it at once, the others within 2 s', body: 'ToolApproval', ok: 200 } },
  '/apis': { get: { summary: 'APIs of the draft (single, federated, virtual)', ok: 200 }, post: { summary: 'Add an API', body: 'Api', ok: 201, returns: 'Api' } },
  '/apis/{name}': {
    get: { summary: 'One API (ETag)', ok: 200, returns: 'Api' },
    put: { summary: 'Change an API', body: 'Api', ok: 200, returns: 'Api', ifMatch: 'required' },
    delete: { summary: 'Remove an API', ok: 204, ifMatch: 'required' },
  },
  '/apis/{name}/simulate': {
    post: { summary: 'What would this agent see? Lists the API\'s servers (connecting to them) and decides every method of every tool, prompt and resource with the draft\'s (or the deployed) policies, naming the deciding rule; changes nothing', body: 'SimulateInput', ok: 200, returns: 'Simulation' },
  },
  '/apis/{name}/policies': { get: { summary: 'The API\'s policy chain', ok: 200 }, post: { summary: 'Add a policy (at the end, or at ?at=<position>)', body: 'Policy', ok: 201 } },
  '/apis/{name}/policies/{index}': {
    get: { summary: 'One policy (ETag)', ok: 200 },
    put: { summary: 'Change a policy', body: 'Policy', ok: 200, ifMatch: 'required' },
    delete: { summary: 'Remove a policy', ok: 204, ifMatch: 'required' },
  },
  '/tenants': { get: { summary: 'Tenants (a tenant\'s identity sees its own only)', ok: 200 }, post: { summary: 'Create a tenant in the draft (platform admins only)', body: 'Tenant', ok: 201 } },
  '/tenants/{id}': {
    get: { summary: 'One tenant (ETag)', ok: 200, returns: 'Tenant' },
    put: { summary: 'Change a tenant (platform admins only)', body: 'Tenant', ok: 200, ifMatch: 'required' },
    delete: { summary: 'Remove a tenant that nothing names any more (platform admins only)', ok: 204, ifMatch: 'required' },
  },
  '/deployments': { get: { summary: 'Deployed versions, newest first', ok: 200 }, post: { summary: 'Deploy the draft as the next version (If-Match, optional: the ETag of GET /draft/diff; 412 when what it named changed: for the platform the draft, for a tenant its own pending changes)', ok: 201, returns: 'Version', ifMatch: 'optional' } },
  '/deployments/{version}': { get: { summary: 'One version with its document', ok: 200 } },
  '/deployments/{version}/diff': { get: { summary: 'Readable diff and JSON Patch against ?against=<version>|draft (default: the version before)', ok: 200, returns: 'Diff' } },
  '/deployments/{version}/rollback': { post: { summary: 'Deploy this version\'s document again as a new version; the draft becomes it', ok: 201, returns: 'Version', ifMatch: 'required' } },
  '/changes': { get: { summary: 'History of changes: who, when, what (JSON Patch), newest first', ok: 200 } },
  '/agents': { get: { summary: 'Agents (in the store: changes apply at once)', ok: 200 }, post: { summary: 'Create an agent', body: 'AgentInput', ok: 201 } },
  '/agents/{id}': { get: { summary: 'One agent (ETag)', ok: 200 }, put: { summary: 'Change name, labels, disabled', ok: 200, ifMatch: 'required' } },
  '/agents/{id}/keys': { get: { summary: 'The agent\'s keys (never the keys themselves)', ok: 200 }, post: { summary: 'Create a key: the answer is the only time it is shown', ok: 201 } },
  '/agents/{id}/keys/{keyId}': { delete: { summary: 'Revoke a key', ok: 204 } },
  '/tokens': { get: { summary: 'API tokens of the admin listener (owners only; never the tokens themselves)', ok: 200 }, post: { summary: 'Create an API token with a role (owner, admin, viewer), an optional expiresAt and an optional tenant (it then sees and changes that tenant\'s objects only): the answer is the only time it is shown', ok: 201 } },
  '/tokens/{id}': { delete: { summary: 'Revoke an API token (at once, on every node)', ok: 204 } },
  '/admins': {
    get: { summary: 'Admin users (owners only): users of the embedded authorization server who may sign in to the admin listener, with their role and tenant; those of the node file\'s admin.users too (`source: "node"`, read-only). A tenant\'s owner sees its tenant\'s', ok: 200 },
    post: { summary: 'Make a user of the authorization server an admin user (in the store: applies at the user\'s next request, on every node); 409 when it has an entry already, or is listed in the node file', body: 'AdminUserInput', ok: 201, returns: 'AdminUser' },
  },
  '/admins/{username}': {
    get: { summary: 'One admin user (ETag); another tenant\'s is 404', ok: 200, returns: 'AdminUser' },
    put: { summary: 'Change an admin user\'s role (and, for a platform identity, tenant): applies at the user\'s next request; 409 for an entry of the node file', body: 'AdminUserChange', ok: 200, returns: 'AdminUser', ifMatch: 'required' },
    delete: { summary: 'Remove an admin user (If-Match optional): the user\'s next request to the admin listener is refused (401); 409 for an entry of the node file', ok: 204, ifMatch: 'optional' },
  },
  '/users': { get: { summary: 'Users of the embedded authorization server, with their tenant (a tenant\'s identity sees its own tenant\'s)', ok: 200 }, post: { summary: 'Create a user (of the tenant of a tenant\'s identity; a platform identity may name one)', body: 'UserInput', ok: 201 } },
  '/users/{username}': {
    get: { summary: 'One user (ETag); another tenant\'s user is 404', ok: 200 },
    put: { summary: 'Enable or disable (`disabled`), turn two-factor sign-in off (`totp: false`; only the user turns it on), or move to another tenant (`tenant`, platform identities only); disabling or moving also ends the user\'s upstream connections, and a moved user\'s grants for its former tenant\'s APIs are refused. The answer shows `totp` (true when the user signs in with a code), never a secret', ok: 200, ifMatch: 'required' },
    delete: { summary: 'Delete a user (If-Match optional): its upstream connections end, its grants are refused', ok: 204, ifMatch: 'optional' },
  },
  '/users/{username}/password': {
    post: { summary: 'Set (reset) a user\'s password: {"password": string}, at least 8 characters; the user\'s grants and refresh tokens from before it are refused. Another tenant\'s user is 404', body: 'PasswordInput', ok: 204 },
  },
  '/users/{username}/grants': {
    get: { summary: 'The applications (OAuth clients) the user authorized at the embedded authorization server, live ones only: id (the access tokens\' grant_id), clientId, clientName, api, resource, scopes, createdAt, lastUsedAt, expiresAt (when it can no longer produce tokens), idp; never a token. Another tenant\'s user is 404', ok: 200 },
    delete: { summary: 'End all the user\'s grants ({"revoked": n}): their refresh tokens and access tokens stop working (at once on this node, within a second on the others); a grant-revoked security event each', ok: 200 },
  },
  '/users/{username}/grants/{id}': {
    delete: { summary: 'End one grant of the user (404 when it has no such live grant): its refresh token and access tokens stop working (at once on this node, within a second on the others); recorded as a grant-revoked security event naming who did it', ok: 204 },
  },
  '/connections': { get: { summary: 'Users\' connections to per-user upstream servers (auth: oauth-user), ?user=<id> for one user\'s; never a token', ok: 200 } },
  '/connections/{user}/{server}': { delete: { summary: 'Revoke a user\'s connection: the sealed tokens are deleted and revoked upstream (RFC 7009) where supported', ok: 200 } },
  '/credentials': { get: { summary: 'Stored upstream credentials: names, types and ETags, never secrets', ok: 200 } },
  '/info': { get: { summary: 'Where clients connect (the MCP listener\'s base URL) and the deployed version', ok: 200, returns: 'Info' } },
  '/validate/cel': { post: { summary: 'Compile a CEL condition with the policy\'s own compiler: valid, or the error and its column (changes nothing; viewers may call it)', body: 'CelInput', ok: 200, returns: 'CelCheck' } },
  '/credentials/{name}': {
    get: { summary: 'One stored credential: name, type and dates, never the secret (ETag: changes whenever it is set again)', ok: 200 },
    put: { summary: 'Set a server\'s credential (write-only); If-Match (optional) replaces only the one read, If-None-Match: * only creates', body: 'Credential', ok: 200, ifMatch: 'optional', ifNoneMatch: true },
    delete: { summary: 'Delete a credential (If-Match optional)', ok: 204, ifMatch: 'optional' },
  },
};

export function openApiDocument(version: string): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema as z.ZodType, { id });
  const generated = z.toJSONSchema(registry, { io: 'input', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` }) as { schemas: Record<string, Record<string, unknown>> };
  const components: Record<string, unknown> = {};
  for (const [id, schema] of Object.entries(generated.schemas)) {
    const { $schema: _s, $id: _i, ...rest } = schema;
    // Schemas used by several (durations, sizes) come out in a "__shared" bag: make them components.
    if (id === '__shared') Object.assign(components, (rest.$defs ?? {}) as Record<string, unknown>);
    else components[id] = rest;
  }
  const fixRefs = (value: unknown): unknown => JSON.parse(JSON.stringify(value).replaceAll('#/components/schemas/__shared#/$defs/', '#/components/schemas/'));
  components.JsonPatch = { type: 'array', items: { type: 'object', required: ['op', 'path'], properties: { op: { enum: ['add', 'remove', 'replace', 'move', 'copy', 'test'] }, path: { type: 'string' }, from: { type: 'string' }, value: {} } } };
  const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
  const errors = Object.fromEntries(
    [
      ['400', 'Invalid input; `problems` names each field'],
      ['401', 'Admin authentication required'],
      ['404', 'Not found'],
      ['409', 'Already exists, nothing to deploy, or read-only (an admin user of the node file)'],
      ['412', 'If-Match does not match the current ETag (or If-None-Match: * and it exists); the body names the object and its current ETag'],
      ['428', 'If-Match is required'],
      ['503', 'The draft, or the object, kept changing on other nodes; retry (Retry-After)'],
    ].map(([code, description]) => [code, { description, content: { 'application/json': { schema: ref('Error') } } }]),
  );
  const paths: Record<string, unknown> = {};
  for (const [path, ops] of Object.entries(PATHS)) {
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    paths[`/api/v1${path}`] = Object.fromEntries(
      Object.entries(ops).map(([method, op]) => [
        method,
        {
          summary: op.summary,
          parameters: [
            ...params,
            ...(op.ifMatch ? [{ name: 'If-Match', in: 'header', required: op.ifMatch === 'required', schema: { type: 'string' }, description: 'The ETag you read' }] : []),
            ...(op.ifNoneMatch ? [{ name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' }, description: '`*`: create only (412 if it exists)' }] : []),
          ],
          ...(op.body ? { requestBody: { required: true, content: { [op.body === 'JsonPatch' ? 'application/json-patch+json' : 'application/json']: { schema: ref(op.body) } } } } : {}),
          responses: { [String(op.ok)]: { description: 'Done', ...(op.returns ? { content: { 'application/json': { schema: ref(op.returns) } } } : {}) }, ...errors },
        },
      ]),
    );
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Gatehouse management API', version, description: 'Servers, APIs and policies change in a draft and go live with a deployment; agents, keys, users and credentials live in the store and apply at once. Authenticate with the admin token or an API token (Authorization: Bearer); a viewer token reads, an admin token changes all but API tokens and admin users. A token or admin user with a tenant sees and changes only that tenant\'s servers, APIs, agents, keys and credentials: another tenant\'s object is answered 404, as a missing one. Every change of a server, API, policy, tenant, agent or user sends If-Match with the ETag of that object (the draft\'s is for the whole draft, deploys and rollbacks); credentials take it optionally.' },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: { schemas: fixRefs(components), securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } } },
    security: [{ adminToken: [] }],
    paths,
  };
}
