// Start-up failures a person can fix, as one line with the fix (no stack trace): another
// Gatehouse on the data directory, a listener that cannot bind, an audit signing key that is not one. Anything else is not explained
// here and goes up as it is.
import { ListenError } from '../http/listen-error.ts';
import { DataDirBusyError } from '../store/data-dir-lock.ts';
import { SigningKeyError } from '../audit/chain/signing-key.ts';

export interface StartContext {
  /** `gatehouse start` or `gatehouse demo` (the prefix of the line). */
  command: string;
  /** How to choose another MCP port: what the user gave, so that the hint does not repeat an option they already used. */
  portHint: string;
  /** How to move the admin listener when its port is set explicitly. */
  adminPortHint: string;
}

/** The line to print for a failure of the start, or undefined when it is not one of these. */
export function explainStartFailure(error: unknown, context: StartContext): string | undefined {
  if (error instanceof DataDirBusyError) return `${context.command}: ${error.message}`;
  if (error instanceof SigningKeyError) return `${context.command}: the audit signing key: ${error.message}; give an Ed25519 private key (e.g. \`openssl genpkey -algorithm ed25519\`), or leave GATEHOUSE_AUDIT_SIGNING_KEY unset to use <dataDir>/audit-signing.key`;
  if (!(error instanceof ListenError)) return undefined;
  const fix =
    error.code === 'EADDRINUSE' || error.code === 'EACCES'
      ? error.listener === 'admin'
        ? context.adminPortHint
        : context.portHint
      : error.listener === 'admin'
        ? 'check admin.host'
        : 'check listen.host (or --host)';
  return `${context.command}: ${error.message}; ${fix}`;
}
