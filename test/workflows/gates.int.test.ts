// PromotionRun's gates and controls on a real Temporal dev server and real registries: manual approval through
// the CLI (approve releases the next phase, reject stops it with nothing promoted past the gate), pause/resume,
// abort, refused controls, and what the Web UI shows (search attributes, summaries, details) read back through
// the Temporal API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { RegistryClient, headManifest } from '../../src/oci';
import { buildIndex, buildImage, pushImage, type BuiltImage } from '../../src/dev/sample-images';
import { eventually, runCli, startTestEnvironment, startTestWorker, testClient, twoPhaseRun } from '../../src/testing/harness';
import { startPromotion } from '../../src/client/promote';
import { EXIT } from '../../src/client/exit-codes';
import { progressQuery } from '../../src/workflows';
import type { PromotionRunInput } from '../../src/contract';

let env: Awaited<ReturnType<typeof startTestEnvironment>>;
let worker: { stop(): Promise<void> };
let client: Client;
const oci = new RegistryClient();

before(async () => {
  env = await startTestEnvironment('gates', { registries: ['staging', 'prod', 'mirror'] });
  worker = await startTestWorker(env);
  client = await testClient(env);
});

after(async () => {
  await client?.connection.close();
  await worker?.stop();
  await env?.cleanup();
});

async function stage(name: string, image: BuiltImage): Promise<void> {
  await pushImage(oci, { registry: env.registries.staging!, repository: `staging/${name}` }, image);
}

function input(name: string, images: Array<{ name: string; image: BuiltImage }>, gates: { approval?: boolean; soakSeconds?: number } = {}): PromotionRunInput {
  return twoPhaseRun(env, name, images.map((i) => ({ name: i.name, digest: i.image.digest })), gates);
}

const cli = (...args: string[]) => runCli([...args, '--temporal-address', env.temporal!.address]);
const atMirror = (name: string, digest: string) => headManifest(oci, { registry: env.registries.mirror!, repository: `mirror/${name}` }, digest);

async function awaitingApproval(id: string) {
  return eventually(`${id} awaiting approval`, async () => {
    const p = await client.workflow.getHandle(id).query(progressQuery);
    return p.status === 'awaiting-approval' ? p : undefined;
  });
}

test('approval gate: the run waits; `promoflow approve` releases it and records who and why', async () => {
  const image = buildIndex({ seed: 'gate-approve' });
  await stage('approved', image);
  const handle = await startPromotion(client, input('gate-approve', [{ name: 'approved', image }], { approval: true }));
  const p = await awaitingApproval(handle.workflowId);
  assert.equal(p.phases[0]!.status, 'awaiting-approval');
  assert.equal(await atMirror('approved', image.digest), undefined, 'nothing past the gate before approval');

  const r = await cli('approve', handle.workflowId, '--by', 'alice', '--reason', 'canary looks healthy');
  assert.equal(r.code, EXIT.OK, r.stderr);
  assert.match(r.stdout, /approve recorded on .* \(phase production\) by alice: canary looks healthy/);
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.deepEqual(result.decisions.map((d) => [d.kind, d.by, d.reason, d.phase]), [['approve', 'alice', 'canary looks healthy', 'production']]);
  assert.equal((await atMirror('approved', image.digest))?.digest, image.digest);
});

test('approval gate: `promoflow reject` ends the run with nothing promoted past the gate (exit 4 from status)', async () => {
  const image = buildImage({ seed: 'gate-reject' });
  await stage('rejected', image);
  const handle = await startPromotion(client, input('gate-reject', [{ name: 'rejected', image }], { approval: true }));
  await awaitingApproval(handle.workflowId);
  const r = await cli('reject', handle.workflowId, '--by', 'bob', '--reason', 'error rate up');
  assert.equal(r.code, EXIT.OK, r.stderr);
  const result = await handle.result();
  assert.equal(result.status, 'rejected');
  const mirrorEdges = result.edges.filter((e) => e.phase === 'mirrors');
  assert.deepEqual(mirrorEdges.map((e) => [e.status, e.errorType]), [['skipped', 'Rejected']]);
  assert.equal(await atMirror('rejected', image.digest), undefined, 'nothing promoted past the gate');
  const status = await cli('status', handle.workflowId);
  assert.equal(status.code, EXIT.REJECTED);
  assert.match(status.stdout, /REJECTED/);
});

