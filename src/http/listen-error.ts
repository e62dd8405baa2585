// A listener that could not bind its address: an ordinary start-up failure with a message a
// person can act on in one line. `code` keeps the system's code (EADDRINUSE, …) for callers
// that suggest a fix.

export type ListenerName = 'mcp' | 'admin';

export class ListenError extends Error {
  readonly code: string | undefined;

  constructor(
    readonly listener: ListenerName,
    readonly host: string,
    readonly port: number,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException).code;
    const what = listener === 'admin' ? 'admin listener' : 'MCP listener';
    super(`${what}: cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port}: ${reason(code, cause)}`, { cause });
    this.code = code;
  }

  get portInUse(): boolean {
    return this.code === 'EADDRINUSE';
  }
}

function reason(code: string | undefined, cause: unknown): string {
  switch (code) {
    case 'EADDRINUSE':
      return 'the port is in use (EADDRINUSE)';
    case 'EACCES':
      return 'permission denied (EACCES; ports below 1024 need privileges)';
    case 'EADDRNOTAVAIL':
      return 'this machine has no such address (EADDRNOTAVAIL)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name does not resolve (${code})`;
    default:
      return code ?? (cause instanceof Error ? cause.message : String(cause));
  }
}
