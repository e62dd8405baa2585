// The RFC 8693 actor token of `actor: { type: jwt }`: a short-lived JWT Gatehouse signs for each
// exchange, naming the agent as its subject, so that the authorization server can put the agent in
// the issued token's `act` claim. The algorithm follows the key (RS256, PS256, ES256/384/512, EdDSA).
import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

export interface ActorJwtConfig {
  readonly issuer: string;
  readonly privateKey: string;
  readonly keyId?: string | undefined;
  readonly audience?: string | undefined;
  /** ms */
  readonly lifetime: number;
}

export class ActorTokenSigner {
  private readonly key: KeyObject;
  private readonly alg: string;
  private readonly audience: string;

  /** `defaultAudience`: the token endpoint, when the config names no audience. Throws on an unusable key. */
  constructor(
    private readonly config: ActorJwtConfig,
    defaultAudience: string,
  ) {
    this.key = createPrivateKey(config.privateKey);
    this.alg = algorithmFor(this.key);
    this.audience = config.audience ?? defaultAudience;
  }

  sign(agent: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: this.alg, typ: 'JWT', ...(this.config.keyId !== undefined && { kid: this.config.keyId }) })
      .setIssuer(this.config.issuer)
      .setSubject(agent)
      .setAudience(this.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + Math.max(1, Math.ceil(this.config.lifetime / 1000)))
      .setJti(randomUUID())
      .sign(this.key);
  }
}

export function algorithmFor(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'rsa-pss':
      return 'PS256';
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      return curve === 'secp384r1' ? 'ES384' : curve === 'secp521r1' ? 'ES512' : 'ES256';
    }
    case 'ed25519':
      return 'EdDSA';
    default:
      throw new Error(`unsupported private key type ${key.asymmetricKeyType ?? 'unknown'}`);
  }
}
