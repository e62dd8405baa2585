// An authentication plan turns a request's credentials into a principal, or refuses it.
import type { IncomingMessage } from 'node:http';
import type { GatehouseError } from '../errors.ts';
import type { Principal } from './principal.ts';
import { ANONYMOUS } from './principal.ts';
import type { ApiData } from '../config/schema.ts';

export interface AuthPlan {
  readonly type: string;
  authenticate(req: IncomingMessage): Principal | GatehouseError;
}

const keyless: AuthPlan = {
  type: 'keyless',
  authenticate: () => ANONYMOUS,
};

export function compileAuth(auth: ApiData['auth']): AuthPlan {
  switch (auth.type) {
    case 'keyless':
      return keyless;
  }
}
