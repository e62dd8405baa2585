// Who is calling. Every request gets a principal before anything else looks at it.

export interface Principal {
  kind: 'anonymous' | 'agent' | 'user';
  /** Agent id, or the token subject for users. */
  id: string;
  /** Stable binding key stored in sessions: a session is served only to the same key. */
  key: string;
  /** The plan that authenticated it: keyless, api-key, jwt, oauth2, passthrough. */
  plan: string;
  name?: string;
  labels?: Readonly<Record<string, string>>;
  tenant?: string;
  /** The person behind the agent, where a token names one. */
  user?: { id: string; name?: string };
  /** Token claims (jwt, oauth2), for policies. */
  claims?: Readonly<Record<string, unknown>>;
  scopes?: readonly string[];
}

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous', id: 'anonymous', key: 'anon', plan: 'keyless' });
