// Deploys announced across nodes: a deploy sends NOTIFY on its schema's channel in the same
// transaction (delivered when it commits), and every node LISTENs on a connection of its own, so
// a new version is applied within a round trip rather than at the next poll. The poll stays as
// the fallback: a notification can be missed while the listening connection is down, and it is
// opened again with a growing delay.
import pg from 'pg';
import type { Logger } from '../log.ts';
import { quoteIdent } from './postgres-migrate.ts';

/** The channel of one schema's deploys (channels are per database: schemas must not hear each other). */
export function deployChannel(schema: string | undefined): string {
  return `gatehouse_deploy_${schema ?? 'public'}`.slice(0, 63);
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;

/** Calls `onDeploy` with each version deployed anywhere; returns the function that stops listening. */
export function watchDeploys(url: string, schema: string | undefined, onDeploy: (version: number) => void, log?: Logger): () => Promise<void> {
  const channel = deployChannel(schema);
  let client: pg.Client | undefined;
  let stopped = false;
  let retry = RETRY_MIN_MS;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    if (stopped) return;
    const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    client = next;
    // One handler for both: a failed connect and a connection lost later are retried alike.
    let failed = false;
    const fail = (error: Error): void => {
      if (failed || stopped) return;
      failed = true;
      log?.warn({ err: error.message, retryMs: retry }, 'lost the deploy notifications of the shared store; polling meanwhile');
      void next.end().catch(() => undefined);
      timer = setTimeout(() => void connect(), retry).unref();
      retry = Math.min(retry * 2, RETRY_MAX_MS);
    };
    next.on('error', fail);
    next.on('end', () => fail(new Error('connection ended')));
    next.on('notification', (message) => {
      if (message.channel !== channel) return;
      const version = Number(message.payload);
      if (Number.isInteger(version) && version > 0) onDeploy(version);
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${quoteIdent(channel)}`);
      retry = RETRY_MIN_MS;
    } catch (error) {
      fail(error as Error);
    }
  };
  void connect();

  return async () => {
    stopped = true;
    clearTimeout(timer);
    await client?.end().catch(() => undefined);
  };
}
