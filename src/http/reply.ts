// Writing answers: JSON-RPC errors with the catalogue's status, JSON bodies.
import type { ServerResponse } from 'node:http';
import { GatehouseError } from '../errors.ts';
import { errorResponse, type JsonRpcId } from '../mcp/jsonrpc.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, error: GatehouseError, id: JsonRpcId | null = null): void {
  const data = error.data === undefined ? { code: error.code } : { ...error.data, code: error.code };
  sendJson(res, error.status, errorResponse(id, error.rpc, error.message, data), error.headers ?? {});
}

/** Any thrown value as a wire error; unexpected ones become GH_INTERNAL without leaking details. */
export function asGatehouseError(error: unknown): GatehouseError {
  return error instanceof GatehouseError ? error : new GatehouseError('GH_INTERNAL');
}
