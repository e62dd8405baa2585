// Forwarding a request for a session another node owns (a stdio child, an HTTP+SSE connection,
// a federated session with such a member, a bridged call waiting for the client's input) to that
// node, so that a plain round-robin balancer works for every API. The first node has only
// authenticated the request and opened the session id (or request state) to learn the owner;
// the owner serves it as any request of its own — authentication again (the client's credentials
// travel with it), policies, audit and rate limits — so they happen once, there. The answer
// streams back as it comes (an SSE answer event by event); the client leaving cancels it.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { pipeline } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import { GatehouseError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { forwardedBy, markForwarded } from '../http/forwarded-from.ts';
import type { NodeRegistry } from './registry.ts';
import { FORWARDED_HEADER, type ForwardSigner } from './signature.ts';

/** Not relayed in either direction: they describe one connection, not the exchange. */
const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'content-length', FORWARDED_HEADER]);

/** Failures to connect: the owner is not there (gone, or not this process any more). */
const UNREACHABLE: ReadonlySet<string> = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
/**
 * A connection that broke once the request was on it: the owner may have died with it, or only
 * the connection did (a kept-alive one it closed). Not taken as gone: the client gets 502 for
 * this request and keeps its session; if the owner is gone, its next request meets a refused
 * connection and 404.
 */
const BROKEN: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

export type Acceptance = { readonly kind: 'own' } | { readonly kind: 'not-mine' } | { readonly kind: 'refused'; readonly reason: string };

export interface ClusterTimeouts {
  readonly connect: number;
  /** Longest wait for the owner's answer head (its own response timeout answers first). */
  readonly head: number;
}

/** Counts for metrics, read at scrape time. */
export interface ClusterStats {
  /** Requests sent to the owner of their session, by what became of them. */
  readonly forwarded: { ok: number; ownerGone: number; timeout: number; broken: number };
  /** Requests with a forwarding header that did not verify (GH_FORWARD_REFUSED). */
  refused: number;
}

export class Cluster {
  private readonly agent: Agent;
  readonly stats: ClusterStats = { forwarded: { ok: 0, ownerGone: 0, timeout: 0, broken: 0 }, refused: 0 };

  constructor(
    readonly nodeId: string,
    readonly registry: NodeRegistry,
    private readonly signer: ForwardSigner,
    private readonly timeouts: ClusterTimeouts,
    private readonly log: Logger,
  ) {
    this.agent = new Agent({ connect: { timeout: timeouts.connect }, keepAliveTimeout: 4_000, headersTimeout: timeouts.head, bodyTimeout: 0 });
  }

  /**
   * A request that arrived with the forwarding header: verified, it is served here as the
   * client's own (with the client's address and scheme); `not-mine` when it names another node
   * (this one restarted under its old address: the session is gone).
   */
  accept(req: IncomingMessage): Acceptance {
    const verdict = this.signer.verify(req);
    if (!verdict.ok) {
      this.stats.refused++;
      return { kind: 'refused', reason: verdict.reason };
    }
    if (verdict.claims.to !== this.nodeId) return { kind: 'not-mine' };
    markForwarded(req, { node: verdict.claims.from, address: verdict.claims.address, scheme: verdict.claims.scheme });
    return { kind: 'own' };
  }

  /** Whether a request for a session of `owner` may be forwarded: never twice. */
  mayForward(req: IncomingMessage): boolean {
    return forwardedBy(req) === undefined;
  }

  /**
   * Forwards the request to the owner and streams its answer to the client. False when the owner
   * is not registered or could not be reached before it answered (the caller answers as for a
   * session that is gone); throws GH_UPSTREAM_TIMEOUT when it took the request but never answered.
   */
  async forward(req: IncomingMessage, res: ServerResponse, body: Buffer | undefined, owner: string, traceparent?: string): Promise<boolean> {
    const found = this.registry.addressOf(owner);
    const base = found instanceof Promise ? await found : found;
    // Not registered; or registered at this very address: an earlier process here that crashed
    // within nodeTimeout, whose sessions died with it.
    if (base === undefined || base === this.registry.self.url) {
      this.stats.forwarded.ownerGone++;
      return false;
    }
    const url = req.url ?? '/';
    const session = req.headers['mcp-session-id'];
    const headers = relayed(req.headers);
    headers[FORWARDED_HEADER] = this.signer.sign(req.method ?? 'GET', url, typeof session === 'string' ? session : '', {
      from: this.nodeId,
      to: owner,
      address: req.socket.remoteAddress ?? '',
      scheme: (req.socket as TLSSocket).encrypted === true ? 'https' : 'http',
    });
    if (body !== undefined) headers['content-length'] = String(body.length);
    // The owner's span continues this node's (the forward), not the client's directly.
    if (traceparent !== undefined) headers.traceparent = traceparent;
    const abort = new AbortController();
    const left = () => abort.abort();
    res.once('close', left);
    let answer: Dispatcher.ResponseData;
    try {
      answer = await this.agent.request({ origin: base, path: url, method: req.method as Dispatcher.HttpMethod, headers, body, signal: abort.signal });
    } catch (error) {
      res.off('close', left);
      const code = (error as { code?: string }).code;
      if (abort.signal.aborted) return true; // the client left; nothing to answer
      if (code === 'UND_ERR_HEADERS_TIMEOUT') {
        this.stats.forwarded.timeout++;
        throw new GatehouseError('GH_UPSTREAM_TIMEOUT', `Node ${owner}, which holds this session, did not answer within ${this.timeouts.head} ms`);
      }
      if (code !== undefined && UNREACHABLE.has(code)) {
        this.stats.forwarded.ownerGone++;
        this.registry.unreachable(owner);
        this.log.info({ node: owner, url: base, code }, 'cluster: the node that holds the session did not answer; the session is taken as gone');
        return false;
      }
      if (code !== undefined && BROKEN.has(code)) {
        this.stats.forwarded.broken++;
        throw new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `The connection to node ${owner}, which holds this session, broke before it answered; try again`);
      }
      // Anything else is a setup problem (say, an https advertiseUrl whose certificate this node
      // does not trust): said in the log, a 502 to the client.
      this.stats.forwarded.broken++;
      this.log.warn({ node: owner, url: base, code, err: (error as Error).message }, 'cluster: could not forward a request to the node that holds its session');
      throw new GatehouseError('GH_UPSTREAM_UNAVAILABLE', `Could not reach node ${owner}, which holds this session`);
    }
    this.stats.forwarded.ok++;
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
    }
    if (answer.headers['content-length'] !== undefined) out['content-length'] = answer.headers['content-length'];
    res.writeHead(answer.statusCode, out);
    // The head at once: an SSE answer's first event may be a while coming.
    res.flushHeaders();
    await new Promise<void>((resolve) => {
      pipeline(answer.body, res, (err) => {
        res.off('close', left);
        if (err && !abort.signal.aborted) this.log.debug({ node: owner, err: err.message }, 'cluster: a forwarded answer was cut');
        resolve();
      });
    });
    return true;
  }

  /** Leaves the registry (first thing on shutdown): other nodes stop forwarding here at once. */
  leave(): Promise<void> {
    return this.registry.close();
  }

  /** After the listener drained: every forwarded exchange has ended or been cut. */
  async close(): Promise<void> {
    await this.registry.close();
    await this.agent.destroy().catch(() => undefined);
  }
}

/** The client's request headers as the owner should see them. */
function relayed(incoming: IncomingHttpHeaders): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  return headers;
}
