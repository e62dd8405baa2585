// How a missing item is answered (and a hidden one, by the ACL): exactly as the MCP SDK's servers answer a missing one (the
// most common server implementation, and what server-everything says), so that a refusal does
// not reveal that the item exists.
import { errorResponse, type JsonRpcId, type JsonRpcResponse } from './jsonrpc.ts';

export function unknownTool(id: JsonRpcId, name: string): JsonRpcResponse {
  // SDK servers report an unknown tool as a tool error result, not a JSON-RPC error.
  return { jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: `MCP error -32602: Tool ${name} not found` }], isError: true } };
}

export function unknownPrompt(id: JsonRpcId, name: string): JsonRpcResponse {
  return errorResponse(id, -32602, `MCP error -32602: Prompt ${name} not found`);
}

export function unknownResource(id: JsonRpcId, uri: string): JsonRpcResponse {
  return errorResponse(id, -32602, `MCP error -32602: Resource ${uri} not found`);
}

export function unknownResourceTemplate(id: JsonRpcId, uri: string): JsonRpcResponse {
  return errorResponse(id, -32602, `MCP error -32602: Resource template ${uri} not found`);
}

export function methodNotFound(id: JsonRpcId): JsonRpcResponse {
  return errorResponse(id, -32601, 'Method not found');
}

export function invalidArguments(id: JsonRpcId, tool: string, problem: string): JsonRpcResponse {
  return errorResponse(id, -32602, `Invalid arguments for tool ${tool}: ${problem}`);
}
