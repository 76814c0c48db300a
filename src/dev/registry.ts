// A CNCF distribution registry (Debian `docker-registry`) on 127.0.0.1: one process and one config file per
// registry, filesystem storage under the state directory, deletes enabled, optional htpasswd or token auth.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort, waitFor } from './ports';
import { startProcess, type ManagedProcess } from './process';
import { findExecutable } from './which';

export type RegistryAuth =
  | { kind: 'htpasswd'; realm: string; path: string }
  | { kind: 'token'; realm: string; service: string; issuer: string; rootCertBundle: string };

export interface RegistryOptions {
  name: string;
  stateDir: string;
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

export async function startRegistry(opts: RegistryOptions): Promise<LocalRegistry> {
  const bin = findExecutable('docker-registry', ['/usr/bin/docker-registry']);
  if (!bin) throw new Error('docker-registry is not installed: run scripts/setup.sh (Debian package docker-registry)');
  const dir = join(opts.stateDir, 'registries', opts.name);
  mkdirSync(join(dir, 'data'), { recursive: true });
  const port = opts.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;
  const config = join(dir, 'config.yml');
  writeFileSync(config, configYaml(host, join(dir, 'data'), opts.auth));
  const proc = startProcess({ name: `registry-${opts.name}`, command: bin, args: ['serve', config], stateDir: opts.stateDir, logFile: join(dir, 'registry.log') });
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
