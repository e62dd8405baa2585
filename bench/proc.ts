// Process CPU accounting from /proc (Linux), plus a description of the machine.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';

let clockTicks: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`), usually 100. */
export function clkTck(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * utime+stime of a process in clock ticks, all its threads included (GC, libuv pool).
 * Parses after the last ')' since the command name may contain spaces or parentheses.
 */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after ')' start at field 3 (state); utime is field 14, stime field 15.
  return Number(fields[14 - 3]) + Number(fields[15 - 3]);
}

/** Resident set size of a process, e.g. "85 MiB" ("?" if unreadable). */
export function rssMiB(pid: number): string {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? `${(Number(match[1]) / 1024).toFixed(0)} MiB` : '?';
  } catch {
    return '?';
  }
}

/** Direct children spawned by a process's main thread (where node spawns them). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const line of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)) {
      if (line) out.push(Number(line));
    }
  } catch {
    // process gone or no children file
  }
  return out;
}

/** The 1/5/15-minute load averages: anything above ~0 before the run is other work competing. */
export function loadAverage(): string {
  return `load:    ${os.loadavg().map((v) => v.toFixed(2)).join(' / ')} (1/5/15 min)`;
}

/** CPU model, core count, node version and date, one line each. */
export function machineDescription(): string[] {
  let model = os.cpus()[0]?.model ?? 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) model = match[1].trim();
  } catch {
    // keep os.cpus() model
  }
  return [
    `date:    ${new Date().toISOString()}`,
    `cpu:     ${model}`,
    `nproc:   ${os.availableParallelism()}`,
    `memory:  ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `node:    ${process.version}`,
    `os:      ${os.type()} ${os.release()}`,
    `CLK_TCK: ${clkTck()}`,
    loadAverage(),
  ];
}
