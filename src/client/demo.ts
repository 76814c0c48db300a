// `promoflow demo`: the README's main job on the embedded default. Starts a local Temporal dev server and four
// registries (staging, prod, two mirrors), a worker, builds a multi-platform sample image into staging, promotes
// it in phases (production, a canary mirror, a short soak, the other mirror), signed and attested with a key pair
// kept in the state directory, through the same code path as `promoflow promote --confirm`, then proves the result
// with tools no one here wrote (skopeo inspect --raw, temporal workflow list, cosign when built) and shuts
// everything down (or keeps it up with --keep).
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startEnvironment, type Environment } from '../dev';
import { RegistryClient } from '../oci';
import { buildIndex, pushImage } from '../dev';
import { findCosign, runCosign } from '../dev';
import { loadOrCreateKeyPair } from '../signing';
import { workerForEnvironment } from './worker-command';
import { CliError, EXIT } from './exit-codes';
import { runPromote, type Io } from './promote';

const run = promisify(execFile);

/** The demo's key pair, created on first run in the state directory; its password is kept beside it (0600). */
async function demoKeys(stateDir: string): Promise<{ keyPath: string; pubPath: string; created: boolean }> {
  const dir = join(stateDir, 'keys');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pwFile = join(dir, 'password');
  if (!existsSync(pwFile)) writeFileSync(pwFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
  // The in-process worker reads it from its environment, as a production worker reads COSIGN_PASSWORD.
  process.env.COSIGN_PASSWORD ??= readFileSync(pwFile, 'utf8');
  const k = await loadOrCreateKeyPair(dir, process.env.COSIGN_PASSWORD);
  return { keyPath: k.keyPath, pubPath: k.pubPath, created: k.created };
}

export interface DemoOptions {
  stateDir: string;
  keep: boolean;
}

export function demoManifest(env: { registries: Record<string, string> }, digest: string, keyPath: string): string {
  const r = env.registries;
  return `# Written by \`promoflow demo\`: a multi-platform image promoted from staging to production, then to a canary
# mirror, then (after a short soak) to the remaining mirror; signed and attested once, verified everywhere.
apiVersion: promoflow.dev/v1alpha1
kind: Promotion
metadata:
  name: demo
source:
  registry: ${r.staging}/staging
destinations:
  - name: prod
    registry: ${r.prod}/prod
    canonical: true
  - name: mirror-eu
    registry: ${r['mirror-eu']}/mirror
    region: europe-west1
  - name: mirror-us
    registry: ${r['mirror-us']}/mirror
    region: us-east1
phases:
  - name: production
    destinations: [prod]
  - name: canary
    destinations: [mirror-eu]
    soak: 5s
  - name: mirrors
    destinations: [mirror-us]
signing:
  key: file://${keyPath}
  attest: true
images:
  - name: sample
    dmap:
      "${digest}": ["v1.0.0", "latest"]
`;
}

async function skopeoDigest(ref: string): Promise<string> {
  const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { encoding: 'buffer', maxBuffer: 8 << 20 });
  return `sha256:${createHash('sha256').update(stdout).digest('hex')}`;
}

export async function runDemo(opts: DemoOptions, io: Io): Promise<number> {
  io.stderr('promoflow demo: starting the embedded environment (Temporal dev server + 4 registries)…');
  let env: Environment;
  try {
    env = await startEnvironment({ stateDir: opts.stateDir, registries: ['staging', 'prod', 'mirror-eu', 'mirror-us'] });
  } catch (e) {
    throw new CliError(`cannot start the embedded environment: ${(e as Error).message}`, EXIT.UNAVAILABLE);
  }
  const { worker, connection } = await workerForEnvironment(env);
  const running = worker.run();
  try {
    io.stderr(`  Temporal ${env.temporal!.address} · Web UI ${env.temporal!.uiUrl}`);
    for (const [n, h] of Object.entries(env.registries)) io.stderr(`  registry ${n}: ${h}`);
    const keys = await demoKeys(env.stateDir);
    io.stderr(`  signing key: ${keys.keyPath} (${keys.created ? 'created' : 'reused'}; public key ${keys.pubPath})`);
    const image = buildIndex({ seed: 'promoflow-demo-sample' });
    await pushImage(new RegistryClient(), { registry: env.registries.staging!, repository: 'staging/sample' }, image, ['v1.0.0']);
    io.stderr(`  built and pushed ${env.registries.staging}/staging/sample@${image.digest} (linux/amd64 + linux/arm64)`);
    const dir = join(env.stateDir, 'demo');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'promotion.yaml');
    writeFileSync(file, demoManifest(env, image.digest, keys.keyPath));
    io.stderr(`  manifest: ${file}`);
    const code = await runPromote({ file, confirm: true, wait: true, json: false, stateDir: env.stateDir }, io);

    io.stdout('\nverification with skopeo inspect --raw (sha256 of the bytes each registry serves):');
    for (const [name, prefix] of [['prod', `${env.registries.prod}/prod`], ['mirror-eu', `${env.registries['mirror-eu']}/mirror`], ['mirror-us', `${env.registries['mirror-us']}/mirror`]] as const) {
      const got = await skopeoDigest(`${prefix}/sample@${image.digest}`).catch((e: Error) => `error: ${e.message.split('\n')[0]}`);
      io.stdout(`  ${got === image.digest ? '✓' : '✗'} ${name}: ${prefix}/sample@${image.digest} → ${got}`);
    }
    const list = await run(env.temporalServer!.binary, ['workflow', 'list', '--address', env.temporal!.address, '--namespace', env.temporal!.namespace, '--limit', '5'])
      .then((r) => r.stdout.trimEnd())
      .catch((e: Error) => `error: ${e.message.split('\n')[0]}`);
    io.stdout(`\ntemporal workflow list --address ${env.temporal!.address}:\n${list}`);
    const refs = (['prod', 'mirror-eu', 'mirror-us'] as const).map((n) => `${env.registries[n]}/${n === 'prod' ? 'prod' : 'mirror'}/sample@${image.digest}`);
    io.stdout(`\nverify any destination with the real cosign (while the environment is up: demo --keep):`);
    for (const ref of refs) {
      io.stdout(`  cosign verify --key ${keys.pubPath} --insecure-ignore-tlog=true --allow-insecure-registry ${ref}`);
      io.stdout(`  cosign verify-attestation --key ${keys.pubPath} --insecure-ignore-tlog=true --allow-insecure-registry --type slsaprovenance1 ${ref}`);
    }
    const cosign = findCosign('v2.6.4');
    if (cosign.bin) {
      const r = await runCosign(cosign.bin, ['verify', '--key', keys.pubPath, '--insecure-ignore-tlog=true', '--allow-insecure-registry', refs[2]!], { home: env.stateDir });
      io.stdout(`  ran it: cosign v2.6.4 verify ${refs[2]}: ${r.code === 0 ? 'Verified OK' : `FAILED: ${r.stderr.trim().split('\n').at(-1)}`}`);
    }
    if (opts.keep) {
      io.stdout(`\nThe environment stays up: open ${env.temporal!.uiUrl} . Press Ctrl-C to stop it.`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    }
    return code;
  } finally {
    worker.shutdown();
    await running.catch(() => undefined);
    await connection.close();
    await env.stop();
    io.stderr('promoflow demo: environment stopped.');
  }
}
