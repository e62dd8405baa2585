// gatehouse acl explain: what the ACL decides for one agent, method and item, and which rule
// decided it, without running the gateway.
import type { Command } from 'commander';
import { loadConfigFile } from '../config/load.ts';
import { ConfigError } from '../config/errors.ts';
import { dataPaths } from '../data-paths.ts';
import { openStore } from '../store/open.ts';
import { CompiledAcl } from '../policy/acl/rules.ts';
import { checkUri, checkUriTemplate } from '../policy/acl/uri.ts';
import { conditionContext } from '../policy/acl/acl-policy.ts';
import type { PolicyContext } from '../policy/policy.ts';
import type { Principal } from '../auth/principal.ts';
import { createLogger } from '../log.ts';
import { compileFederationPlan, type FederationPlan } from '../upstream/federation/plan.ts';
import { staticTarget } from '../upstream/federation/naming.ts';
import { staticResourceTarget } from '../upstream/federation/targets.ts';

interface ExplainOptions {
  config: string;
  agent: string;
  method: string;
  name?: string;
  args?: string;
  claims?: string;
  api?: string;
}

const NAME_FIELD: Record<string, 'name' | 'uri'> = {
  'tools/list': 'name',
  'tools/call': 'name',
  'prompts/list': 'name',
  'prompts/get': 'name',
  'resources/list': 'uri',
  'resources/read': 'uri',
  'resources/subscribe': 'uri',
  'resources/templates/list': 'uri',
};

export function registerAclCommands(program: Command): void {
  const acl = program.command('acl').description('inspect ACL policies');
  acl
    .command('explain')
    .description('print the ACL decision for an agent, a method and a tool/prompt name or resource URI, and the rule that made it')
    .requiredOption('-c, --config <file>', 'configuration file')
    .requiredOption('--agent <id>', 'agent id (its name, labels and tenant are read from the store when it exists there)')
    .requiredOption('--method <method>', 'e.g. tools/call, tools/list, resources/read, prompts/get')
    .option('--name <name>', 'tool or prompt name, or resource URI')
    .option('--args <json>', 'tool arguments as a JSON object')
    .option('--claims <json>', 'token claims as a JSON object (for conditions on claims)')
    .option('--api <name>', 'only this API')
    .action(async (options: ExplainOptions) => {
      process.exitCode = await explain(options);
    });
}

async function explain(options: ExplainOptions): Promise<number> {
  let config;
  try {
    config = await loadConfigFile(options.config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(error.message + '\n');
      return 2;
    }
    throw error;
  }
  const args = parseObject(options.args, '--args');
  const claims = parseObject(options.claims, '--claims');
  if (args === null || claims === null) return 2;
  const field = NAME_FIELD[options.method];
  if (!field) {
    process.stderr.write(`--method: expected one of ${Object.keys(NAME_FIELD).join(', ')}\n`);
    return 2;
  }
  const principal = await principalFor(options.agent, config, options.config, claims);
  const apis = config.apis.filter((api) => options.api === undefined || api.name === options.api);
  if (apis.length === 0) {
    process.stderr.write(`--api: no API named "${options.api}"\n`);
    return 2;
  }
  if (field === 'uri') {
    // The gateway refuses a resource URI not in canonical form before any rule is consulted.
    const uri = options.name ?? '';
    const check = options.method === 'resources/templates/list' ? checkUriTemplate(uri) : checkUri(uri);
    if (!check.ok && apis.some((api) => api.policies.some((p) => 'acl' in p))) {
      const fix = check.canonical === undefined ? '' : `; send "${check.canonical}"`;
      process.stdout.write(`refused (invalid params, -32602, GH_URI_NOT_CANONICAL): resource URI ${JSON.stringify(uri)} ${check.reason}${fix}\n`);
      return 1;
    }
  }
  let anyAllowed = false;
  for (const api of apis) {
    const acls = api.policies.flatMap((p) => ('acl' in p ? [p.acl] : []));
    if (acls.length === 0) {
      process.stdout.write(`${api.name}: no ACL on this API: allowed\n`);
      anyAllowed = true;
      continue;
    }
    for (const [index, aclConfig] of acls.entries()) {
      const compiled = new CompiledAcl(aclConfig);
      const plan = api.server === undefined ? compileFederationPlan(api) : undefined;
      const ctx = explainContext(api.name, api.server ?? '', principal, plan);
      const name = options.name ?? '';
      if (plan && index === 0) process.stdout.write(`${api.name}: ${field === 'name' ? federatedName(plan, options.method.startsWith('prompts/') ? 'prompts' : 'tools', name) : federatedUri(plan, name)}\n`);
      const mcp = field === 'name' ? { name, arguments: args ?? {} } : { uri: name };
      const decision = compiled.decide(options.method, name, conditionContext(ctx, options.method, mcp), options.method === 'tools/call' ? (args ?? {}) : undefined);
      const label = acls.length > 1 ? `${api.name} acl #${index + 1}` : api.name;
      if (decision.allowed) {
        anyAllowed = true;
        process.stdout.write(`${label}: allowed by ${decision.rule}\n`);
      } else if (decision.invalidArguments) {
        process.stdout.write(`${label}: refused (invalid params, -32602) by ${decision.rule}: ${decision.invalidArguments}\n`);
      } else if (decision.rule) {
        process.stdout.write(`${label}: denied by ${decision.rule}\n`);
      } else {
        process.stdout.write(`${label}: denied: no rule allows ${options.method} of ${JSON.stringify(name)} for agent ${principal.id}\n`);
      }
    }
  }
  return anyAllowed ? 0 : 1;
}

