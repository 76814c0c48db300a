// Locating and running the real cosign binaries for interop tests (built by the set-up script into the tools
// cache). Tests skip, naming the missing path, when a binary is not there yet.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toolsBin } from './tools';

export const COSIGN_VERSIONS = ['v2.6.4', 'v3.1.2'] as const;

export function cosignPath(version: string): string {
  return join(toolsBin(), `cosign-${version}`);
}

/** Path of the binary, or a skip message for node:test's `skip` option. */
export function findCosign(version: string): { bin: string; skip: false } | { bin: undefined; skip: string } {
  const p = cosignPath(version);
  return existsSync(p) ? { bin: p, skip: false } : { bin: undefined, skip: `cosign ${version} not built yet (${p} missing; run scripts/setup.sh)` };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run cosign offline: no TUF fetches from the user's home, no experimental prompts, bounded time. */
export function runCosign(bin: string, args: string[], opts: { env?: Record<string, string>; cwd?: string; home: string; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      bin,
      args,
      {
        cwd: opts.cwd,
        timeout: opts.timeoutMs ?? 60_000,
        env: { PATH: process.env.PATH ?? '', HOME: opts.home, TUF_ROOT: join(opts.home, '.sigstore', 'root'), COSIGN_YES: 'true', ...opts.env },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as unknown as { code: number }).code) : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}
