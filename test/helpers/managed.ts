// A managed-mode Gatehouse in this process (store in a temp data directory, admin listener on a
// free port with a known token) and a small client of its management API.
import { pino } from 'pino';
import { LogCapture, randomKeyHex, tempDir } from './gatehouse.ts';
import { startManagedGateway } from '../../src/control/managed.ts';
import type { Gateway } from '../../src/gateway.ts';

export const ADMIN_TOKEN = 'management-test-admin-token-0123456789';

export interface ManagedGatehouse {
  gateway: Gateway;
  logs: LogCapture;
  dataDir: string;
  admin: string;
  /** One management API call: JSON in, JSON out. */
  /** A management API call, with the admin token unless `token` names another (a tenant admin's, a viewer's). */
  call(method: string, path: string, options?: { body?: unknown; ifMatch?: string; contentType?: string; token?: string }): Promise<{ status: number; etag: string | null; body: Record<string, unknown> }>;
  mcpUrl(path: string): string;
  close(): Promise<void>;
}

export async function startManaged(options: { dataDir?: string; node?: Record<string, unknown>; key?: string; pollMs?: number } = {}): Promise<ManagedGatehouse> {
  const dataDir = options.dataDir ?? tempDir('gatehouse-managed-');
  const logs = new LogCapture();
  const gateway = await startManagedGateway({
    node: { listen: { host: '127.0.0.1', port: 0 }, admin: { port: 0, token: ADMIN_TOKEN }, ...options.node },
    dataDir,
    env: { ...process.env, GATEHOUSE_SESSION_KEY: options.key ?? randomKeyHex() },
    logger: pino({ level: 'debug' }, logs),
    pollMs: options.pollMs ?? 200,
  });
  const admin = gateway.admin!.url.replace(/\/$/, '');
  return {
    gateway,
    logs,
    dataDir,
    admin,
    mcpUrl: (path) => `${gateway.baseUrl()}${path}`,
    call: async (method, path, { body, ifMatch, contentType, token } = {}) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token ?? ADMIN_TOKEN}` };
      if (body !== undefined) headers['content-type'] = contentType ?? 'application/json';
      if (ifMatch !== undefined) headers['if-match'] = ifMatch;
      const response = await fetch(`${admin}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      return { status: response.status, etag: response.headers.get('etag'), body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
    },
    close: () => gateway.close(),
  };
}
