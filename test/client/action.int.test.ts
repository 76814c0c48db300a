// The GitHub Action's entry point run locally as the runner runs it (a child process, inputs as INPUT_* variables,
// GITHUB_* files) against the embedded environment: a pull request is planned into the job summary with no Temporal
// and no secrets; a push promotes; a job cancelled mid-run and re-run attaches to the same promotion.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RegistryClient } from '../../src/oci';
import { buildIndex, pushImage } from '../../src/dev/sample-images';
import { eventually, REPO_ROOT, startCliWorker, startTestEnvironment, testClient } from '../../src/testing/harness';
import { sendControl } from '../../src/client/control';
import { EXIT } from '../../src/client/exit-codes';
import { runProgressQuery } from '../../src/contract';

let env: Awaited<ReturnType<typeof startTestEnvironment>>;
let worker: ReturnType<typeof startCliWorker>;
const image = buildIndex({ seed: 'action' });
const SECRET = 'tmprl-api-key-do-not-print';
const SHA = '00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee';

function action(vars: Record<string, string>): { child: ChildProcess; stderr: () => string; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', pathToFileURL(require.resolve('tsx')).href, join(REPO_ROOT, 'src', 'client', 'action.ts')], {
    cwd: env.stateDir,
    // Nothing of the test's own Temporal settings leaks in: only what the action is given.
    // The job and the workers share the state store (the run's desired state travels by reference), as in a deployment.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PROMOFLOW_STATE_STORE: join(env.stateDir, 'store'), ...vars },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) => child.on('close', (code) => r({ code, stdout, stderr })));
  return { child, stderr: () => stderr, done };
}

