// The worker's Prometheus endpoint on a real dev server and real registries: `promoflow worker --metrics-port`
// serves Temporal's runtime metrics and promoflow's own (bytes copied, edges by outcome, phase durations), and the
// values match the run's account.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { RegistryClient } from '../../src/oci';
import { buildIndex, pushImage } from '../../src/dev/sample-images';
import { eventually, startCliWorker, startTestEnvironment, testClient, twoPhaseRun } from '../../src/testing/harness';
import { freePort } from '../../src/dev/ports';
import { startPromotion } from '../../src/client/promote';

let env: Awaited<ReturnType<typeof startTestEnvironment>>;
let worker: ReturnType<typeof startCliWorker> | undefined;
let client: Client;
let port: number;

before(async () => {
  env = await startTestEnvironment('metrics', { registries: ['staging', 'prod', 'mirror'] });
  port = await freePort();
  // --queue-rps: the server-side task-queue activity rate is accepted by a real worker (far above this test's needs).
  worker = startCliWorker(env, ['--metrics-port', String(port), '--queue-rps', '200']);
  client = await testClient(env);
});

after(async () => {
  await client?.connection.close();
  await worker?.stop();
  await env?.cleanup();
});

/** Sum of the samples of `name` whose labels include every label in `where`. */
function sample(text: string, name: string, where: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? ([^ ]+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(where).every(([k, v]) => labels[k] === v)) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

test('promoflow worker --metrics-port: runtime metrics and promoflow counters with the run’s values', async () => {
  const oci = new RegistryClient();
  const image = buildIndex({ seed: 'metrics' });
  await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/metered' }, image);
  const handle = await startPromotion(client, twoPhaseRun(env, 'metrics', [{ name: 'metered', digest: image.digest }]));
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  const bytes = (d: string) => result.edges.find((e) => e.destination === d)!.bytesCopied!;
  assert.ok(bytes('prod') > 0);

  const text = await eventually('metrics with the run', async () => {
    const t = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return (sample(t, 'promoflow_phase_duration_count', { phase: 'mirrors' }) ?? 0) >= 1 ? t : undefined;
  });
  assert.equal(sample(text, 'promoflow_bytes_copied_total', { destination: 'prod' }), bytes('prod'));
  assert.equal(sample(text, 'promoflow_bytes_copied_total', { destination: 'mirror' }), bytes('mirror'));
  assert.equal(sample(text, 'promoflow_blobs_copied_total', { destination: 'prod' }), result.edges.find((e) => e.destination === 'prod')!.blobsCopied);
  assert.equal(sample(text, 'promoflow_edges_total', { status: 'promoted' }), 2);
  assert.equal(sample(text, 'promoflow_edges_total', { status: 'failed' }) ?? 0, 0);
  assert.equal(sample(text, 'promoflow_activity_retries_total') ?? 0, 0, 'no retries on a healthy run');
  assert.equal(sample(text, 'promoflow_phase_duration_count', { phase: 'production', status: 'done' }), 1);
  const phaseMs = sample(text, 'promoflow_phase_duration_sum', { phase: 'production' })!;
  assert.ok(phaseMs >= 0 && phaseMs < 60_000, `production phase took ${phaseMs} ms`);
  // Temporal's own runtime metrics, from the same endpoint.
  assert.ok((sample(text, 'temporal_workflow_completed_total', { workflow_type: 'promotionRun' }) ?? 0) >= 1, 'temporal_workflow_completed_total for promotionRun');
  assert.ok((sample(text, 'temporal_activity_execution_latency_count', { activity_type: 'copyToDestination' }) ?? 0) >= 2);
});
