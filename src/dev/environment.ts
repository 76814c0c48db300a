// The embedded default environment: one Temporal dev server and N local registries under one state directory,
// started together and stopped together. Its address book (env.json) lets later CLI commands find it.
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startDevTemporal, type DevTemporal } from './temporal';
import { startRegistry, type LocalRegistry, type RegistryKind } from './registry';
import { sweepStale } from './process';

export interface EnvironmentOptions {
  stateDir: string;
  /** Registry names to start, e.g. ['staging', 'prod', 'mirror-eu', 'mirror-us']. */
  registries: string[];
  /** The kind of some of them (default distribution), e.g. { prod: 'referrers' }. */
  kinds?: Record<string, RegistryKind>;
  temporal?: boolean;
  temporalBinary?: string;
  headless?: boolean;
}

export interface EnvironmentInfo {
  temporal?: { address: string; namespace: string; uiUrl: string };
  registries: Record<string, string>;
}

export interface Environment extends EnvironmentInfo {
  stateDir: string;
  temporalServer?: DevTemporal;
  registryServers: Record<string, LocalRegistry>;
  stop(): Promise<void>;
}

export function envFile(stateDir: string): string {
  return join(stateDir, 'env.json');
}

/** The running embedded environment's addresses, if one was started from this state directory. */
export function readEnvironmentInfo(stateDir: string): EnvironmentInfo | undefined {
  const f = envFile(stateDir);
  if (!existsSync(f)) return undefined;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as EnvironmentInfo;
  } catch {
    return undefined;
  }
}

export async function startEnvironment(opts: EnvironmentOptions): Promise<Environment> {
  const stateDir = resolve(opts.stateDir);
  mkdirSync(stateDir, { recursive: true });
  sweepStale(stateDir, ['temporal', 'docker-registry', 'referrers-registry']);
  const started: Array<{ stop(): Promise<void> }> = [];
  const stopAll = async () => {
    await Promise.allSettled(started.map((s) => s.stop()));
    try {
      writeFileSync(envFile(stateDir), '{}');
    } catch {
      // state dir removed already
    }
  };
  try {
    const [temporalServer, ...regs] = await Promise.all([
      opts.temporal === false ? Promise.resolve(undefined) : startDevTemporal({ stateDir, binary: opts.temporalBinary, headless: opts.headless }).then((t) => (started.push(t), t)),
      ...opts.registries.map((name) => startRegistry({ name, stateDir, kind: opts.kinds?.[name] }).then((r) => (started.push(r), r))),
    ]);
    const registryServers: Record<string, LocalRegistry> = {};
    for (const r of regs as LocalRegistry[]) registryServers[r.name] = r;
    const info: EnvironmentInfo = {
      temporal: temporalServer ? { address: temporalServer.address, namespace: temporalServer.namespace, uiUrl: temporalServer.uiUrl } : undefined,
      registries: Object.fromEntries(Object.values(registryServers).map((r) => [r.name, r.host])),
    };
    writeFileSync(envFile(stateDir), JSON.stringify(info, null, 2));
    return { ...info, stateDir, temporalServer, registryServers, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
