// The server under a listener: node:http, or node:https when the listener has TLS material.
// HTTP/1.1 either way (MCP's Streamable HTTP needs nothing of HTTP/2, and the listener's limits,
// timeouts and refusals are written for node:http's server, which node:https shares).
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server as HttpServer, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { secureContextOptions, type TlsMaterial } from './tls.ts';

export type WebServer = HttpServer | HttpsServer;

export interface TlsServerOptions {
  readonly material: TlsMaterial;
  /**
   * Longest a client may take to send its first byte and then to complete the TLS handshake (the
   * listener's header timeout: a client that only connects must not hold a connection longer).
   */
  readonly handshakeTimeout: number;
  /** Answers a connection that speaks plain HTTP to the TLS port (then closes it). */
  readonly refusePlainHttp: (socket: Socket) => void;
}

/** The first byte of a TLS connection: a handshake record. */
const TLS_HANDSHAKE = 0x16;

export function createWebServer(options: ServerOptions, tls: TlsServerOptions | undefined, handler: RequestListener<typeof IncomingMessage, typeof ServerResponse>): WebServer {
  if (!tls) return createHttpServer(options, handler);
  const mutual = tls.material.ca !== undefined;
  const server = createHttpsServer(
    { ...options, ...secureContextOptions(tls.material), requestCert: mutual, rejectUnauthorized: mutual, handshakeTimeout: tls.handshakeTimeout },
    handler,
  );
  answerPlainHttp(server, tls);
  closeHandshakesToo(server);
  return server;
}

/**
 * closeAllConnections (shutdown) closes the connections node:http knows: those past the TLS
 * handshake. A client that connected and is still silent, or still in its handshake, would hold
 * server.close() until its handshake timeout: those sockets are closed too.
 */
function closeHandshakesToo(server: HttpsServer): void {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const closeAll = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    closeAll();
    for (const socket of sockets) socket.destroy();
  };
}

/**
 * A client that speaks plain HTTP to the TLS port (an `http://` URL) gets a readable 400 instead
 * of a failed handshake that it would show as a reset or garbage. The TLS server's own connection
 * handler runs once the first byte is in and is a handshake record; the byte is put back, and
 * node's TLS socket takes over the data already read.
 */
function answerPlainHttp(server: HttpsServer, tls: TlsServerOptions): void {
  const own = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    // The socket is ours until it is handed over: an error now (a reset) must not go unhandled.
    socket.on('error', () => socket.destroy());
    socket.setTimeout(tls.handshakeTimeout, () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE) for (const listener of own) listener.call(server, socket);
      else tls.refusePlainHttp(socket);
    });
  });
}
