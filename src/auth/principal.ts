// Who is calling. Every request gets a principal before anything else looks at it.

export interface Principal {
  kind: 'anonymous' | 'agent' | 'user';
  id: string;
  /** Stable binding key stored in sessions: a session is served only to the same key. */
  key: string;
}

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous', id: 'anonymous', key: 'anon' });
