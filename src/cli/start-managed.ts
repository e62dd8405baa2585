// gatehouse start --managed [--config node.yaml]: the node's own settings from the file (or the
// defaults), everything else from the store's newest deployed version; later deployments (the
// management API, `gatehouse apply`) go live without a restart.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { ConfigError } from '../config/errors.ts';
import { startManagedGateway } from '../control/managed.ts';
import type { Gateway } from '../gateway.ts';
import { runUntilSignalled } from './lifecycle.ts';
import { explainStartFailure } from './start-failure.ts';
import { loadNodeFile } from './managed-target.ts';

/** A config file that says `managed: true` runs in managed mode (the file then holds node settings only). */
export async function declaresManaged(file: string): Promise<boolean> {
  try {
    const value = parse(await readFile(file, 'utf8')) as unknown;
    return typeof value === 'object' && value !== null && (value as Record<string, unknown>).managed === true;
  } catch {
    return false; // the file-mode path reports what is wrong with it
  }
}

export async function runManaged(options: { config?: string; host?: string; port?: number }): Promise<number> {
  let node: Record<string, unknown>;
  let gateway: Gateway;
  try {
    node = options.config === undefined ? {} : await loadNodeFile(options.config);
    const listen = (node.listen ?? {}) as Record<string, unknown>;
    if (options.host !== undefined || options.port !== undefined) node = { ...node, listen: { ...listen, ...(options.host !== undefined ? { host: options.host } : {}), ...(options.port !== undefined ? { port: options.port } : {}) } };
    gateway = await startManagedGateway({ node, nodeFile: options.config });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(error.message + '\n');
      return 2;
    }
    const line = explainStartFailure(error, { command: 'gatehouse start --managed', portHint: 'choose another --port (or listen.port in the node settings)', adminPortHint: 'the admin listener takes the port after the MCP one: choose another --port, or set admin.port' });
    if (line === undefined) throw error;
    process.stderr.write(line + '\n');
    return 1;
  }
  const admin = gateway.admin;
  gateway.log.info({ managed: true, version: gateway.control?.served ?? null, managementApi: admin ? `${admin.url}api/v1/` : null }, 'managed mode: change the configuration through the management API or `gatehouse apply`');
  return runUntilSignalled(gateway, { onReload: async () => gateway.control?.poll() });
}
