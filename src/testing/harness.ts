// Test harness for integration tests: an embedded environment (real Temporal dev server, real registries) in a
// fresh temporary state directory, started once per test file and always torn down, and the promoflow CLI run as
// a child process exactly as a user runs it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startEnvironment, type Environment, type EnvironmentOptions } from '../dev';
import { Client, Connection } from '@temporalio/client';
import { createWorker } from '../worker';
import type { PromotionRunInput } from '../contract';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const CLI = join(REPO_ROOT, 'bin', 'promoflow.js');

/**
 * How to start the CLI: the sources through tsx (bin/, what a developer runs), or `compiled`, the build in dist/ (what
 * the package and the container image run; `npm run build` first). Benchmarks of the product path use the latter.
 */
export function cliEntry(compiled = false): string[] {
  return compiled ? ['-e', `require(${JSON.stringify(join(REPO_ROOT, 'dist', 'client', 'cli.js'))}).run(process.argv.slice(1))`] : [CLI];
}

/** A temporary directory whose name marks it as promoflow's test state (the leftover-process check looks for it). */
export function testStateDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `promoflow-test-${label}-`));
}

export async function startTestEnvironment(label: string, opts: Omit<EnvironmentOptions, 'stateDir'>): Promise<Environment & { cleanup(): Promise<void> }> {
  const stateDir = testStateDir(label);
  const env = await startEnvironment({ ...opts, stateDir, headless: opts.headless ?? true });
  return {
    ...env,
    cleanup: async () => {
      await env.stop();
      if (!process.env.PROMOFLOW_KEEP_TEST_STATE) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `promoflow <args>` as a child process, its output readable while it runs (e.g. to wait for "started"). */
export function spawnCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; compiled?: boolean } = {}): { output(): string; exited: Promise<CliResult>; pid: number } {
  const child = spawn(process.execPath, [...cliEntry(opts.compiled), ...args], { cwd: opts.cwd ?? REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  const exited = new Promise<CliResult>((resolvePromise) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    }),
  );
  return { output: () => stdout + stderr, exited, pid: child.pid! };
}

/** Run `promoflow <args>` as a child process; resolves when it exits. */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return spawnCli(args, opts).exited;
}

/** Start `promoflow worker` as a child process against the environment's Temporal; returns a stopper. */
export function startCliWorker(
  env: Environment,
  extraArgs: string[] = [],
  /** `compiled`: run the compiled CLI (dist/, as the Docker image does) instead of the sources through tsx; `env`: extra environment. */
  opts: { compiled?: boolean; env?: NodeJS.ProcessEnv } = {},
): { stop(signal?: NodeJS.Signals): Promise<number | null>; ready(timeoutMs?: number): Promise<void>; output(): string; pid: number } {
  const child = spawn(process.execPath, [...cliEntry(opts.compiled), 'worker', '--temporal-address', env.temporal!.address, ...extraArgs], { cwd: REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    pid: child.pid!,
    output: () => out,
    // The worker prints this once its workflow bundle is built and it polls: before that, queries would fail.
    ready: (timeoutMs = 120_000) => eventually('the worker polling', async () => out.includes('promoflow worker: polling'), timeoutMs).then(() => undefined),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** An in-process worker against the environment's Temporal (bundles workflow code once per process). */
export async function startTestWorker(env: Environment, opts: { taskQueue?: string } = {}): Promise<{ stop(): Promise<void> }> {
  const { worker, connection } = await createWorker({ address: env.temporal!.address, taskQueue: opts.taskQueue });
  const running = worker.run();
  return {
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
    },
  };
}

/** A Temporal client for the environment. */
export async function testClient(env: Environment) {
  const connection = await Connection.connect({ address: env.temporal!.address });
  return new Client({ connection, namespace: env.temporal!.namespace });
}

/** Poll until `fn` returns a truthy value (or fail after `timeoutMs`). */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The run input most workflow tests use: staging → `production` (prod) → `mirrors` (mirror), tags v1, on an
 * environment started with registries staging, prod and mirror.
 */
export function twoPhaseRun(
  env: Environment,
  name: string,
  images: Array<{ name: string; digest: string }>,
  opts: { approval?: boolean; soakSeconds?: number; concurrency?: number } = {},
): PromotionRunInput {
  return {
    name,
    manifestFiles: ['test'],
    source: { registry: `${env.registries.staging}/staging` },
    destinations: [
      { name: 'prod', registry: `${env.registries.prod}/prod` },
      { name: 'mirror', registry: `${env.registries.mirror}/mirror` },
    ],
    phases: [
      { name: 'production', destinations: ['prod'], soakSeconds: opts.soakSeconds ?? 0, verify: true, approval: opts.approval ?? false },
      { name: 'mirrors', destinations: ['mirror'], soakSeconds: 0, verify: true, approval: false },
    ],
    items: images.map((i) => ({ image: i.name, digest: i.digest, tags: ['v1'] })),
    concurrency: opts.concurrency ?? 4,
  };
}
