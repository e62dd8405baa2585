// The young generation a long-running Gatehouse gets. Each request's objects (the client's request
// and response, the policy context, the upstream exchange, a federated session's stream events)
// live for one round trip. Under concurrent load, V8's default semi-spaces (16 MiB) are scavenged
// while many round trips are in flight: their objects are promoted and left to the old
// generation's mark-compacts. With 64 MiB they die young. Measured with `npm run bench` (32
// sessions, 2 cores): CPU per `tools/call` 8-27% lower, and a federated call's excess over a
// single-server one from 1.25x to 1.00-1.06x (bench/README.md, "Young generation"); 32 MiB did not help.
//
// V8 sizes its heap when the process starts, so the flag cannot be set from inside: where Node
// can replace the running process with a new one (`process.execve`, Node 22.15+, POSIX), `start`
// and `demo` do that once, with the flag added (same process id, same stdio, same signals). On
// older Node the operator sets it (NODE_OPTIONS, docs/production.md). A value the operator gave
// (command line or NODE_OPTIONS) is left as it is.

export const SEMI_SPACE_FLAG = '--max-semi-space-size';
export const SEMI_SPACE_MB = 64;

/** The commands that serve for long enough for the heap's shape to matter. */
const SERVING_COMMANDS = new Set(['start', 'demo']);

export interface ProcessView {
  /** process.argv: node, the script, then the command and its arguments. */
  argv: readonly string[];
  execArgv: readonly string[];
  nodeOptions: string | undefined;
}

/** The Node flags to add for this invocation, or undefined when nothing is to change. */
export function heapFlagsFor(view: ProcessView): string[] | undefined {
  const command = view.argv.slice(2).find((arg) => !arg.startsWith('-'));
  if (command === undefined || !SERVING_COMMANDS.has(command)) return undefined;
  const given = (flags: readonly string[]) => flags.some((flag) => flag === SEMI_SPACE_FLAG || flag.startsWith(`${SEMI_SPACE_FLAG}=`));
  if (given(view.execArgv) || given((view.nodeOptions ?? '').split(/\s+/))) return undefined;
  return [`${SEMI_SPACE_FLAG}=${SEMI_SPACE_MB}`];
}

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

/**
 * Replaces this process with one that has the tuned young generation (see above), or returns
 * when there is nothing to change or Node cannot (no `process.execve`). Call it before any work:
 * nothing of this process survives.
 */
export function relaunchWithTunedHeap(): void {
  const flags = heapFlagsFor({ argv: process.argv, execArgv: process.execArgv, nodeOptions: process.env.NODE_OPTIONS });
  // process.execve is Node 22.15+ and POSIX only; Node 20's typings do not have it.
  const execve = (process as unknown as { execve?: Execve }).execve;
  if (flags === undefined || typeof execve !== 'function') return;
  execve.call(process, process.execPath, [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)], process.env);
}
