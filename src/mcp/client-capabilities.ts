// What a client declared it can do, read from its initialize request.
import { isObject, isRequest, type JsonRpcMessage } from './jsonrpc.ts';

/**
 * Whether an initialize request declares form elicitation: `elicitation: {}` (2025-06-18, and
 * 2025-11-25, where an empty object means form) or `elicitation: { form: {} }`; a client that
 * declares only `url` mode cannot show a form.
 */
export function declaresFormElicitation(initialize: JsonRpcMessage | undefined): boolean {
  if (!initialize || !isRequest(initialize) || !isObject(initialize.params)) return false;
  return formElicitationIn(initialize.params.capabilities);
}

/** Whether client capabilities (initialize's, or a 2026-07-28 request's `_meta`) include form elicitation. */
export function formElicitationIn(capabilities: unknown): boolean {
  const elicitation = isObject(capabilities) ? capabilities.elicitation : undefined;
  if (!isObject(elicitation)) return false;
  return isObject(elicitation.form) || !isObject(elicitation.url);
}