test('a control that cannot apply is refused with one clear line (exit 2)', async () => {
  const image = buildImage({ seed: 'gate-refuse' });
  await stage('refused', image);
  const handle = await startPromotion(client, input('gate-refuse', [{ name: 'refused', image }], { approval: true }));
  await awaitingApproval(handle.workflowId);
  const wrongPhase = await cli('approve', handle.workflowId, '--by', 'carol', '--phase', 'mirrors');
  assert.equal(wrongPhase.code, EXIT.INVALID);
  assert.match(wrongPhase.stderr, /approve refused by .*: phase mirrors is not awaiting approval; production is/);
  const notPaused = await cli('resume', handle.workflowId, '--by', 'carol');
  assert.equal(notPaused.code, EXIT.INVALID);
  assert.match(notPaused.stderr, /the run is not paused/);
  // pause while at the gate, approve: the next phase does not start until resume.
  assert.equal((await cli('pause', handle.workflowId, '--by', 'carol')).code, EXIT.OK);
  assert.equal((await cli('approve', handle.workflowId, '--by', 'carol')).code, EXIT.OK);
  const paused = await eventually('paused', async () => {
    const p = await handle.query(progressQuery);
    return p.status === 'paused' ? p : undefined;
  });
  assert.equal(paused.edges.filter((e) => e.phase === 'mirrors').length, 0);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await atMirror('refused', image.digest), undefined, 'paused: no new copies');
  assert.equal((await cli('resume', handle.workflowId, '--by', 'carol')).code, EXIT.OK);
  const result = await handle.result();
  assert.equal(result.status, 'succeeded');
  assert.deepEqual(result.decisions.map((d) => d.kind), ['pause', 'approve', 'resume']);
  const after = await cli('abort', handle.workflowId, '--by', 'carol');
  assert.equal(after.code, EXIT.INVALID, 'abort after the end is refused');
});

test('abort during a soak: later phases are skipped as Aborted', async () => {
  const image = buildImage({ seed: 'gate-abort' });
  await stage('aborted', image);
  const handle = await startPromotion(client, input('gate-abort', [{ name: 'aborted', image }], { soakSeconds: 300 }));
  await eventually('soaking', async () => (await handle.query(progressQuery)).phases[0]!.status === 'soaking');
  assert.equal((await cli('abort', handle.workflowId, '--by', 'dave', '--reason', 'incident')).code, EXIT.OK);
  const result = await handle.result();
  assert.equal(result.status, 'aborted');
  assert.deepEqual(result.edges.filter((e) => e.phase === 'mirrors').map((e) => e.errorType), ['Aborted']);
});

test('the Web UI view: search attributes, static summary and details, activity summaries, live details', async () => {
  const image = buildImage({ seed: 'webui' });
  await stage('webui-app', image);
  const handle = await startPromotion(client, { ...input('webui', [{ name: 'webui-app', image }]), commit: 'abc123def456' });
  await handle.result();
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query: `PromoflowImages = 'webui-app' AND PromoflowStatus = 'succeeded' AND PromoflowCommit = 'abc123def456'` })) ids.push(wf.workflowId);
  assert.deepEqual(ids, [handle.workflowId]);
  assert.match(handle.workflowId, /^promote\/webui\/abc123def456-[0-9a-f]{12}$/);
  const d = await handle.describe();
  assert.equal(await d.staticSummary(), 'promote webui: 1 image digest(s) → prod, mirror');
  assert.match((await d.staticDetails()) ?? '', /Commit: abc123def456/);
  assert.equal(d.typedSearchAttributes.get({ name: 'PromoflowPhase', type: 'KEYWORD' } as never), 'mirrors');
  const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  assert.match(meta.currentDetails ?? '', /### production \(done\)/);
  assert.match(meta.currentDetails ?? '', /\| webui-app \| sha256:[0-9a-f]{12} \| prod \| ✅ promoted \|/);
  // Activity summaries live in the child's history.
  const child = client.workflow.getHandle(`${handle.workflowId}/production/webui-app@sha256:${image.digest.slice(7, 19)}`);
  const history = await child.fetchHistory();
  const summaries = (history.events ?? [])
    .filter((e) => e.activityTaskScheduledEventAttributes)
    .map((e) => defaultPayloadConverter.fromPayload<string>(e.userMetadata!.summary!));
  // Unsigned runs leave the source check to the copy activity (one activity fewer per image).
  assert.deepEqual(summaries, [`copy webui-app@sha256:${image.digest.slice(7, 19)} → prod`]);
});