function outputs(file: string): Record<string, string> {
  return Object.fromEntries(readFileSync(file, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

let manifest: string;

before(async () => {
  env = await startTestEnvironment('action', { registries: ['staging', 'prod', 'mirror'] });
  await pushImage(new RegistryClient(), { registry: env.registries.staging!, repository: 'staging/app' }, image, ['v1.0.0']);
  manifest = join(env.stateDir, 'promotion.yaml');
  writeFileSync(manifest, `apiVersion: promoflow.dev/v1alpha1
kind: Promotion
metadata: {name: action}
source: {registry: "${env.registries.staging}/staging"}
destinations:
  - {name: prod, registry: "${env.registries.prod}/prod", canonical: true}
  - {name: mirror, registry: "${env.registries.mirror}/mirror"}
phases:
  - {name: production, destinations: [prod], gates: {approval: true}}
  - {name: mirrors, destinations: [mirror]}
images:
  - name: app
    dmap: {"${image.digest}": ["v1.0.0"]}
`);
  worker = startCliWorker(env, [], { env: { PROMOFLOW_STATE_STORE: join(env.stateDir, 'store') } });
  await worker.ready();
});

after(async () => {
  await worker?.stop();
  await env?.cleanup();
});

test('action on a pull request: the plan lands in the job summary; no Temporal, no secrets', async () => {
  const summary = join(env.stateDir, 'pr-summary.md');
  const out = join(env.stateDir, 'pr-output');
  writeFileSync(out, '');
  const r = await action({
    INPUT_MANIFEST: manifest, INPUT_MODE: 'auto', INPUT_TEMPORAL_API_KEY: SECRET, TEMPORAL_API_KEY: SECRET,
    GITHUB_EVENT_NAME: 'pull_request', GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: out,
  }).done;
  assert.equal(r.code, EXIT.OK, `changes planned is a passing pull request: ${r.stderr}`);
  const md = readFileSync(summary, 'utf8');
  assert.match(md, /^### promoflow plan: `.*promotion\.yaml` — changes planned: merging promotes them$/m);
  assert.match(md, /copy\s+app\s+sha256:[0-9a-f]{12}…\s+prod\s+v1\.0\.0/);
  assert.deepEqual(outputs(out), { 'exit-code': String(EXIT.CHANGES_PLANNED), changes: 'true' });
  for (const text of [md, r.stdout, r.stderr]) assert.ok(!text.includes(SECRET), 'the secret is never printed');
  const head = await fetch(`http://${env.registries.prod}/v2/prod/app/manifests/v1.0.0`, { method: 'HEAD' });
  assert.equal(head.status, 404, 'a plan writes nothing');
});

test('action on a push: promotes; a job cancelled mid-run and re-run attaches to the same promotion', async () => {
  const vars = {
    INPUT_MANIFEST: manifest, INPUT_TEMPORAL_ADDRESS: env.temporal!.address, INPUT_TEMPORAL_NAMESPACE: env.temporal!.namespace,
    GITHUB_EVENT_NAME: 'push', GITHUB_SHA: SHA,
  };
  // First job: starts the promotion, which waits at the approval gate; the job is cancelled there.
  const first = action({ ...vars, GITHUB_STEP_SUMMARY: join(env.stateDir, 'push1.md'), GITHUB_OUTPUT: join(env.stateDir, 'push1-output') });
  const id = await eventually('the first job to start the promotion', async () => /^promoflow: started (\S+)/m.exec(first.stderr())?.[1], 60_000).catch((e: Error) => assert.fail(`${e.message}\n${first.stderr()}`));
  assert.match(id, new RegExp(`^promote/action/${SHA.slice(0, 12)}-[0-9a-f]{12}$`));
  const client = await testClient(env);
  try {
    await eventually('the production phase at its approval gate', async () => {
      // promote starts the sharded run: its progress is the `runProgress` query.
      const p = await client.workflow.getHandle(id).query(runProgressQuery);
      return p.state.phases.find((x) => x.name === 'production')?.status === 'awaiting-approval';
    }, 90_000);
    first.child.kill('SIGKILL');
    await first.done;

    // The re-run: the plan now has less to do (prod is done), yet the job attaches to the promotion in flight.
    const out = join(env.stateDir, 'push2-output');
    writeFileSync(out, '');
    const summary = join(env.stateDir, 'push2.md');
    const rerun = action({ ...vars, GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: out });
    await eventually('the re-run to attach', async () => rerun.stderr().includes(`promoflow: started ${id}`), 60_000).catch((e: Error) => assert.fail(`${e.message}\n${rerun.stderr()}`));
    await eventually('the approval to be accepted', async () => sendControl(client, id, 'approve', { by: 'release-manager', reason: 'canary healthy' }), 30_000);
    const r = await rerun.done;
    assert.equal(r.code, EXIT.OK, r.stdout + r.stderr);
    assert.deepEqual(outputs(out), { 'exit-code': '0', 'workflow-id': id });
    assert.match(readFileSync(summary, 'utf8'), /^## promoflow: action — succeeded/m);
    // One promotion (one workflow ID; a long run may continue-as-new into more runs of that same promotion).
    const runs = new Set<string>();
    for await (const w of client.workflow.list({ query: `WorkflowType = 'shardedRun' AND WorkflowId STARTS_WITH 'promote/action/'` })) runs.add(w.workflowId);
    assert.equal(runs.size, 1, `one promotion, not two: ${[...runs].join(', ')}`);
  } finally {
    await client.connection.close();
  }
});

test('action: a missing manifest input and an undecidable event are one line each, exit 2', async () => {
  const none = await action({ GITHUB_EVENT_NAME: 'push' }).done;
  assert.equal(none.code, EXIT.INVALID);
  assert.match(none.stderr, /^promoflow action: the manifest input is required/);
  const odd = await action({ INPUT_MANIFEST: manifest, GITHUB_EVENT_NAME: 'issue_comment' }).done;
  assert.equal(odd.code, EXIT.INVALID);
  assert.equal(odd.stderr.trim(), 'promoflow action: mode auto cannot decide for the event "issue_comment": set mode to plan or promote');
});
