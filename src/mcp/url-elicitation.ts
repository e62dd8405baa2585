// URL-mode elicitation required (MCP 2025-11-25, URLElicitationRequiredError): a request that
// cannot be served until the user visits a URL is answered with JSON-RPC error -32042 whose
// `data.elicitations` lists URL-mode elicitations ({ mode: 'url', elicitationId, url, message }).
// It is an ordinary JSON-RPC answer (HTTP 200): clients read errors only from a 2xx answer. It is
// not in Gatehouse's refusal catalogue (src/errors.ts), whose codes are all HTTP errors.

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
