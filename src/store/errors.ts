// Errors the stores raise for broken constraints, the same for every backend, so callers (the
// CLI, the admin API) can answer "already exists" without knowing which database is behind.

export type ConstraintReason = 'duplicate' | 'missing-reference';

export class StoreConstraintError extends Error {
  override readonly name = 'StoreConstraintError';

  constructor(
    message: string,
    readonly reason: ConstraintReason,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Runs `fn`; a constraint error of the driver (classified by `classify`) becomes a StoreConstraintError. */
export async function guarded<T>(
  what: string,
  classify: (err: unknown) => ConstraintReason | undefined,
  fn: () => T | Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const reason = classify(err);
    if (reason === undefined) throw err;
    const text = reason === 'duplicate' ? `${what} already exists` : `${what} refers to a record that does not exist`;
    throw new StoreConstraintError(text, reason, { cause: err });
  }
}

/** The `code` property drivers put on their errors, if any. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
