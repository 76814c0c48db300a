// Child processes of the embedded environment (temporal, docker-registry): started in their own process group,
// tracked in a pid file under the state directory, and stopped on exit, Ctrl-C, SIGTERM or teardown, so that none
// outlives promoflow, even when promoflow itself is SIGKILLed (parent-death signal). A pid file left behind is
// swept at the next start as a last resort.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable } from './which';

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Why the process ended, or undefined while it runs. */
  exited(): string | undefined;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const c of live) killGroup(c, 'SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const c of live) killGroup(c, 'SIGTERM');
      // Let other handlers (a CLI printing its account) run; exit with the conventional code if none do.
      setTimeout(() => process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1)), 3000).unref();
      if (process.listenerCount(sig) === 0) process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

function pidFile(stateDir: string): string {
  return join(stateDir, 'pids');
}

function recordPid(stateDir: string, pid: number, name: string, add: boolean): void {
  const file = pidFile(stateDir);
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  const rest = lines.filter((l) => !l.startsWith(`${pid} `));
  if (add) rest.push(`${pid} ${name}`);
  writeFileSync(file, rest.join('\n') + (rest.length ? '\n' : ''));
}

/** Kill processes recorded by an earlier run of this state directory that did not shut down (SIGKILL, crash). */
export function sweepStale(stateDir: string, binaries: string[]): void {
  const file = pidFile(stateDir);
  if (!existsSync(file)) return;
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const pid = Number.parseInt(line, 10);
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (binaries.some((b) => cmd.includes(b))) process.kill(-pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  writeFileSync(file, '');
}

export function startProcess(opts: { name: string; command: string; args: string[]; stateDir: string; logFile: string; env?: NodeJS.ProcessEnv }): ManagedProcess {
  installHooks();
  mkdirSync(opts.stateDir, { recursive: true });
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  // setpriv --pdeathsig (util-linux) makes the server die with us even when we are SIGKILLed, where no exit hook runs.
  const setpriv = findExecutable('setpriv');
  const [command, args] = setpriv ? [setpriv, ['--pdeathsig', 'SIGTERM', '--', opts.command, ...opts.args]] : [opts.command, opts.args];
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exitReason: string | undefined;
  child.on('error', (e) => (exitReason = e.message));
  child.on('exit', (code, signal) => {
    exitReason = signal ? `killed by ${signal}` : `exit code ${code} (see ${opts.logFile})`;
    live.delete(child);
    if (child.pid !== undefined) recordPid(opts.stateDir, child.pid, opts.name, false);
  });
  if (child.pid === undefined) throw new Error(`cannot start ${opts.name} (${opts.command})`);
  live.add(child);
  recordPid(opts.stateDir, child.pid, opts.name, true);
  const pid = child.pid;
  return {
    name: opts.name,
    pid,
    exited: () => exitReason,
    stop: async () => {
      if (exitReason !== undefined) return;
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      killGroup(child, 'SIGTERM');
      const t = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
      await done;
      clearTimeout(t);
      log.end();
    },
  };
}
