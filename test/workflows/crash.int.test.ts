// Durability on real parts: (1) the worker is SIGKILLed while it copies a large multi-layer image and a new worker
// finishes the run, with the bytes copied twice measured and bounded; (2) the Temporal dev server (SQLite file)
// is stopped mid-run and started again, and the run completes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { RegistryClient, headManifest } from '../../src/oci';
import { buildImage, buildIndex, pushImage } from '../../src/dev/sample-images';
import { eventually, startCliWorker, startTestEnvironment, testClient } from '../../src/testing/harness';
import { startPromotion } from '../../src/client/promote';
import { startDevTemporal, type DevTemporal } from '../../src/dev/temporal';
import { progressQuery, type promotionRun } from '../../src/workflows';
import type { PromotionRunInput } from '../../src/contract';

let env: Awaited<ReturnType<typeof startTestEnvironment>>;
let client: Client;
let restarted: DevTemporal | undefined;
const oci = new RegistryClient();
const DESTS = ['prod', 'mirror-a', 'mirror-b'];

before(async () => {
  env = await startTestEnvironment('crash', { registries: ['staging', ...DESTS] });
  client = await testClient(env);
});

after(async () => {
  await client?.connection.close().catch(() => undefined);
  await restarted?.stop();
  await env?.cleanup();
});

function runInput(name: string, image: string, digest: string, phases: PromotionRunInput['phases']): PromotionRunInput {
  return {
    name,
    manifestFiles: ['test'],
    source: { registry: `${env.registries.staging}/staging` },
    destinations: DESTS.map((d) => ({ name: d, registry: `${env.registries[d]}/dest` })),
    phases,
    items: [{ image, digest, tags: ['v1'] }],
    tuning: { heartbeatSeconds: 5 },
  };
}

function files(dir: string, name: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name === name)
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

const storage = (dest: string) => join(env.stateDir, 'registries', dest, 'data', 'docker', 'registry', 'v2');

test('SIGKILL of the worker mid-copy: a new worker resumes and completes; re-copied bytes are bounded', async (t) => {
  const LAYER = 16 << 20;
  const image = buildImage({ seed: 'crash', layers: 6, layerBytes: LAYER, uncompressed: true });
  await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/big' }, image);
  const layers = new Set(image.blobs.slice(1).map((b) => b.digest.slice(7)));
  const total = image.blobs.reduce((n, b) => n + b.size, 0);

  const first = startCliWorker(env);
  await first.ready();
  const handle = await startPromotion(client, runInput('crash', 'big', image.digest, [{ name: 'all', destinations: DESTS, soakSeconds: 0, verify: true, approval: false }]));
  // Kill as soon as some layer is committed somewhere and the copy is not finished.
  const committed = () => DESTS.flatMap((d) => files(join(storage(d), 'blobs'), 'data')).filter((f) => layers.has(f.split('/').at(-2)!)).length;
  await eventually('a layer committed at a destination', async () => committed() > 0, 60_000);
  const before = committed();
  await first.stop('SIGKILL');
  assert.ok(before < layers.size * DESTS.length, `killed mid-copy (${before}/${layers.size * DESTS.length} layer copies done)`);

  const second = startCliWorker(env);
  try {
    const result = await handle.result();
    assert.equal(result.status, 'succeeded', JSON.stringify(result.edges));
    for (const d of DESTS) {
      const got = await headManifest(oci, { registry: env.registries[d]!, repository: 'dest/big' }, 'v1');
      assert.equal(got?.digest, image.digest, d);
    }
    // Bytes copied twice = what the killed attempts had uploaded into sessions that never committed, plus any
    // committed blob uploaded again (the second attempt skips those, so it copies only the rest).
    const partial = DESTS.flatMap((d) => files(join(storage(d), 'repositories'), 'data').filter((f) => f.includes('/_uploads/'))).reduce((n, f) => n + statSync(f).size, 0);
    const secondAttempt = result.edges.reduce((n, e) => n + (e.bytesCopied ?? 0), 0);
    const committedFirst = before * LAYER;
    const recopied = partial + Math.max(0, secondAttempt - (total * DESTS.length - committedFirst));
    t.diagnostic(`image ${(total / 2 ** 20).toFixed(0)} MiB × ${DESTS.length} destinations; layer copies committed before the kill: ${before}; bytes copied twice: ${recopied} (${(recopied / 2 ** 20).toFixed(1)} MiB)`);
    // At most the blobs in flight per destination (the OCI client moves up to 8 at once) can be copied twice.
    assert.ok(recopied <= 8 * (LAYER + 4096) * DESTS.length, `re-copied ${recopied} bytes`);
  } finally {
    await second.stop();
  }
});

test('the Temporal dev server stops mid-run and starts again: the run completes', async () => {
  const image = buildIndex({ seed: 'server-restart' });
  await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/restart' }, image);
  const worker = startCliWorker(env);
  await worker.ready();
  try {
    const handle = await startPromotion(client, runInput('restart', 'restart', image.digest, [
      { name: 'production', destinations: ['prod'], soakSeconds: 4, verify: true, approval: false },
      { name: 'mirrors', destinations: ['mirror-a', 'mirror-b'], soakSeconds: 0, verify: true, approval: false },
    ]));
    await eventually('soaking', async () => (await handle.query(progressQuery)).phases[0]!.status === 'soaking');
    const [, port] = env.temporal!.address.split(':');
    const uiPort = Number(new URL(env.temporal!.uiUrl).port);
    await env.temporalServer!.stop();
    await new Promise((r) => setTimeout(r, 2000));
    restarted = await startDevTemporal({ stateDir: env.stateDir, port: Number(port), uiPort, headless: true });
    await client.connection.close().catch(() => undefined);
    client = await testClient(env);
    const result = await client.workflow.getHandle<typeof promotionRun>(handle.workflowId).result();
    assert.equal(result.status, 'succeeded', JSON.stringify(result.edges));
    assert.deepEqual(result.edges.map((e) => [e.destination, e.status]).sort(), [['mirror-a', 'promoted'], ['mirror-b', 'promoted'], ['prod', 'promoted']]);
  } finally {
    await worker.stop();
  }
});
