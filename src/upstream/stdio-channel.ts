// A stdio MCP server as a message channel: one child process, newline-delimited JSON-RPC on
// stdin/stdout, stderr captured into the log under the server's name.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from '../log.ts';
import type { JsonRpcMessage } from '../mcp/jsonrpc.ts';
import type { MessageChannel } from './channel.ts';
import { decodeUpstreamMessage } from './decode-message.ts';
import { StderrLog, type StderrDropped, type StderrLimits } from './stderr-log.ts';
import type { ChildSlots } from './child-slots.ts';
import { GatehouseError } from '../errors.ts';

export interface StdioServerConfig {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string | undefined;
}

// Gatehouse's own environment (session key, credentials) is not passed to children: only what
// a program needs to run, plus the server's configured env.
const INHERITED_ENV = ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER', 'LANG', 'TMPDIR', 'SYSTEMROOT', 'APPDATA', 'USERPROFILE', 'NODE_EXTRA_CA_CERTS'];

export function childEnv(configured: Readonly<Record<string, string>>, parent: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = parent[name];
    if (value !== undefined && !value.startsWith('()')) env[name] = value;
  }
  return { ...env, ...configured };
}

export class StdioChannel implements MessageChannel {
  onmessage: ((message: JsonRpcMessage) => void) | undefined;
  onclose: ((reason: string) => void) | undefined;
  private child: ChildProcessWithoutNullStreams | undefined;
  private closed = false;
  private stdoutBuffer = '';
  private readonly stderr: StderrLog;
  /** Holds one of the server's child slots from start until the child has exited. */
  private slotHeld = false;

  constructor(
    private readonly config: StdioServerConfig,
    private readonly log: Logger,
    private readonly maxLineBytes: number,
    stderr: { limits: StderrLimits; dropped: StderrDropped },
    private readonly maxJsonDepth = 128,
    /** The server's maxChildren, shared by everything that starts its children. */
    private readonly slots?: ChildSlots,
  ) {
    this.stderr = new StderrLog(log, stderr.limits, stderr.dropped);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): Promise<void> {
    if (this.slots) {
      if (!this.slots.take()) {
        return Promise.reject(new GatehouseError('GH_TOO_MANY_SESSIONS', `Server "${this.slots.server}" already runs ${this.slots.limit} children (its maxChildren)`));
      }
      this.slotHeld = true;
    }
    return new Promise((resolve, reject) => {
      const child = spawn(this.config.command, [...this.config.args], {
        env: childEnv(this.config.env),
        cwd: this.config.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      });
      this.child = child;
      child.once('spawn', () => {
        this.log.debug({ pid: child.pid }, 'started stdio server');
        resolve();
      });
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (child.pid === undefined) {
          this.releaseSlot();
          reject(new Error(`could not start "${this.config.command}": ${error.code ?? error.message}`));
        } else this.log.warn({ err: error.message }, 'stdio server error');
      });
      child.once('exit', (code, signal) => {
        this.releaseSlot();
        this.finish(signal ? `killed by ${signal}` : `exited with code ${code}`);
      });
      child.stdin.on('error', () => undefined); // EPIPE after the child died: the exit handler reports it
      const out = new StringDecoder('utf8');
      child.stdout.on('data', (chunk: Buffer) => this.onStdout(out.write(chunk)));
      child.stderr.on('data', (chunk: Buffer) => this.stderr.write(chunk));
      // After the exit event, the pipe may still hold output: the last line is logged at its end.
      child.stderr.once('end', () => this.stderr.close());
    });
  }

  send(message: JsonRpcMessage): void {
    if (this.closed || !this.child) throw new Error('stdio server is not running');
    this.child.stdin.write(JSON.stringify(message) + '\n');
  }

  /** Per the MCP stdio shutdown sequence: close stdin, then SIGTERM, then SIGKILL. */
  close(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.finish('closed');
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const term = setTimeout(() => child.kill('SIGTERM'), 2000);
      const kill = setTimeout(() => child.kill('SIGKILL'), 4000);
      child.once('exit', () => {
        clearTimeout(term);
        clearTimeout(kill);
        resolve();
      });
      child.stdin.end();
    });
  }

  private onStdout(text: string): void {
    this.stdoutBuffer += text;
    let newline: number;
    while ((newline = this.stdoutBuffer.indexOf('\n')) !== -1) {
      const line = this.stdoutBuffer.slice(0, newline).replace(/\r$/, '');
      this.stdoutBuffer = this.stdoutBuffer.slice(newline + 1);
      if (line.trim() !== '') this.onLine(line);
    }
    if (this.stdoutBuffer.length > this.maxLineBytes) {
      this.log.error({ limit: this.maxLineBytes }, 'stdio server sent a message larger than limits.maxResponseBytes; stopping it');
      this.stdoutBuffer = '';
      this.child?.kill('SIGKILL');
    }
  }

  private onLine(line: string): void {
    const decoded = decodeUpstreamMessage(line, this.maxJsonDepth);
    if (decoded.ok) this.onmessage?.(decoded.message);
    else this.log.warn({ reason: decoded.problem, line: line.slice(0, 200) }, 'stdio server wrote a line that is no JSON-RPC message Gatehouse can relay');
  }

  private releaseSlot(): void {
    if (!this.slotHeld) return;
    this.slotHeld = false;
    this.slots?.release();
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.(reason);
  }
}
