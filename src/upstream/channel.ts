// A message channel is one live connection to an MCP server that carries JSON-RPC messages both
// ways for one client session: a stdio child process, or an HTTP+SSE (2024-11-05) connection.
import type { JsonRpcId, JsonRpcMessage } from '../mcp/jsonrpc.ts';

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
  /**
   * Whether the channel calls `onaccepted`. Its session then holds a POST's SSE head until the
   * server has taken the request up (as the Streamable HTTP connector, which writes the head when
   * the upstream's head came), so that the head rides with the answer; without it, the head waits
   * a few ms from when the request arrived, and goes alone when the server is slower than that.
   */
  readonly reportsAccepted?: boolean;
  /** A request's id once the server took it up (the head of its answer came, or it was answered). */
  onaccepted?: ((id: JsonRpcId) => void) | undefined;
  /**
   * Why the last request could not be sent on behalf of its caller (no upstream token for that
   * user yet: a URL elicitation; an agent acting for no user): the request was answered with it as
   * a JSON-RPC error, and whoever opens the session can answer the client with it as it is.
   */
  readonly refusal?: Error | undefined;
  /** Called once when the channel ends for any reason. */
  onclose: ((reason: string) => void) | undefined;
}
