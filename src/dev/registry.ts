// A local registry on 127.0.0.1, one process per registry, storage under the state directory. Two kinds:
//   distribution  CNCF distribution 2.8 (Debian `docker-registry`): one config file each, deletes enabled, optional
//                 htpasswd or token auth; no referrers API (promoflow falls back to the referrers tag schema).
//   referrers     a registry with the OCI 1.1 referrers API (scripts/referrers-registry, built by
//                 scripts/setup.sh --interop): no auth; manifests in memory, blobs on disk.
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort, waitFor } from './ports';
import { startProcess, type ManagedProcess } from './process';
import { toolsBin } from './tools';
import { findExecutable } from './which';

export type RegistryKind = 'distribution' | 'referrers';

export type RegistryAuth =
  | { kind: 'htpasswd'; realm: string; path: string }
  | { kind: 'token'; realm: string; service: string; issuer: string; rootCertBundle: string };

export interface RegistryOptions {
  name: string;
  stateDir: string;
  /** Default distribution. */
  kind?: RegistryKind;
  auth?: RegistryAuth;
  port?: number;
}

export interface LocalRegistry {
  name: string;
  /** host:port, e.g. 127.0.0.1:43121 */
  host: string;
  url: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

function configYaml(addr: string, root: string, auth?: RegistryAuth): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    // Blob descriptors cached in memory (what production deployments configure, often in redis): a HEAD or mount of
    // a known blob no longer walks the filesystem.
    '  cache:',
    '    blobdescriptor: inmemory',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(root)}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${addr}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
  ];
  if (auth?.kind === 'htpasswd') {
    lines.push('auth:', '  htpasswd:', `    realm: ${JSON.stringify(auth.realm)}`, `    path: ${JSON.stringify(auth.path)}`);
  } else if (auth?.kind === 'token') {
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${JSON.stringify(auth.realm)}`,
      `    service: ${JSON.stringify(auth.service)}`,
      `    issuer: ${JSON.stringify(auth.issuer)}`,
      `    rootcertbundle: ${JSON.stringify(auth.rootCertBundle)}`,
    );
  }
  return lines.join('\n') + '\n';
}

/** The newest referrers-registry build in the tools cache (scripts/setup.sh names each by its source hash). */
export function referrersRegistryBinary(): string | undefined {
  const bin = toolsBin();
  if (!existsSync(bin)) return undefined;
  const builds = readdirSync(bin).filter((f) => f.startsWith('referrers-registry-')).map((f) => join(bin, f));
  return builds.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

function command(opts: RegistryOptions, dir: string, host: string): { command: string; args: string[]; env?: NodeJS.ProcessEnv } {
  if (opts.kind === 'referrers') {
    if (opts.auth) throw new Error(`registry ${opts.name}: the referrers kind has no auth; use a distribution registry for auth tests`);
    const bin = referrersRegistryBinary();
    if (!bin) throw new Error('the referrers registry is not built: run scripts/setup.sh --interop (go build of scripts/referrers-registry)');
    return { command: bin, args: ['-address', host, '-blobs', join(dir, 'data')] };
  }
  const bin = findExecutable('docker-registry', ['/usr/bin/docker-registry']);
  if (!bin) throw new Error('docker-registry is not installed: run scripts/setup.sh (Debian package docker-registry)');
  const config = join(dir, 'config.yml');
  writeFileSync(config, configYaml(host, join(dir, 'data'), opts.auth));
  // Go's collector runs a quarter as often (GOGC=400): many registries share a small machine here, and each small
  // request's garbage otherwise costs about a third of its CPU. The heap stays small either way.
  return { command: bin, args: ['serve', config], env: { ...process.env, GOGC: process.env.GOGC ?? '400' } };
}

export async function startRegistry(opts: RegistryOptions): Promise<LocalRegistry> {
  const dir = join(opts.stateDir, 'registries', opts.name);
  mkdirSync(join(dir, 'data'), { recursive: true });
  const port = opts.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;
  const proc = startProcess({ name: `registry-${opts.name}`, ...command(opts, dir, host), stateDir: opts.stateDir, logFile: join(dir, 'registry.log') });
  const url = `http://${host}`;
  try {
    await waitFor(`registry ${opts.name} (${host})`, async () => {
      const r = await fetch(`${url}/v2/`);
      await r.arrayBuffer();
      return r.status === 200 || r.status === 401;
    }, 15_000, proc.exited);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return { name: opts.name, host, url, process: proc, stop: () => proc.stop() };
}
