// Real peers for the upstream-credential tests: an authenticating reverse proxy that puts a
// real MCP server behind a credential check (401 otherwise), an OAuth token endpoint that issues
// short-lived JWTs for the client-credentials grant and counts them, and the CLI run with stdin.
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { SignJWT, jwtVerify } from 'jose';
import { CLI } from './gatehouse.ts';

export type Check = (headers: IncomingHttpHeaders) => boolean | Promise<boolean>;

export interface AuthProxy {
  readonly origin: string;
  /** Headers of every request that reached the proxy, refused or not. */
  readonly seen: IncomingHttpHeaders[];
  /** How many requests were answered 401. */
  refused(): number;
  /** Replaces the credential check (e.g. the upstream's secret was rotated). */
  setCheck(check: Check): void;
  close(): Promise<void>;
}

/** Answers 401 (with a challenge naming the upstream's own authorization server) unless `check` passes; otherwise streams to `target`. */
export async function startAuthProxy(target: string, check: Check): Promise<AuthProxy> {
  const upstream = new URL(target);
  const seen: IncomingHttpHeaders[] = [];
  let refused = 0;
  let current = check;
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    Promise.resolve(current(req.headers)).then(
      (ok) => {
        if (!ok) {
          refused++;
          req.resume();
          res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="upstream", resource_metadata="http://upstream.invalid/.well-known/oauth-protected-resource"' });
          res.end(JSON.stringify({ error: 'invalid_token' }));
          return;
        }
        const headers: OutgoingHttpHeaders = { ...req.headers, host: upstream.host };
        const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          res.flushHeaders();
          upRes.pipe(res);
        });
        forward.on('error', () => res.destroy());
        res.on('close', () => forward.destroy());
        req.pipe(forward);
      },
      () => res.destroy(),
    );
  });
  await listen(server);
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    refused: () => refused,
    setCheck: (next) => {
      current = next;
    },
    close: () => closeServer(server),
  };
}

export interface TokenServer {
  readonly tokenUrl: string;
  /** Token requests received (answered or not). */
  requests(): number;
  /** Tokens issued. */
  issued(): number;
  /** Checks an `Authorization` header as the upstream would: a valid, unexpired, unrevoked token of this issuer. */
  accepts(headers: IncomingHttpHeaders): Promise<boolean>;
  /** Every token issued so far stops being accepted (the upstream revoked them). */
  revokeAll(): void;
  /** Holds token answers until the returned function is called. */
  hold(): () => void;
  close(): Promise<void>;
}

export interface TokenServerOptions {
  clientId: string;
  clientSecret: string;
  /** Seconds, sent as expires_in and used for the JWT's exp. */
  expiresIn: number;
  /** Required `scope` form field, if any. */
  scope?: string;
}

const ISSUER = 'https://token-issuer.test';
const AUDIENCE = 'everything-upstream';

/** An OAuth token endpoint (client_secret_basic, grant_type=client_credentials) issuing HS256 JWTs. */
export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const signingKey = new TextEncoder().encode(`signing-key-${Math.random()}-${Date.now()}-0123456789abcdef`);
  let requests = 0;
  let issued = 0;
  let revokedBefore = 0;
  let held: Promise<void> | undefined;
  const server = http.createServer((req, res) => {
    requests++;
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      void (async () => {
        if (held) await held;
        const reply = (status: number, json: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify(json));
        };
        const form = new URLSearchParams(body);
        if (req.method !== 'POST' || form.get('grant_type') !== 'client_credentials') return reply(400, { error: 'unsupported_grant_type' });
        const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
        const [id, secret] = basic ? Buffer.from(basic[1]!, 'base64').toString('utf8').split(':').map(formDecode) : [];
        if (id !== options.clientId || secret !== options.clientSecret) return reply(401, { error: 'invalid_client' });
        if (options.scope !== undefined && form.get('scope') !== options.scope) return reply(400, { error: 'invalid_scope' });
        issued++;
        const now = Date.now() / 1000;
        const token = await new SignJWT({ n: issued })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setSubject(options.clientId)
          .setIssuedAt(Math.floor(now))
          // Rounded up, so the token lives at least expires_in seconds.
          .setExpirationTime(Math.ceil(now + options.expiresIn))
          .sign(signingKey);
        reply(200, { access_token: token, token_type: 'Bearer', expires_in: options.expiresIn });
      })();
    });
  });
  await listen(server);
  return {
    tokenUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/token`,
    requests: () => requests,
    issued: () => issued,
    accepts: async (headers) => {
      const match = /^Bearer (\S+)$/.exec(headers.authorization ?? '');
      if (!match) return false;
      try {
        const { payload } = await jwtVerify(match[1]!, signingKey, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
        return typeof payload.n === 'number' && payload.n > revokedBefore;
      } catch {
        return false;
      }
    },
    revokeAll: () => {
      revokedBefore = issued;
    },
    hold: () => {
      let release!: () => void;
      held = new Promise((resolve) => (release = resolve));
      return () => {
        held = undefined;
        release();
      };
    },
    close: () => closeServer(server),
  };
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI to completion with `stdin` piped in. */
export function runCliWithStdin(args: string[], stdin: string, env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function listen(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