async function principalFor(id: string, config: Awaited<ReturnType<typeof loadConfigFile>>, file: string, claims: Record<string, unknown> | undefined): Promise<Principal> {
  const declared = config.agents.find((a) => a.id === id);
  let record: { name?: string | undefined; labels: Record<string, string>; tenant?: string | undefined } | undefined = declared;
  if (!record) {
    try {
      const store = await openStore(dataPaths(config, file, process.env).store);
      try {
        record = await store.getAgent(id);
      } finally {
        await store.close();
      }
    } catch {
      record = undefined; // no store to read: explain with the id alone
    }
  }
  const principal: Principal = { kind: 'agent', id, key: `agent:${id}`, plan: 'explain', labels: record?.labels ?? {} };
  if (record?.name !== undefined) principal.name = record.name;
  if (record?.tenant !== undefined) principal.tenant = record.tenant;
  if (claims) principal.claims = claims;
  return principal;
}

/** What a federated API's name stands for, as far as the config says. */
function federatedName(plan: FederationPlan, kind: 'tools' | 'prompts', name: string): string {
  const target = staticTarget(plan, kind, name);
  if (target) return `"${name}" is ${kind === 'tools' ? 'tool' : 'prompt'} "${target.original}" of server "${target.server}" (mcp.server, mcp.originalName)`;
  if (plan.virtual || plan.namespace.prefix === 'always') return `"${name}" names no ${kind === 'tools' ? 'tool' : 'prompt'} of this API (answered as an unknown one)`;
  return `"${name}" is placed at run time from the servers' lists (namespace.prefix: ${plan.namespace.prefix}); conditions on mcp.server and mcp.originalName see "" here`;
}

/** The server of a federated API's resource URI, as far as the config says. */
function federatedUri(plan: FederationPlan, uri: string): string {
  const target = staticResourceTarget(plan, uri);
  if (target) return `${JSON.stringify(uri)} is a resource of server "${target.server}" (mcp.server)`;
  if (plan.virtual) return `${JSON.stringify(uri)} fits none of this virtual server's resources (answered as an unknown one)`;
  return `${JSON.stringify(uri)} belongs to the server that lists it or whose template it fits, known at run time; conditions on mcp.server see "" here`;
}

function explainContext(api: string, server: string, principal: Principal, plan?: FederationPlan): PolicyContext {
  return {
    api,
    server,
    targetOf: plan ? (kind, name) => (kind === 'resources' ? staticResourceTarget(plan, name) : staticTarget(plan, kind, name)) : undefined,
    principal,
    protocolVersion: '2025-11-25',
    sessionId: undefined,
    request: { headers: {}, remoteAddress: undefined },
    log: createLogger('silent'),
    trace: [],
  };
}

function parseObject(text: string | undefined, flag: string): Record<string, unknown> | undefined | null {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  process.stderr.write(`${flag}: expected a JSON object\n`);
  return null;
}
