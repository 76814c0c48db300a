// Safe upgrades on a real Temporal dev server: a promotion started on worker build A stays pinned to A while build
// B is ramped to every new run, and finishes on A after its approval gate; a run started after the ramp lands on
// B. Build A runs as `promoflow worker --deployment --build-id` (the flags users deploy with); build B in-process.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { RegistryClient, headManifest } from '../../src/oci';
import { buildImage, pushImage, type BuiltImage } from '../../src/dev/sample-images';
import { eventually, runCli, startCliWorker, startTestEnvironment, testClient, twoPhaseRun } from '../../src/testing/harness';
import { startPromotion } from '../../src/client/promote';
import { EXIT } from '../../src/client/exit-codes';
import { createWorker } from '../../src/worker/worker';
import { progressQuery } from '../../src/workflows';
import type { PromotionRunInput } from '../../src/contract';

const DEPLOYMENT = 'promoflow-test';
let env: Awaited<ReturnType<typeof startTestEnvironment>>;
let workerA: ReturnType<typeof startCliWorker> | undefined;
let stopB: (() => Promise<void>) | undefined;
let client: Client;
const oci = new RegistryClient();

before(async () => {
  env = await startTestEnvironment('versioning', { registries: ['staging', 'prod', 'mirror'] });
  client = await testClient(env);
});

after(async () => {
  await client?.connection.close();
  await workerA?.stop();
  await stopB?.();
  await env?.cleanup();
});

const cli = (...args: string[]) => runCli([...args, '--temporal-address', env.temporal!.address], { timeoutMs: 30_000 });

function input(name: string, image: BuiltImage): PromotionRunInput {
  return twoPhaseRun(env, name, [{ name, digest: image.digest }], { approval: true, concurrency: 2 });
}

/** The build ID that completed each workflow task of a workflow, from its history. */
async function taskBuilds(handle: WorkflowHandle): Promise<Array<{ buildId: string; identity: string }>> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .filter((e) => e.workflowTaskCompletedEventAttributes)
    .map((e) => {
      const a = e.workflowTaskCompletedEventAttributes!;
      return { buildId: a.deploymentVersion?.buildId ?? a.workerVersion?.buildId ?? '', identity: a.identity ?? '' };
    });
}

async function pinnedBuild(handle: WorkflowHandle): Promise<{ behavior: string; buildId: string }> {
  const d = await handle.describe();
  const v = d.raw.workflowExecutionInfo?.versioningInfo;
  return { behavior: String(v?.behavior ?? ''), buildId: v?.deploymentVersion?.buildId ?? '' };
}

test('a run pinned to build A finishes on A while B is ramped; new runs land on B', async () => {
  workerA = startCliWorker(env, ['--deployment', DEPLOYMENT, '--build-id', 'build-a']);
  // The version exists once its worker polls; until then set-current is refused with exit 2.
  await eventually('build A current', async () => {
    const r = await cli('deployment', 'set-current', 'build-a', '--deployment', DEPLOYMENT);
    return r.code === EXIT.OK;
  }, 40_000);

  const first = buildImage({ seed: 'versioning-first' });
  await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/first' }, first);
  const run1 = await startPromotion(client, input('first', first));
  await eventually('run 1 at the approval gate', async () => (await run1.query(progressQuery)).status === 'awaiting-approval', 40_000);
  assert.deepEqual(await pinnedBuild(run1), { behavior: '1', buildId: 'build-a' }, 'run 1 is pinned to A'); // 1 = VERSIONING_BEHAVIOR_PINNED

  // Build B comes up and takes every new run.
  const b = await createWorker({ address: env.temporal!.address, deployment: { name: DEPLOYMENT, buildId: 'build-b' } });
  const runningB = b.worker.run();
  stopB = async () => {
    if (b.worker.getState() === 'RUNNING') b.worker.shutdown();
    await runningB.catch(() => undefined);
    await b.connection.close();
  };
  await eventually('build B ramped to 100%', async () => (await cli('deployment', 'ramp', 'build-b', '--percentage', '100', '--deployment', DEPLOYMENT)).code === EXIT.OK, 40_000);
  const described = await cli('deployment', 'describe', '--deployment', DEPLOYMENT, '--json');
  assert.equal(described.code, EXIT.OK, described.stderr);
  assert.deepEqual(
    (({ currentBuildId, rampingBuildId, rampingPercentage }) => ({ currentBuildId, rampingBuildId, rampingPercentage }))(JSON.parse(described.stdout) as Record<string, unknown>),
    { currentBuildId: 'build-a', rampingBuildId: 'build-b', rampingPercentage: 100 },
  );

  const second = buildImage({ seed: 'versioning-second' });
  await pushImage(oci, { registry: env.registries.staging!, repository: 'staging/second' }, second);
  const run2 = await startPromotion(client, input('second', second));
  await eventually('run 2 at the approval gate', async () => (await run2.query(progressQuery)).status === 'awaiting-approval', 40_000);
  assert.equal((await pinnedBuild(run2)).buildId, 'build-b', 'a new run lands on B');

  // Release run 1: its mirrors phase (new children, new activities) still runs on A.
  assert.equal((await cli('approve', run1.workflowId, '--by', 'release-manager')).code, EXIT.OK);
  const r1 = await run1.result();
  assert.equal(r1.status, 'succeeded');
  const builds1 = await taskBuilds(run1);
  assert.ok(builds1.length >= 3, 'several workflow tasks');
  assert.deepEqual([...new Set(builds1.map((t) => t.buildId))], ['build-a'], 'every workflow task of run 1 ran on A');
  assert.ok(builds1.every((t) => t.identity.endsWith(`${DEPLOYMENT}.build-a`)), 'worker identity names build A');
  const mirrorChild = client.workflow.getHandle(`${run1.workflowId}/mirrors/first@sha256:${first.digest.slice(7, 19)}`);
  assert.deepEqual([...new Set((await taskBuilds(mirrorChild)).map((t) => t.buildId))], ['build-a'], 'a child started after the ramp is pinned to A too');
  assert.equal((await headManifest(oci, { registry: env.registries.mirror!, repository: 'mirror/first' }, first.digest))?.digest, first.digest);

  assert.equal((await cli('approve', run2.workflowId, '--by', 'release-manager')).code, EXIT.OK);
  assert.equal((await run2.result()).status, 'succeeded');
  assert.deepEqual([...new Set((await taskBuilds(run2)).map((t) => t.buildId))], ['build-b'], 'every workflow task of run 2 ran on B');

  // The ramp ends by making B current.
  assert.equal((await cli('deployment', 'set-current', 'build-b', '--deployment', DEPLOYMENT)).code, EXIT.OK);
  const final = JSON.parse((await cli('deployment', 'describe', '--deployment', DEPLOYMENT, '--json')).stdout) as { currentBuildId?: string; rampingBuildId?: string };
  assert.equal(final.currentBuildId, 'build-b');
  assert.equal(final.rampingBuildId, undefined);
});
