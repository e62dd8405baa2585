// One POST to a 2026-07-28 server, through the server's undici pool when the target has one (the
// dispatch client the single-server connector and federation members use: no web stream and no
// promise per chunk), else through fetch. The body arrives as text chunks; the caller stops
// reading when it has what it wanted.
import { StringDecoder } from 'node:string_decoder';
import { CancelledError, type Cancellable, type UpstreamHttpClient, type UpstreamResponse } from '../upstream/http-client.ts';

export interface ModernPostTarget {
  readonly url: string;
  /** The server's pool; without one, fetch (and its global pool) is used. */
  readonly client?: UpstreamHttpClient | undefined;
}

export interface ModernPostResponse {
  readonly status: number;
  readonly contentType: string;
  /**
   * Delivers the body as text until it ends; `chunk` may stop it early: 'cut' closes the
   * exchange, 'enough' settles at once and lets the rest of the body be read and dropped (through
   * the pool, its connection is then kept for the next request).
   */
  read(chunk: (text: string) => ReadNext): Promise<void>;
  /** Stops the exchange without reading (the connection is closed). */
  cancel(): void;
}

/** How long the rest of a body settled early may take to end before its connection is closed. */
const DRAIN_MS = 5_000;

export type ReadNext = 'more' | 'enough' | 'cut';

/** The exchange outlived its timeout (the head or the whole body). */
export class ModernTimeoutError extends Error {
  constructor() {
    super('timed out');
    this.name = 'ModernTimeoutError';
  }
}

/**
 * Sends the request. `timeoutMs` (0: none) bounds the whole exchange, body included; `signal`
 * cancels it. Rejects with CancelledError, ModernTimeoutError or the network's error.
 */
export function postModern(target: ModernPostTarget, headers: Record<string, string>, body: string, signal: AbortSignal, timeoutMs: number): Promise<ModernPostResponse> {
  return target.client ? postPooled(target.client, pathOf(target.url), headers, body, signal, timeoutMs) : postFetch(target.url, headers, body, signal, timeoutMs);
}

const paths = new Map<string, string>();
function pathOf(url: string): string {
  let path = paths.get(url);
  if (path === undefined) {
    const parsed = new URL(url);
    path = parsed.pathname + parsed.search;
    if (paths.size < 1024) paths.set(url, path);
  }
  return path;
}

async function postPooled(client: UpstreamHttpClient, path: string, headers: Record<string, string>, body: string, signal: AbortSignal, timeoutMs: number): Promise<ModernPostResponse> {
  if (signal.aborted) throw new CancelledError();
  const handle: { current?: Cancellable } = {};
  let response: UpstreamResponse | undefined;
  // Set when the exchange stops early; a body being read learns of it through `stopped`.
  let failure: Error | undefined;
  let stopped: ((error: Error) => void) | undefined;
  const stop = (error: Error) => {
    if (failure) return;
    failure = error;
    if (response) response.destroy(error);
    else handle.current?.cancel();
    done();
    stopped?.(error);
  };
  const onAbort = () => stop(new CancelledError());
  signal.addEventListener('abort', onAbort, { once: true });
  const timer = timeoutMs > 0 ? setTimeout(() => stop(new ModernTimeoutError()), timeoutMs) : undefined;
  const done = () => {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  };
  try {
    response = await client.request(path, { method: 'POST', headers, body, responseTimeout: timeoutMs }, handle);
  } catch (error) {
    done();
    throw failure ?? error;
  }
  if (failure) {
    response.destroy(failure);
    done();
    throw failure;
  }
  const head = response;
  const type = head.headers['content-type'];
  return {
    status: head.statusCode,
    contentType: typeof type === 'string' ? type : '',
    read: (chunk) =>
      new Promise<void>((resolve, reject) => {
        if (failure) {
          done();
          reject(failure);
          return;
        }
        stopped = (error) => {
          done();
          reject(error);
        };
        const decoder = new StringDecoder('utf8');
        // 'enough': settled; the rest is read and dropped.
        let enough = false;
        head.consume({
          data: (bytes) => {
            if (failure || enough) return;
            let next: ReadNext;
            try {
              next = chunk(decoder.write(bytes));
            } catch (error) {
              // The reader's own failure: the exchange stops and read() rejects with it.
              failure = error as Error;
              head.destroy(failure);
              done();
              reject(failure);
              return;
            }
            if (next === 'more') return;
            done();
            if (next === 'cut') {
              failure = new CancelledError();
              head.destroy(failure);
            } else {
              enough = true;
              // A stream that goes on after its answer is not kept waiting on forever.
              setTimeout(() => head.destroy(), DRAIN_MS).unref();
            }
            resolve();
          },
          end: () => {
            done();
            const rest = enough ? '' : decoder.end();
            if (rest !== '') chunk(rest);
            resolve();
          },
          error: (error) => {
            done();
            if (enough) return;
            reject(failure ?? error);
          },
        });
      }),
    cancel: () => {
      if (!failure) {
        failure = new CancelledError();
        head.destroy(failure);
      }
      done();
    },
  };
}

async function postFetch(url: string, headers: Record<string, string>, body: string, signal: AbortSignal, timeoutMs: number): Promise<ModernPostResponse> {
  const timeout = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
  const failureOf = (error: unknown): unknown => (timeout?.aborted ? new ModernTimeoutError() : signal.aborted ? new CancelledError() : error);
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body, signal: timeout ? AbortSignal.any([signal, timeout]) : signal });
  } catch (error) {
    throw failureOf(error);
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    read: async (chunk) => {
      const reader = response.body?.getReader();
      if (!reader) return;
      const decoder = new TextDecoder();
      try {
        for (;;) {
          const next = await reader.read();
          if (next.done) break;
          // fetch's reader cannot drain in the background cheaply: 'enough' cuts too.
          if (chunk(decoder.decode(next.value, { stream: true })) !== 'more') return;
        }
        const rest = decoder.decode();
        if (rest !== '') chunk(rest);
      } catch (error) {
        throw failureOf(error);
      } finally {
        void reader.cancel().catch(() => undefined);
      }
    },
    cancel: () => void response.body?.cancel().catch(() => undefined),
  };
}
