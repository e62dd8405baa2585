// Which era a Streamable HTTP server speaks: a `server/discover` probe, sent once and remembered
// for a while (a server that is upgraded is noticed). A server that answers with 2026-07-28 among
// its versions is forwarded 2026-07-28 traffic as it is; any other answer (a 2025 server refuses a
// request without a session) means 2026-07-28 clients are bridged. An unreachable server is not
// remembered: the request fails as any request to it would.
import { GatehouseError } from '../errors.ts';
import { isObject } from '../mcp/jsonrpc.ts';
import { STATELESS_VERSION } from '../mcp/versions.ts';
import type { UpstreamCredentials } from '../upstream/upstream.ts';
import { META_CLIENT_CAPABILITIES, META_CLIENT_INFO, META_PROTOCOL_VERSION } from './envelope.ts';

const REMEMBER_MS = 5 * 60_000;

export interface ProbeTarget {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly credentials: UpstreamCredentials | undefined;
  readonly timeoutMs: number;
}

export class EraProbe {
  private known: { modern: boolean; until: number } | undefined;
  private running: Promise<boolean> | undefined;

  constructor(private target: ProbeTarget) {}

  update(target: ProbeTarget): void {
    this.target = target;
    this.known = undefined;
  }

  /** Whether the server speaks 2026-07-28 itself (answered from memory on the hot path). */
  speaksModern(): boolean | Promise<boolean> {
    const known = this.known;
    if (known && known.until > Date.now()) return known.modern;
    this.running ??= this.probe().finally(() => (this.running = undefined));
    return this.running;
  }

  private async probe(): Promise<boolean> {
    const { url, headers, credentials, timeoutMs } = this.target;
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'server/discover',
      params: { _meta: { [META_PROTOCOL_VERSION]: STATELESS_VERSION, [META_CLIENT_CAPABILITIES]: {}, [META_CLIENT_INFO]: { name: 'gatehouse-era-probe', version: '1' } } },
    });
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          ...headers,
          ...(credentials ? await credentials.headers() : {}),
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': STATELESS_VERSION,
          'mcp-method': 'server/discover',
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream could not be reached to learn its protocol revision: ${(error as Error).message}`);
    }
    const text = await response.text().catch(() => '');
    const modern = response.ok && supportsModern(text);
    this.known = { modern, until: Date.now() + REMEMBER_MS };
    return modern;
  }
}

/** Whether a discover answer (JSON, or the first data of an SSE stream) lists 2026-07-28. */
function supportsModern(text: string): boolean {
  const json = text.trimStart().startsWith('{') ? text : /^data: ?(.*)$/m.exec(text)?.[1];
  if (json === undefined) return false;
  try {
    const message: unknown = JSON.parse(json);
    const result = isObject(message) && isObject(message.result) ? message.result : undefined;
    return Array.isArray(result?.supportedVersions) && result.supportedVersions.includes(STATELESS_VERSION);
  } catch {
    return false;
  }
}
