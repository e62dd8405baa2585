// Runs the built CLI's agents/keys commands to completion, keeping stdout (where a new key is
// printed, alone) apart from stderr (messages).
import { spawn } from 'node:child_process';
import { CLI } from './gatehouse.ts';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; an `env` entry set to undefined removes that variable. */
export function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const merged: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete merged[name];
  const child = spawn(process.execPath, [CLI, ...args], { env: merged, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** `gatehouse keys create …`: the new key (stdout) and its id (from the message). */
export async function createKey(config: string, agent: string, extra: string[] = []): Promise<{ key: string; id: string }> {
  const result = await cli(['keys', 'create', '--config', config, '--agent', agent, ...extra]);
  if (result.code !== 0) throw new Error(`keys create failed (${result.code}): ${result.stderr}`);
  const id = /created key (\S+)/.exec(result.stderr)?.[1];
  if (!id) throw new Error(`no key id in: ${result.stderr}`);
  return { key: result.stdout.trim(), id };
}
