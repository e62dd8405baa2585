// The catalogue of every refusal Gatehouse answers on the wire. Each entry has a stable string
// code (never reused), the HTTP status and the JSON-RPC error code. docs/errors.md lists them; a
// test keeps the two in sync. Internal failures are turned into one of these at the edge.

export interface ErrorSpec {
  readonly status: number;
  readonly rpc: number;
  readonly title: string;
}

export const ERRORS = {
  GH_PARSE_ERROR: { status: 400, rpc: -32700, title: 'The body is not valid JSON' },
  GH_INVALID_REQUEST: { status: 400, rpc: -32600, title: 'The body is not a valid JSON-RPC 2.0 message' },
  GH_JSON_TOO_DEEP: { status: 400, rpc: -32600, title: 'The body nests deeper than limits.maxJsonDepth' },
  GH_BATCH_REJECTED: { status: 400, rpc: -32600, title: 'JSON-RPC batches are not allowed for this protocol version' },
  GH_UNSUPPORTED_PROTOCOL_VERSION: { status: 400, rpc: -32022, title: 'Unsupported MCP-Protocol-Version' },
  GH_SESSION_REQUIRED: { status: 400, rpc: -32000, title: 'Mcp-Session-Id header is required' },
  GH_HEADER_MISMATCH: { status: 400, rpc: -32020, title: 'Mcp-Method/Mcp-Name/Mcp-Param-* headers disagree with the body' },
  GH_INVALID_PARAMS: { status: 400, rpc: -32602, title: 'A 2026-07-28 request lacks its required _meta, or its inputResponses is malformed' },
  GH_INPUT_STATE_INVALID: { status: 400, rpc: -32602, title: 'The requestState of a retry was not issued by Gatehouse for this agent' },
  GH_URI_NOT_CANONICAL: { status: 400, rpc: -32602, title: 'Resource URI not in canonical form' },
  GH_BAD_HEADER: { status: 400, rpc: -32000, title: 'A request header is malformed' },
  GH_BAD_HTTP_REQUEST: { status: 400, rpc: -32000, title: 'The HTTP request is malformed' },
  GH_UNAUTHORIZED: { status: 401, rpc: -32040, title: 'Missing or invalid credential' },
  GH_INSUFFICIENT_SCOPE: { status: 403, rpc: -32041, title: 'The credential lacks a required scope' },
  GH_UPSTREAM_USER_REQUIRED: { status: 403, rpc: -32044, title: 'The upstream needs a user\'s own token and the caller acts for no user' },
  GH_TOKEN_EXCHANGE_REFUSED: { status: 403, rpc: -32048, title: 'The authorization server refused to exchange the caller\'s token for the upstream' },
  GH_FORBIDDEN_HOST: { status: 403, rpc: -32000, title: 'Host not allowed' },
  GH_FORBIDDEN_ORIGIN: { status: 403, rpc: -32000, title: 'Origin not allowed' },
  GH_FORWARD_REFUSED: { status: 403, rpc: -32000, title: 'Forwarded request refused' },
  GH_APPROVAL_DENIED: { status: 403, rpc: -32045, title: 'An approver denied the call' },
  GH_APPROVAL_TIMEOUT: { status: 403, rpc: -32046, title: 'Nobody approved the call in time' },
  GH_SESSION_TAINTED: { status: 403, rpc: -32043, title: 'A tainted session may not call a tool that can send data out' },
  GH_SESSION_NOT_FOUND: { status: 404, rpc: -32001, title: 'Session not found' },
  GH_NOT_FOUND: { status: 404, rpc: -32601, title: 'No MCP endpoint at this path' },
  GH_METHOD_NOT_ALLOWED: { status: 405, rpc: -32000, title: 'HTTP method not allowed' },
  GH_NOT_ACCEPTABLE: { status: 406, rpc: -32000, title: 'Accept header does not allow the response types' },
  GH_REQUEST_TIMEOUT: { status: 408, rpc: -32000, title: 'The client did not send its request in time' },
  GH_STREAM_CONFLICT: { status: 409, rpc: -32000, title: 'A standalone stream is already open for this session' },
  GH_PAYLOAD_TOO_LARGE: { status: 413, rpc: -32600, title: 'Request body too large' },
  GH_UNSUPPORTED_MEDIA_TYPE: { status: 415, rpc: -32000, title: 'Content-Type must be application/json' },
  GH_HEADERS_TOO_LARGE: { status: 431, rpc: -32000, title: 'Request headers too large' },
  GH_RATE_LIMITED: { status: 429, rpc: -32029, title: 'Rate limit exceeded' },
  GH_QUOTA_EXCEEDED: { status: 429, rpc: -32030, title: 'Quota exhausted' },
  GH_INTERNAL: { status: 500, rpc: -32603, title: 'Internal gateway error' },
  GH_UPSTREAM_UNAVAILABLE: { status: 502, rpc: -32010, title: 'Upstream server unavailable' },
  GH_UPSTREAM_RESPONSE_TOO_LARGE: { status: 502, rpc: -32011, title: 'Upstream response too large' },
  GH_UPSTREAM_BAD_RESPONSE: { status: 502, rpc: -32012, title: 'Upstream sent an invalid response' },
  GH_UPSTREAM_EXITED: { status: 502, rpc: -32013, title: 'Upstream process exited' },
  GH_NAME_COLLISION: { status: 502, rpc: -32017, title: 'Two servers of a federated API offer the same name' },
  GH_RESULT_BLOCKED: { status: 502, rpc: -32018, title: 'A content guardrail withheld the result' },
  GH_EGRESS_REFUSED: { status: 502, rpc: -32019, title: "The server's address is outside its tenant's egress" },
  GH_APPROVALS_FULL: { status: 503, rpc: -32047, title: 'Too many calls wait for approval' },
  GH_TOO_MANY_SESSIONS: { status: 503, rpc: -32014, title: 'Too many upstream sessions' },
  GH_RATE_LIMIT_UNAVAILABLE: { status: 503, rpc: -32031, title: 'Rate limit counters unreachable' },
  GH_SHUTTING_DOWN: { status: 503, rpc: -32015, title: 'Gateway is shutting down' },
  GH_AUTH_UNAVAILABLE: { status: 503, rpc: -32042, title: 'The credential could not be checked now' },
  GH_UPSTREAM_TIMEOUT: { status: 504, rpc: -32016, title: 'Upstream did not answer in time' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** A refusal that crosses the wire: carries its catalogue code and a human message. */
export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly rpc: number;
  /** Extra headers for the HTTP answer (e.g. Allow on 405). */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** Members added to the JSON-RPC error's `data` beside `code` (e.g. `supported` for -32022). */
  readonly data: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message?: string, headers?: Record<string, string>, data?: Record<string, unknown>) {
    const spec = ERRORS[code];
    super(message ?? spec.title);
    this.name = 'GatehouseError';
    this.code = code;
    this.status = spec.status;
    this.rpc = spec.rpc;
    this.headers = headers;
    this.data = data;
  }
}
