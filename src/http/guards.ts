// Request guards that run before any MCP work: Host/Origin (DNS rebinding), Accept,
// Content-Type, body size.
import type { IncomingMessage } from 'node:http';
import { GatehouseError } from '../errors.ts';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

// Only a literal 127.x.y.z address: a name such as 127.attacker.example is not loopback (it is
// exactly what a DNS-rebinding page would use).
const LOOPBACK_V4 = /^127\.(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){2}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || LOOPBACK_V4.test(host);
}

export interface OriginPolicy {
  readonly enabled: boolean;
  /** Host names (or host:port) accepted; undefined: the loopback names on any port, and `publicHost`. */
  readonly hosts: ReadonlySet<string> | undefined;
  /** Origins accepted; undefined: loopback origins on any port. */
  readonly origins: ReadonlySet<string> | undefined;
  /** Loopback origins are accepted besides `origins` (routes shared by APIs with and without lists). */
  readonly loopbackOrigins?: boolean;
  /** The host of `publicUrl` (lower case, as in a Host header): accepted by the default host rule. */
  readonly publicHost?: string | undefined;
  /** The origin of `publicUrl`: always an accepted Origin (pages the gateway serves post from it). */
  readonly publicOrigin?: string | undefined;
  /** Behind a trusted proxy the host the client used is X-Forwarded-Host: that is the one checked. */
  readonly trustProxy?: boolean;
}

export interface OriginOptions {
  readonly trustProxy?: boolean | undefined;
  readonly publicUrl?: string | undefined;
  /** Accept loopback origins besides the listed ones. Default: only when nothing is listed. */
  readonly loopbackOrigins?: boolean | undefined;
}

export function compileOriginPolicy(
  listenHost: string,
  security: { allowedHosts?: string[] | undefined; allowedOrigins?: string[] | undefined; dnsRebindingProtection?: boolean | undefined },
  apiOrigins?: string[],
  options: OriginOptions = {},
): OriginPolicy {
  const origins = apiOrigins ?? security.allowedOrigins;
  const enabled = security.dnsRebindingProtection ?? (isLoopbackHost(listenHost) || security.allowedHosts !== undefined || origins !== undefined);
  const policy: OriginPolicy = {
    enabled,
    hosts: security.allowedHosts ? new Set(security.allowedHosts.map((h) => h.toLowerCase())) : undefined,
    origins: origins ? new Set(origins.map((o) => o.toLowerCase().replace(/\/$/, ''))) : undefined,
  };
  const extra: { -readonly [K in keyof OriginPolicy]?: OriginPolicy[K] } = {};
  if (options.loopbackOrigins && origins) extra.loopbackOrigins = true;
  if (options.trustProxy) extra.trustProxy = true;
  if (options.publicUrl !== undefined) {
    const url = new URL(options.publicUrl);
    extra.publicHost = url.host.toLowerCase();
    extra.publicOrigin = url.origin.toLowerCase();
  }
  return Object.keys(extra).length === 0 ? policy : { ...policy, ...extra };
}

function hostName(hostHeader: string): string {
  // "[::1]:8080" → "[::1]", "localhost:8080" → "localhost"
  if (hostHeader.startsWith('[')) {
    const end = hostHeader.indexOf(']');
    return end === -1 ? hostHeader : hostHeader.slice(0, end + 1);
  }
  const colon = hostHeader.indexOf(':');
  return colon === -1 ? hostHeader : hostHeader.slice(0, colon);
}

/** First element of a comma-separated header (a proxy chain appends; the first is the client's). */
export function firstValue(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  const first = text?.split(',')[0]?.trim();
  return first === '' ? undefined : first;
}

/**
 * The host the client asked for: X-Forwarded-Host behind a trusted proxy (when the proxy sets
 * it), else Host. The one place both the Host check and public URLs take it from, so that a URL
 * is never built from a host that was not checked.
 */
export function requestHost(req: IncomingMessage, trustProxy: boolean | undefined): string | undefined {
  return (trustProxy ? firstValue(req.headers['x-forwarded-host']) : undefined) ?? req.headers.host;
}