test('continue-as-new carries progress: a run split into several executions gives the same complete account', async () => {
  const images = Array.from({ length: 5 }, (_, i) => ({ name: `can-${i}`, image: buildImage({ seed: `can-${i}` }) }));
  for (const i of images) await stage(i.name, i.image);
  const handle = await startPromotion(client, { ...input('can', images), concurrency: 1, tuning: { childrenPerRun: 2 } });
  const result = await handle.result();
  assert.equal(result.status, 'succeeded', JSON.stringify(result.edges));
  assert.equal(result.edges.length, 10);
  assert.deepEqual([...new Set(result.edges.map((e) => e.image))].sort(), images.map((i) => i.name).sort());
  const runs: string[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) runs.push(wf.runId);
  assert.ok(runs.length >= 4, `${runs.length} executions in the chain`);
});

test('a destination with a registry-group task queue has its copies run only by workers polling that queue', async () => {
  const image = buildImage({ seed: 'group-queue' });
  await stage('grouped', image);
  const group = await startTestWorker(env, { taskQueue: 'registry-group-mirror' });
  try {
    const base = input('group', [{ name: 'grouped', image }]);
    const handle = await startPromotion(client, { ...base, destinations: base.destinations.map((d) => (d.name === 'mirror' ? { ...d, taskQueue: 'registry-group-mirror' } : d)) });
    const result = await handle.result();
    assert.equal(result.status, 'succeeded', JSON.stringify(result.edges));
    const child = client.workflow.getHandle(`${handle.workflowId}/mirrors/grouped@sha256:${image.digest.slice(7, 19)}`);
    const queues = ((await child.fetchHistory()).events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.taskQueue!.name);
    assert.deepEqual(queues, ['registry-group-mirror']);
  } finally {
    await group.stop();
  }
});

test('batched children (large runs): each image digest is promoted and accounted for as if alone; a lost one blocks only itself', async () => {
  const images = Array.from({ length: 4 }, (_, i) => ({ name: `batch-${i}`, image: buildImage({ seed: `batch-${i}` }) }));
  for (const i of images) await stage(i.name, i.image);
  const base = input('batched', images);
  const lost = { image: 'batch-lost', digest: `sha256:${'e'.repeat(64)}`, tags: ['v1'] };
  const handle = await startPromotion(client, { ...base, items: [...base.items.slice(0, 2), lost, ...base.items.slice(2)], batchSize: 3 });
  const result = await handle.result();
  assert.equal(result.edges.length, 10);
  const byImage = (name: string) => result.edges.filter((e) => e.image === name).map((e) => `${e.phase}:${e.status}`);
  for (const i of images) assert.deepEqual(byImage(i.name), ['production:promoted', 'mirrors:promoted'], i.name);
  assert.deepEqual(byImage('batch-lost'), ['production:lost', 'mirrors:skipped']);
  const children: string[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowType = 'imagePromotion' AND WorkflowId STARTS_WITH '${handle.workflowId}/'` })) children.push(wf.workflowId);
  assert.equal(children.length, 4, `2 batches per phase: ${children.join(', ')}`);
  assert.ok(children.some((id) => id.endsWith('+2')), 'a batch child names its first image and how many more');
});
