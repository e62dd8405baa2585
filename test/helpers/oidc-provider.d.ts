// The few parts of oidc-provider (a dev dependency without bundled types) the tests use.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface InteractionDetails {
    uid: string;
    params: Record<string, unknown>;
    prompt: { name: string; details: { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> } };
    session?: { accountId?: string };
    grantId?: string;
  }

  export interface GrantInstance {
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export const errors: {
    InvalidTarget: new (message?: string) => Error;
    InvalidGrant: new (message?: string) => Error;
    InvalidRequest: new (message?: string) => Error;
  };

  /** A client as the token endpoint authenticated it. */
  export interface ClientInstance {
    clientId: string;
  }

  export interface AccessTokenInstance {
    resourceServer: unknown;
    readonly expiration: number;
    save(): Promise<string>;
  }

  /** What a grant handler registered with registerGrantType receives (a Koa context, typed as far as the tests read it). */
  export interface GrantContext {
    oidc: { params: Record<string, string | undefined>; client: ClientInstance };
    body: unknown;
  }

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
    on(event: string, listener: (...args: any[]) => void): this; // oidc-provider passes a Koa context: typed loosely on purpose
    Grant: new (fields: { accountId: string; clientId: string }) => GrantInstance;
    AccessToken: new (fields: { accountId: string; client: ClientInstance; scope?: string; gty?: string }) => AccessTokenInstance;
    ResourceServer: new (identifier: string, info: { audience: string; scope: string; accessTokenFormat: 'jwt' | 'opaque'; accessTokenTTL: number }) => unknown;
    Client: { find(id: string): Promise<ClientInstance | undefined> };
    registerGrantType(name: string, handler: (ctx: GrantContext) => Promise<void>, params?: string[], dupes?: string[]): void;
    /** Koa middleware around every endpoint (the login provider rewrites token responses with it). */
    use(middleware: (ctx: { path: string; method: string; body: unknown }, next: () => Promise<void>) => Promise<void>): void;
  }
}
