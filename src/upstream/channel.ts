// A message channel is one live connection to an MCP server that carries JSON-RPC messages both
// ways for one client session: a stdio child process, or an HTTP+SSE (2024-11-05) connection.
import type { JsonRpcMessage } from '../mcp/jsonrpc.ts';

export interface MessageChannel {
  /** Resolves once messages can be sent; rejects if the server cannot be reached or started. */
  start(): Promise<void>;
  /** Throws if the channel is closed. */
  send(message: JsonRpcMessage): void;
  close(): Promise<void>;
  /** Ends the channel on this node but leaves its upstream session for another node (stored federated sessions). */
  detach?(): Promise<void>;
  /** `text`, when given, is the message's JSON exactly as received: relayed as it is when nothing changes it. */
  onmessage: ((message: JsonRpcMessage, text?: string) => void) | undefined;
  /** Called once when the channel ends for any reason. */
  onclose: ((reason: string) => void) | undefined;
}
