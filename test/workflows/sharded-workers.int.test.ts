// Many workers on one sharded run, with real registries: three `promoflow worker` processes share the task queue
// and the state store; one is SIGKILLed while batches are in flight. Its batches are retried on the others after
// the heartbeat timeout, and the run completes with every edge accounted exactly once and present at its
// destination.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { RegistryClient, headManifest } from '../../src/oci';
import { mapLimit } from '../../src/oci/limits';
import { buildImage, pushImage } from '../../src/dev/sample-images';
import { eventually, startCliWorker, startTestEnvironment, testClient } from '../../src/testing/harness';
import { readAccount } from '../../src/activities/sharded';
import { startShardedRun, storeRun } from '../../src/client/sharded-start';
import { EDGE_OUTCOMES } from '../../src/contract';
import type { RunBundle } from '../../src/contract/bundle';
import { FsStateStore } from '../../src/state/store';
import { runProgressQuery } from '../../src/contract';

let env: Awaited<ReturnType<typeof startTestEnvironment>>;
let client: Client;
const workers: Array<ReturnType<typeof startCliWorker>> = [];
const oci = new RegistryClient();

before(async () => {
  env = await startTestEnvironment('workers', { registries: ['staging', 'prod', 'mirror'] });
  // Inherited by the worker processes: the one store every worker reads bundles from and writes accounts to.
  process.env.PROMOFLOW_STATE_STORE = join(env.stateDir, 'store');
  for (let i = 0; i < 3; i++) workers.push(startCliWorker(env, ['--concurrency', '4']));
  await Promise.all(workers.map((w) => w.ready()));
  client = await testClient(env);
});

after(async () => {
  await client?.connection.close();
  for (const w of workers) await w.stop();
  await env?.cleanup();
});

test('three workers, one SIGKILLed mid-run: the run completes and every edge is accounted once and present', async () => {
  const images = await mapLimit(Array.from({ length: 40 }, (_, i) => i), 8, async (i) => {
    const img = buildImage({ seed: `workers-${i}`, layerBytes: 64 * 1024 });
    await pushImage(oci, { registry: env.registries.staging!, repository: `staging/app${i}` }, img);
    return { image: `app${i}`, digest: img.digest };
  });
  const bundle: RunBundle = {
    version: 1,
    name: 'workers',
    manifestFiles: ['test'],
    source: { registry: `${env.registries.staging}/staging` },
    destinations: [{ name: 'prod', registry: `${env.registries.prod}/prod` }, { name: 'mirror', registry: `${env.registries.mirror}/mirror` }],
    phases: [{ name: 'all', destinations: ['prod', 'mirror'], soakSeconds: 0, verify: true, approval: false }],
    items: images.map((i) => ({ ...i, tags: ['v1'] })),
  };
  const store = new FsStateStore(process.env.PROMOFLOW_STATE_STORE!);
  const input = await storeRun(store, bundle, { window: 4, batchWindow: 2, batchEdges: 4, shardEdges: 20, heartbeatSeconds: 5 });
  const handle = await startShardedRun(client, input);
  await eventually('some edges done', async () => (await handle.query(runProgressQuery)).done > 0, 120_000);
  await workers[0]!.stop('SIGKILL');
  const r = await handle.result();
  assert.equal(r.status, 'succeeded', JSON.stringify(r.failures));
  const ok = r.totals[EDGE_OUTCOMES.indexOf('promoted')]! + r.totals[EDGE_OUTCOMES.indexOf('present')]!;
  assert.equal(ok, 80);
  const seen = new Set<string>();
  for await (const e of readAccount(store, r.account!)) {
    const key = `${e.image}|${e.destination}`;
    assert.ok(!seen.has(key), `${key} once`);
    seen.add(key);
  }
  assert.equal(seen.size, 80);
  for (const { image, digest } of images) {
    assert.ok(await headManifest(oci, { registry: env.registries.prod!, repository: `prod/${image}` }, digest), `${image} at prod`);
    assert.ok(await headManifest(oci, { registry: env.registries.mirror!, repository: `mirror/${image}` }, 'v1'), `${image}:v1 at mirror`);
  }
});
