// gatehouse agents … / gatehouse keys …: manage agents and their API keys in the store that the
// configuration file names (same resolution as `start`: store section, dataDir,
// GATEHOUSE_DATA_DIR). A new key is printed once, on stdout alone so that scripts can capture it;
// only its digest is stored. Lists never show keys, only their id and first characters.
// Exit codes: 0 done, 1 refused (unknown agent or key, duplicate id) or a malformed option, 2 a
// config file that does not load or an argument that names nothing in it.
import { randomBytes } from 'node:crypto';
import { Command, InvalidArgumentError } from 'commander';
import { AgentSchema } from '../config/auth-schema.ts';
import { parseDuration } from '../config/units.ts';
import type { ApiKeyRecord } from '../store/store.ts';
import { action as runAction, CliError, withStore } from './store-access.ts';
import { StoreConstraintError } from '../store/errors.ts';
import { digestKey, generateApiKey, keyPrefix } from '../auth/api-key.ts';
import { DEFAULT_TENANT } from '../config/tenant-schema.ts';
import { configKeys } from '../auth/agents-sync.ts';


function label(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected key=value');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** "30d", "12h" (from now) or an ISO date/time. */
/** Store refusals (duplicate id, unknown agent) are the user's to fix, not crashes. */
const action = <A extends unknown[]>(body: (...args: A) => Promise<void>) => runAction(body, (error) => error instanceof StoreConstraintError);

export function parseExpiry(value: string, now = Date.now()): number {
  const duration = parseDuration(value);
  if (duration !== undefined && duration > 0) return now + duration;
  const date = Date.parse(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(date)) {
    if (date <= now) throw new InvalidArgumentError('the expiry is in the past');
    return date;
  }
  throw new InvalidArgumentError('expected a duration such as 30d or 12h, or an ISO date such as 2027-01-31');
}

function iso(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

interface StoreOptions {
  config: string;
}

export function registerAgentCommands(program: Command): void {
  const agents = program.command('agents').description('manage agents (the callers of API keys) in the store');

  agents
    .command('create <id>')
    .description('create an agent')
    .requiredOption('-c, --config <file>', 'configuration file (locates the store)')
    .option('--name <name>', 'display name')
    .option('--label <key=value>', 'label for policies (repeatable)', label, {})
    .option('--tenant <tenant>', 'tenant the agent belongs to')
    .action(
      action(async (id: string, options: StoreOptions & { name?: string; label: Record<string, string>; tenant?: string }) => {
        const checked = AgentSchema.shape.id.safeParse(id);
        if (!checked.success) throw new CliError(`invalid agent id "${id}": ${checked.error.issues[0]?.message ?? 'invalid'}`, 2);
        await withStore(options.config, async (store, config) => {
          const tenant = options.tenant === DEFAULT_TENANT ? undefined : options.tenant;
          // Without a tenants section, a tenant is only a label (nothing is isolated).
          if (tenant !== undefined && config.tenants.length > 0 && !config.tenants.some((t) => t.id === tenant)) {
            throw new CliError(`no tenant "${tenant}"; expected one of the ids under \`tenants\` (${config.tenants.map((t) => t.id).join(', ') || 'none defined'})`, 2);
          }
          // The tenant's agents quota, as the management API and the config check enforce it.
          const quota = config.tenants.find((t) => t.id === (tenant ?? DEFAULT_TENANT))?.quotas?.agents;
          if (quota !== undefined) {
            const count = (await store.listAgents()).filter((a) => (a.tenant ?? DEFAULT_TENANT) === (tenant ?? DEFAULT_TENANT)).length;
            if (count >= quota) throw new CliError(`tenant "${tenant ?? DEFAULT_TENANT}" has ${count} agents, its quota (tenants[].quotas.agents: ${quota}); raise the quota to add more`);
          }
          await store.createAgent({ id, name: options.name, labels: options.label, tenant, createdAt: Date.now(), disabled: false });
        });
        process.stdout.write(`created agent ${id}\n`);
      }),
    );

  agents
    .command('list')
    .description('list agents')
    .requiredOption('-c, --config <file>', 'configuration file (locates the store)')
    .option('--json', 'print JSON')
    .action(
      action(async (options: StoreOptions & { json?: boolean }) => {
        const list = await withStore(options.config, (store) => store.listAgents());
        if (options.json) {
          process.stdout.write(JSON.stringify(list, null, 2) + '\n');
          return;
        }
        const rows = [['ID', 'NAME', 'TENANT', 'LABELS', 'STATUS', 'CREATED']];
        for (const a of list) {
          const labels = Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(',');
          rows.push([a.id, a.name ?? '-', a.tenant ?? '-', labels || '-', a.disabled ? 'disabled' : 'active', iso(a.createdAt)]);
        }
        process.stdout.write(list.length === 0 ? 'no agents\n' : table(rows));
      }),
    );

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    agents
      .command(`${verb} <id>`)
      .description(disabled ? 'disable an agent: its keys are refused from the next request' : 'enable a disabled agent')
      .requiredOption('-c, --config <file>', 'configuration file (locates the store)')
      .action(
        action(async (id: string, options: StoreOptions) => {
          const found = await withStore(options.config, (store) => store.setAgentDisabled(id, disabled));
          if (!found) throw new CliError(`no agent "${id}"`);
          process.stdout.write(`${verb}d agent ${id}\n`);
        }),
      );
  }

  const keys = program.command('keys').description('manage API keys (shown once, stored as SHA-256 digests)');

  keys
    .command('create')
    .description('create an API key for an agent and print it once')
    .requiredOption('-c, --config <file>', 'configuration file (locates the store)')
    .requiredOption('--agent <id>', 'agent the key belongs to')
    .option('--expires <when>', 'expiry: a duration from now (30d, 12h) or an ISO date', (v) => parseExpiry(v))
    .option('--api <name>', 'limit the key to one API (by name)')
    .action(
      action(async (options: StoreOptions & { agent: string; expires?: number; api?: string }) => {
        const key = generateApiKey();
        const record: ApiKeyRecord = {
          id: `key_${randomBytes(9).toString('base64url')}`,
          agentId: options.agent,
          hash: digestKey(key),
          prefix: keyPrefix(key),
          api: options.api,
          createdAt: Date.now(),
          expiresAt: options.expires,
          revokedAt: undefined,
          lastUsedAt: undefined,
        };
        await withStore(options.config, async (store, config) => {
          if (options.api !== undefined && !config.apis.some((a) => a.name === options.api)) {
            throw new CliError(`no API named "${options.api}" in ${options.config}; expected one of ${config.apis.map((a) => a.name).join(', ')}`, 2);
          }
          const agent = await store.getAgent(options.agent);
          if (!agent) throw new CliError(`no agent "${options.agent}" (create it with \`gatehouse agents create\`; agents declared in the config are added when Gatehouse starts)`);
          await store.createApiKey(record);
        });
        process.stdout.write(`${key}\n`);
        process.stderr.write(
          `created key ${record.id} for agent ${options.agent} (api: ${options.api ?? 'all'}, expires: ${options.expires === undefined ? 'never' : iso(options.expires)}); ` +
            'store it now, it is not shown again\n',
        );
      }),
    );

  keys
    .command('list')
    .description('list API keys (never the keys themselves)')
    .requiredOption('-c, --config <file>', 'configuration file (locates the store)')
    .option('--agent <id>', 'only this agent\'s keys')
    .option('--json', 'print JSON')
    .action(
      action(async (options: StoreOptions & { agent?: string; json?: boolean }) => {
        const list = await withStore(options.config, async (store, config) => {
          // The config file is authoritative for the api and expiry of the keys it declares.
          const declared = configKeys(config.agents);
          return (await store.listApiKeys(options.agent)).map((k) => {
            const fromConfig = declared.get(k.id);
            return fromConfig ? { ...k, api: fromConfig.api, expiresAt: fromConfig.expiresAt } : k;
          });
        });
        if (options.json) {
          process.stdout.write(JSON.stringify(list.map(({ hash: _hash, ...shown }) => shown), null, 2) + '\n');
          return;
        }
        const rows = [['ID', 'AGENT', 'PREFIX', 'API', 'EXPIRES', 'REVOKED', 'LAST USED']];
        for (const k of list) rows.push([k.id, k.agentId, k.prefix, k.api ?? '(all)', iso(k.expiresAt), iso(k.revokedAt), iso(k.lastUsedAt)]);
        process.stdout.write(list.length === 0 ? 'no keys\n' : table(rows));
      }),
    );

  keys
    .command('revoke <key-id>')
    .description('revoke a key: refused from the next request')
    .requiredOption('-c, --config <file>', 'configuration file (locates the store)')
    .action(
      action(async (id: string, options: StoreOptions) => {
        const found = await withStore(options.config, (store) => store.revokeApiKey(id, Date.now()));
        if (!found) throw new CliError(`no key "${id}" (see \`gatehouse keys list\`)`);
        process.stdout.write(`revoked key ${id}\n`);
      }),
    );
}
