// The data directory lock: held by one process at a time, named in the refusal, and released by
// the operating system when its holder dies, however it dies (no stale lock after a crash).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataDirBusyError, DataDirLock } from './data-dir-lock.ts';

test('a lock held by another process is refused naming its pid, and is free again once that process is killed with SIGKILL', { timeout: 60_000 }, async () => {
  const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'gatehouse-lock-')), 'data');
  const module = new URL('./data-dir-lock.ts', import.meta.url).href;
  const holder = spawn(process.execPath, ['--import', 'tsx', '-e', `import(${JSON.stringify(module)}).then((m) => { m.DataDirLock.acquire(${JSON.stringify(dataDir)}); console.log('held'); setInterval(() => {}, 1000); })`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.setEncoding('utf8').on('data', (d: string) => d.includes('held') && resolve());
      holder.once('exit', (code) => reject(new Error(`the holder exited (${code}) before taking the lock`)));
    });
    assert.throws(() => DataDirLock.acquire(dataDir), (error: unknown) => error instanceof DataDirBusyError && error.pid === holder.pid && error.message.includes(`in use by another running Gatehouse (pid ${holder.pid})`));
  } finally {
    holder.kill('SIGKILL');
    await exited;
  }
  const lock = DataDirLock.acquire(dataDir);
  assert.throws(() => DataDirLock.acquire(dataDir), (error: unknown) => error instanceof DataDirBusyError && error.pid === process.pid, 'a second holder in the same process is refused too');
  lock.release();
  DataDirLock.acquire(dataDir).release();
});