export function checkHostAndOrigin(req: IncomingMessage, policy: OriginPolicy): void {
  // Node keeps the first of two Host headers; a proxy in front may have routed on the other.
  if (headerCount(req, 'host') > 1) throw new GatehouseError('GH_BAD_HEADER', 'Bad Request: the Host header must be sent once');
  if (!policy.enabled) return;
  const host = (requestHost(req, policy.trustProxy) ?? '').toLowerCase();
  const name = hostName(host);
  if (policy.hosts) {
    if (!policy.hosts.has(host) && !policy.hosts.has(name)) {
      throw new GatehouseError('GH_FORBIDDEN_HOST', `Host "${host}" is not allowed (security.allowedHosts)`);
    }
  } else if (!isLoopbackHost(name) && host !== policy.publicHost) {
    throw new GatehouseError('GH_FORBIDDEN_HOST', `Host "${host}" is not allowed: this listener accepts loopback host names${policy.publicHost ? ` and ${policy.publicHost} (publicUrl)` : ''} only unless security.allowedHosts is set`);
  }
  const origin = req.headers.origin;
  if (origin === undefined) return;
  const normalized = origin.toLowerCase();
  if (policy.origins?.has(normalized) || normalized === policy.publicOrigin) return;
  let parsed: URL | undefined;
  try {
    parsed = new URL(normalized);
  } catch {
    parsed = undefined;
  }
  const web = parsed !== undefined && (parsed.protocol === 'http:' || parsed.protocol === 'https:');
  // Same origin: a page the gateway served itself (its sign-in and consent forms) posting back.
  if (web && parsed!.host === host) return;
  if (policy.origins && !policy.loopbackOrigins) throw new GatehouseError('GH_FORBIDDEN_ORIGIN', `Origin "${origin}" is not allowed`);
  if (!web || !isLoopbackHost(parsed!.hostname)) {
    throw new GatehouseError('GH_FORBIDDEN_ORIGIN', `Origin "${origin}" is not allowed: only loopback origins unless security.allowedOrigins is set`);
  }
}

/**
 * How many times a header was sent. Node keeps only the first of a repeated Authorization or
 * Host header in `req.headers`, so a second one would be silently ignored here while a peer (an
 * upstream, a proxy) might honour it: repeats are counted on the raw list.
 */
export function headerCount(req: IncomingMessage, lowerName: string): number {
  const raw = req.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) count++;
  }
  return count;
}

// Clients send the same few Accept and Content-Type values on every request: remember the verdicts.
const VERDICT_LIMIT = 256;
const postAcceptVerdicts = new Map<string, boolean>();
const getAcceptVerdicts = new Map<string, boolean>();
const contentTypeVerdicts = new Map<string, boolean>();

function remembered(cache: Map<string, boolean>, value: string, decide: (value: string) => boolean): boolean {
  let verdict = cache.get(value);
  if (verdict === undefined) {
    verdict = decide(value);
    if (cache.size >= VERDICT_LIMIT) cache.clear();
    cache.set(value, verdict);
  }
  return verdict;
}

function acceptsPost(header: string): boolean {
  return accepts(header, 'application/json') && accepts(header, 'text/event-stream');
}

function acceptsGet(header: string): boolean {
  return accepts(header, 'text/event-stream');
}

function isJsonType(type: string): boolean {
  return type.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

function accepts(header: string | undefined, type: string): boolean {
  if (!header) return false;
  const [major] = type.split('/');
  for (const part of header.split(',')) {
    const media = part.split(';')[0]!.trim().toLowerCase();
    if (media === type || media === '*/*' || media === `${major}/*`) return true;
  }
  return false;
}

export function checkPostAccept(req: IncomingMessage): void {
  const accept = req.headers.accept;
  if (!accept || !remembered(postAcceptVerdicts, accept, acceptsPost)) {
    throw new GatehouseError('GH_NOT_ACCEPTABLE', 'Not Acceptable: the client must accept both application/json and text/event-stream');
  }
}

export function checkGetAccept(req: IncomingMessage): void {
  const accept = req.headers.accept;
  if (!accept || !remembered(getAcceptVerdicts, accept, acceptsGet)) {
    throw new GatehouseError('GH_NOT_ACCEPTABLE', 'Not Acceptable: the client must accept text/event-stream');
  }
}

export function checkContentType(req: IncomingMessage): void {
  const type = req.headers['content-type'];
  if (!type || !remembered(contentTypeVerdicts, type, isJsonType)) {
    throw new GatehouseError('GH_UNSUPPORTED_MEDIA_TYPE', 'Unsupported Media Type: Content-Type must be application/json');
  }
}

/** Reads the whole body, refusing (413) as soon as it exceeds `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    return Promise.reject(new GatehouseError('GH_PAYLOAD_TOO_LARGE', `Request body of ${declared} bytes exceeds the limit of ${limit} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume();
        reject(new GatehouseError('GH_PAYLOAD_TOO_LARGE', `Request body exceeds the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}
