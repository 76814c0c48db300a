// The CLI outlives Temporal: `promote --confirm` and `watch`, waiting on a run, see the Temporal dev server stop and
// start again, re-attach and exit 0 with the account; `status` reads the run afterwards. With Temporal gone for
// longer than PROMOFLOW_RECONNECT_SECONDS the waiting CLI exits 3 (unavailable), naming the workflow ID: never 1.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryClient } from '../../src/oci';
import { buildImage, pushImage } from '../../src/dev/sample-images';
import { eventually, runCli, spawnCli, startCliWorker, startTestEnvironment } from '../../src/testing/harness';
import { startDevTemporal, type DevTemporal } from '../../src/dev/temporal';
import { EXIT } from '../../src/client/exit-codes';

let env: Awaited<ReturnType<typeof startTestEnvironment>>;
let worker: ReturnType<typeof startCliWorker>;
let temporal: DevTemporal | undefined;

before(async () => {
  env = await startTestEnvironment('reattach', { registries: ['staging', 'prod', 'mirror'] });
  temporal = env.temporalServer;
  worker = startCliWorker(env);
  await worker.ready();
});

after(async () => {
  await worker?.stop();
  if (temporal !== env?.temporalServer) await temporal?.stop();
  await env?.cleanup();
});

function manifest(name: string, digest: string, soak: string): string {
  const file = join(env.stateDir, `${name}.yaml`);
  writeFileSync(
    file,
    `apiVersion: promoflow.dev/v1alpha1
kind: Promotion
metadata: {name: ${name}}
source: {registry: "${env.registries.staging}/staging"}
destinations:
  - {name: prod, registry: "${env.registries.prod}/prod", canonical: true}
  - {name: mirror, registry: "${env.registries.mirror}/mirror"}
phases:
  - {name: production, destinations: [prod], soak: ${soak}}
  - {name: mirrors, destinations: [mirror]}
images:
  - name: ${name}
    dmap: {"${digest}": ["v1"]}
`,
  );
  return file;
}

async function restartTemporal(downMs: number): Promise<void> {
  const port = Number(env.temporal!.address.split(':')[1]);
  const uiPort = Number(new URL(env.temporal!.uiUrl).port);
  await temporal!.stop();
  // The outage itself is what is under test: Temporal stays down this long.
  await new Promise((r) => setTimeout(r, downMs));
  temporal = await startDevTemporal({ stateDir: env.stateDir, port, uiPort, headless: true });
}

const address = () => ['--temporal-address', env.temporal!.address];
const startedId = (out: string) => /promoflow: started (\S+)/.exec(out)?.[1];

test('promote --confirm and watch wait through a 25 s Temporal outage and restart, re-attach and exit 0; status reads the run', async () => {
  const image = buildImage({ seed: 'reattach' });
  await pushImage(new RegistryClient(), { registry: env.registries.staging!, repository: 'staging/survivor' }, image);
  const promote = spawnCli(['promote', '-f', manifest('survivor', image.digest, '20s'), '--confirm', ...address()], { timeoutMs: 180_000 });
  const id = await eventually('the run started', async () => startedId(promote.output()), 60_000);
  const watch = spawnCli(['watch', id, '--interval', '0.5', ...address()], { timeoutMs: 180_000 });
  await eventually('watch following the soak', async () => watch.output().includes('soaking'), 60_000);
  // Longer than the SDK's own gRPC retries (about 20 s), which is what the CLI used to rely on.
  await restartTemporal(25_000);
  const [p, w] = await Promise.all([promote.exited, watch.exited]);
  assert.equal(p.code, EXIT.OK, p.stdout + p.stderr);
  assert.equal(w.code, EXIT.OK, w.stdout + w.stderr);
  assert.match(p.stdout, /SUCCEEDED/);
  assert.match(w.stdout, /SUCCEEDED/);
  assert.match(p.stderr + w.stderr, /Temporal at 127\.0\.0\.1:\d+ is unavailable while/, 'the outage was seen and ridden out');
  const s = await runCli(['status', id, ...address()]);
  assert.equal(s.code, EXIT.OK, s.stdout + s.stderr);
  assert.match(s.stdout, /SUCCEEDED/);
});

test('Temporal gone for longer than the reconnect window: the waiting CLI exits 3 naming the workflow ID', async () => {
  const image = buildImage({ seed: 'reattach-gone' });
  await pushImage(new RegistryClient(), { registry: env.registries.staging!, repository: 'staging/orphan' }, image);
  const promote = spawnCli(['promote', '-f', manifest('orphan', image.digest, '60s'), '--confirm', ...address()], { env: { PROMOFLOW_RECONNECT_SECONDS: '4' }, timeoutMs: 120_000 });
  const id = await eventually('the run started', async () => startedId(promote.output()), 60_000);
  const port = Number(env.temporal!.address.split(':')[1]);
  const uiPort = Number(new URL(env.temporal!.uiUrl).port);
  await temporal!.stop();
  const r = await promote.exited;
  temporal = await startDevTemporal({ stateDir: env.stateDir, port, uiPort, headless: true });
  assert.equal(r.code, EXIT.UNAVAILABLE, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`unavailable for \\d+ s while waiting for ${id.replace(/[/+]/g, '\\$&')}.*promoflow status ${id.replace(/[/+]/g, '\\$&')}`));
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
