// Which era a Streamable HTTP server speaks: a `server/discover` probe, sent once and remembered
// for a while (a server that is upgraded is noticed). A server that answers with 2026-07-28 among
// its versions is forwarded 2026-07-28 traffic as it is; any other answer (a 2025 server refuses a
// request without a session) means 2026-07-28 clients are bridged. An unreachable server is not
// remembered: the request fails as any request to it would. Whether a 2026-07-28 server still
// serves 2025 clients (its discover answer does not say) is asked only when a 2025 client first
// initializes: with a 2025 `initialize` of its own, which a 2026-07-28-only server refuses.
import { Agent, fetch as undiciFetch } from 'undici';
import { GatehouseError } from '../errors.ts';
import { EgressRefusedError, egressConnector, type EgressRule } from '../upstream/egress.ts';
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
  /** How long connecting may take (the server's timeouts.connect). */
  readonly connectTimeoutMs?: number | undefined;
  /** Where the server's tenant may connect (egress.ts). */
  readonly egress?: EgressRule | undefined;
}

export class EraProbe {
  private known: { modern: boolean; until: number } | undefined;
  private running: Promise<boolean> | undefined;
  private legacyKnown: { serves: boolean; until: number } | undefined;
  private legacyRunning: Promise<boolean> | undefined;

  constructor(private target: ProbeTarget) {}

  update(target: ProbeTarget): void {
    this.target = target;
    this.known = undefined;
    this.legacyKnown = undefined;
  }

  /** Whether 2025 clients can be forwarded to the server (false: it speaks only 2026-07-28, and they are bridged). */
  servesLegacyClients(): boolean | Promise<boolean> {
    const known = this.legacyKnown;
    if (known && known.until > Date.now()) return known.serves;
    this.legacyRunning ??= this.probeLegacy().finally(() => (this.legacyRunning = undefined));
    return this.legacyRunning;
  }

  /**
   * A server that cannot be asked (unreachable, silent) is taken to serve 2025 clients and is not
   * remembered: the client's initialize is forwarded and meets the connector's own error (its
   * status, its timeouts), as it did before bridging existed.
   */
  private async probeLegacy(): Promise<boolean> {
    let modern: boolean;
    try {
      const known = this.speaksModern();
      modern = typeof known === 'boolean' ? known : await known;
    } catch {
      return true;
    }
    if (!modern) {
      this.legacyKnown = { serves: true, until: Date.now() + REMEMBER_MS };
      return true;
    }
    const { url, headers, credentials, timeoutMs, connectTimeoutMs, egress } = this.target;
    const dispatcher = new Agent({ connect: egressConnector(egress, { timeout: connectTimeoutMs ?? timeoutMs }) });
    try {
      const auth = credentials && !credentials.perUser ? await credentials.headers() : {};
      const response = await undiciFetch(url, {
        method: 'POST',
        headers: { ...headers, ...auth, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY_PROBE_VERSION, capabilities: {}, clientInfo: { name: 'gatehouse-era-probe', version: '1' } } }),
        signal: AbortSignal.timeout(timeoutMs),
        dispatcher,
      });
      const text = await response.text().catch(() => '');
      const serves = response.ok && answersInitialize(text);
      // A server that opened a session for the probe is told it is over.
      const session = response.headers.get('mcp-session-id');
      if (session) {
        await undiciFetch(url, { method: 'DELETE', headers: { ...headers, ...auth, 'mcp-session-id': session, 'mcp-protocol-version': LEGACY_PROBE_VERSION }, signal: AbortSignal.timeout(timeoutMs), dispatcher })
          .then((r) => r.body?.cancel())
          .catch(() => undefined);
      }
      this.legacyKnown = { serves, until: Date.now() + REMEMBER_MS };
      return serves;
    } catch {
      return true;
    } finally {
      void dispatcher.close().catch(() => undefined);
    }
  }

  /** Whether the server speaks 2026-07-28 itself (answered from memory on the hot path). */
  speaksModern(): boolean | Promise<boolean> {
    const known = this.known;
    if (known && known.until > Date.now()) return known.modern;
    this.running ??= this.probe().finally(() => (this.running = undefined));
    return this.running;
  }

  private async probe(): Promise<boolean> {
    const { url, headers, credentials, timeoutMs, connectTimeoutMs, egress } = this.target;
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'server/discover',
      params: { _meta: { [META_PROTOCOL_VERSION]: STATELESS_VERSION, [META_CLIENT_CAPABILITIES]: {}, [META_CLIENT_INFO]: { name: 'gatehouse-era-probe', version: '1' } } },
    });
    // Its own connection, with the server's connect timeout (a server that accepts no connection
    // fails the probe as fast as it fails a forwarded request).
    const dispatcher = new Agent({ connect: egressConnector(egress, { timeout: connectTimeoutMs ?? timeoutMs }) });
    let response: Awaited<ReturnType<typeof undiciFetch>>;
    try {
      response = await undiciFetch(url, {
        method: 'POST',
        headers: {
          ...headers,
          // A per-user credential has no user here: the probe goes without (a server that wants one for discovery is taken as 2025).
          ...(credentials && !credentials.perUser ? await credentials.headers() : {}),
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': STATELESS_VERSION,
          'mcp-method': 'server/discover',
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
        dispatcher,
      });
    } catch (error) {
      void dispatcher.close().catch(() => undefined);
      const cause = (error as Error).cause;
      if (cause instanceof EgressRefusedError) throw new GatehouseError('GH_EGRESS_REFUSED', `Upstream may not be reached: ${cause.message}`);
      throw new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Upstream could not be reached to learn its protocol revision: ${(error as Error).message}`);
    }
    const text = await response.text().catch(() => '');
    void dispatcher.close().catch(() => undefined);
    const modern = response.ok && supportsModern(text);
    this.known = { modern, until: Date.now() + REMEMBER_MS };
    return modern;
  }
}

const LEGACY_PROBE_VERSION = '2025-11-25';

/** Whether an initialize answer (JSON, or the first data of an SSE stream) is a result. */
function answersInitialize(text: string): boolean {
  const message = firstMessage(text);
  return isObject(message) && isObject(message.result);
}

function firstMessage(text: string): unknown {
  const json = text.trimStart().startsWith('{') ? text : /^data: ?(.*)$/m.exec(text)?.[1];
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
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
