// What an upstream credential is: the config's `credential:` entry (bearer, header,
// client-credentials, or a reference to the sealed store), and the secret forms the store keeps.
import type { z } from 'zod';
import { UpstreamCredentialSchema } from '../config/auth-schema.ts';

export type CredentialConfig = z.output<typeof UpstreamCredentialSchema>;
/** A credential that carries its secret (everything but a `stored` reference). */
export type SecretCredential = Exclude<CredentialConfig, { type: 'stored' }>;
export type SecretType = SecretCredential['type'];

/**
 * Validates a secret credential (CLI input, an unsealed record) with the same schema as the
 * config file, so the store can never hold what the file would refuse. Problems name the field,
 * never its value.
 */
export function parseSecretCredential(value: unknown): { ok: true; credential: SecretCredential } | { ok: false; problems: string[] } {
  const result = UpstreamCredentialSchema.safeParse(value);
  if (!result.success) {
    return { ok: false, problems: result.error.issues.map((issue) => `${issue.path.join('.') || '(credential)'}: ${issue.message}`) };
  }
  if (result.data.type === 'stored') return { ok: false, problems: ['type: a stored credential cannot refer to another one'] };
  return { ok: true, credential: result.data };
}
