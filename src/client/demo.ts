// `promoflow demo`: the README's main job on the embedded default. Starts a local Temporal dev server and four
// registries (staging, prod, two mirrors), a worker, builds a multi-platform sample image into staging, promotes
// it through the same code path as `promoflow promote --confirm`, then proves the result with tools no one here
// wrote (skopeo inspect --raw, temporal workflow list) and shuts everything down (or keeps it up with --keep).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startEnvironment, type Environment } from '../dev/environment';
import { RegistryClient } from '../oci';
import { buildIndex, pushImage } from '../testing/image-builder';
import { createWorker } from '../worker/worker';
import { CliError, EXIT } from './exit-codes';
import { runPromote, type Io } from './promote';

const run = promisify(execFile);

export interface DemoOptions {
  stateDir: string;
  keep: boolean;
}

export function demoManifest(env: { registries: Record<string, string> }, digest: string): string {
  const r = env.registries;
  return `# Written by \`promoflow demo\`: a multi-platform image promoted from staging to production, then to a canary
# mirror, then (after a short soak) to the remaining mirror.
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
  - name: mirrors
    destinations: [mirror-eu, mirror-us]
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
  const { worker, connection } = await createWorker({ address: env.temporal!.address, namespace: env.temporal!.namespace });
  const running = worker.run();
  try {
    io.stderr(`  Temporal ${env.temporal!.address} · Web UI ${env.temporal!.uiUrl}`);
    for (const [n, h] of Object.entries(env.registries)) io.stderr(`  registry ${n}: ${h}`);
    const image = buildIndex({ seed: 'promoflow-demo-sample' });
    await pushImage(new RegistryClient(), { registry: env.registries.staging!, repository: 'staging/sample' }, image, ['v1.0.0']);
    io.stderr(`  built and pushed ${env.registries.staging}/staging/sample@${image.digest} (linux/amd64 + linux/arm64)`);
    const dir = join(env.stateDir, 'demo');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'promotion.yaml');
    writeFileSync(file, demoManifest(env, image.digest));
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
