// URL-mode elicitation required (MCP 2025-11-25, URLElicitationRequiredError): a request that
// cannot be served until the user visits a URL is answered with JSON-RPC error -32042 whose
// `data.elicitations` lists URL-mode elicitations ({ mode: 'url', elicitationId, url, message }).
// It is an ordinary JSON-RPC answer (HTTP 200): clients read errors only from a 2xx answer. It is
// not in Gatehouse's refusal catalogue (src/errors.ts), whose codes are all HTTP errors.
//
// A 2026-07-28 client gets the same elicitations as a multi round-trip request instead: an
// `input_required` result whose `inputRequests` are the URL elicitations, under keys and a
// request state of Gatehouse's own. Its retry (with `inputResponses` and that request state) is
// the plain request again once Gatehouse's keys and state are taken out: whether the user
// finished is checked anew, by what the retry needs (a token now in the vault), so the state
// carries nothing to trust and is not sealed.

import { isObject, isRequest, type JsonObject, type JsonRpcId, type JsonRpcMessage, type JsonRpcResponse } from './jsonrpc.ts';

export const URL_ELICITATION_REQUIRED = -32042;

export interface UrlElicitation {
  readonly mode: 'url';
  readonly elicitationId: string;
  readonly url: string;
  readonly message: string;
}

/** Thrown by whatever finds the request needs the user at a URL first; the connector answers it. */
export class UrlElicitationRequired extends Error {
  override readonly name = 'UrlElicitationRequired';

  constructor(
    message: string,
    readonly elicitations: readonly UrlElicitation[],
  ) {
    super(message);
  }

  /** The JSON-RPC error object's `data`. */
  data(): { elicitations: readonly UrlElicitation[] } {
    return { elicitations: this.elicitations };
  }
}


/** Gatehouse's request state of such a round, and the prefix of its input keys. */
const STATE_PREFIX = 'gatehouse-url-elicitation:';
const INPUT_KEY_PREFIX = 'gatehouse-url-';

/** The `input_required` answer of a 2026-07-28 request that needs the user at these URLs first. */
export function urlInputRequired(id: JsonRpcId | null, required: UrlElicitationRequired): JsonRpcResponse {
  const inputRequests: JsonObject = {};
  required.elicitations.forEach((elicitation, i) => {
    inputRequests[`${INPUT_KEY_PREFIX}${i + 1}`] = { method: 'elicitation/create', params: { ...elicitation } };
  });
  return { jsonrpc: '2.0', id, result: { resultType: 'input_required', inputRequests, requestState: `${STATE_PREFIX}${required.elicitations.map((e) => e.elicitationId).join(',')}` } };
}

/** A retry of such a round without Gatehouse's request state and input keys (the same message otherwise). */
export function withoutUrlRound(message: JsonRpcMessage): JsonRpcMessage {
  if (!isRequest(message) || !isObject(message.params) || typeof message.params.requestState !== 'string' || !message.params.requestState.startsWith(STATE_PREFIX)) return message;
  const { requestState: _ours, inputResponses, ...params } = message.params;
  if (isObject(inputResponses)) {
    const theirs = Object.fromEntries(Object.entries(inputResponses).filter(([key]) => !key.startsWith(INPUT_KEY_PREFIX)));
    if (Object.keys(theirs).length > 0) params.inputResponses = theirs;
  }
  return { ...message, params };
}
