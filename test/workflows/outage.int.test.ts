// A mirror registry is down for 30 s when the promotion starts: its copy is retried (typed, bounded retries with
// backoff) and completes once the registry is back, while the other destinations finish at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { RegistryClient, headManifest } from '../../src/oci';
import { buildIndex, pushImage } from '../../src/dev/sample-images';
import { eventually, startTestEnvironment, startTestWorker, testClient } from '../../src/testing/harness';
import { startPromotion } from '../../src/client/promote';
import { startRegistry, type LocalRegistry } from '../../src/dev/registry';
import { progressQuery } from '../../src/workflows';

let env: Awaited<ReturnType<typeof startTestEnvironment>>;
let client: Client;
let worker: { stop(): Promise<void> };
let revived: LocalRegistry | undefined;
const oci = new RegistryClient();

before(async () => {
  env = await startTestEnvironment('outage', { registries: ['staging', 'prod', 'mirror'] });
  worker = await startTestWorker(env);
  client = await testClient(env);
});

after(async () => {
  await client?.connection.close();
  await worker?.stop();
  await revived?.stop();
  await env?.cleanup();
});

test('a mirror down for 30 s: retried, then completed; the other destination is not held back', async (t) => {
  const image = buildIndex({ seed: 'outage' });
  await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/app' }, image);
  const mirror = env.registryServers.mirror!;
  const port = Number(mirror.host.split(':')[1]);
  await mirror.stop();
  const started = Date.now();
  const handle = await startPromotion(client, {
    name: 'outage',
    manifestFiles: ['test'],
    source: { registry: `${env.registries.staging}/staging` },
    destinations: [{ name: 'prod', registry: `${env.registries.prod}/prod` }, { name: 'mirror', registry: `${mirror.host}/mirror` }],
    phases: [{ name: 'all', destinations: ['prod', 'mirror'], soakSeconds: 0, verify: true, approval: false }],
    items: [{ image: 'app', digest: image.digest, tags: ['v1'] }],
  });
  // prod completes while the mirror is down.
  await eventually('prod promoted', async () => (await headManifest(oci, { registry: env.registries.prod!, repository: 'prod/app' }, 'v1'))?.digest === image.digest);
  assert.equal((await handle.query(progressQuery)).status, 'running');
  await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - started))));
  revived = await startRegistry({ name: 'mirror', stateDir: env.stateDir, port });
  const result = await handle.result();
  t.diagnostic(`run finished ${((Date.now() - started) / 1000).toFixed(1)} s after start (mirror down for 30 s)`);
  assert.equal(result.status, 'succeeded', JSON.stringify(result.edges));
  assert.equal((await headManifest(oci, { registry: mirror.host, repository: 'mirror/app' }, 'v1'))?.digest, image.digest);
  // The failed attempts are visible in Temporal: the child's history shows the copy's retries.
  const child = client.workflow.getHandle(`${handle.workflowId}/all/app@sha256:${image.digest.slice(7, 19)}`);
  const started2 = (await child.fetchHistory()).events?.filter((e) => e.activityTaskStartedEventAttributes) ?? [];
  assert.ok(started2.some((e) => (e.activityTaskStartedEventAttributes!.attempt ?? 1) > 1), 'the mirror copy was retried');
});
