// The sharded reconcile (reconcileRun) on a real Temporal dev server, registry reading and promotion work stubbed
// (src/testing/stub-inventory, stub-executor) so that thousands of findings fit in a test: every finding is stored
// once and counted exactly, no payload reaches 256 KB and no history 10,000 events, the inventory continues as new,
// and the repair goes through one sharded promotion whose account settles every finding. A schedule whose source
// is a git repository reconciles the manifests at the ref's current head: a new commit is seen by the next run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { createActivities, createActivityDeps, readAccount, readFindings, readRepairs } from '../../src/activities';
import { startReconcileRun } from '../../src/client/reconcile';
import { main } from '../../src/client/cli';
import { CliError, EXIT } from '../../src/client/exit-codes';
import { EDGE_OUTCOMES, reconcileProgressQuery, type ReconcileRunResult } from '../../src/contract';
import { FsStateStore, StateMissingError, putJson } from '../../src/state';
import { sendControl } from '../../src/client/control';
import { startShardedRun, storeRun } from '../../src/client/sharded-start';
import { runProgressQuery } from '../../src/contract';
import { eventually, startTestEnvironment, testClient } from '../../src/testing/harness';
import { measureHistories } from '../../src/testing/history-bounds';
import { stubExecutor } from '../../src/testing/stub-executor';
import { stubInventory } from '../../src/testing/stub-inventory';
import { syntheticBundle } from '../../src/testing/synthetic-workload';
import { createWorker } from '../../src/worker/worker';

let env: Awaited<ReturnType<typeof startTestEnvironment>>;
let client: Client;
let store: FsStateStore;
let stop: () => Promise<void>;
const LAGGING = ['region-02', 'region-05'];

before(async () => {
  env = await startTestEnvironment('reconcile-run', { registries: [] });
  store = new FsStateStore(join(env.stateDir, 'store'));
  process.env.PROMOFLOW_STATE_STORE = store.location; // the in-process CLI shares the worker's store
  client = await testClient(env);
  const activities = createActivities(createActivityDeps({ store }), { execute: stubExecutor(), inventory: stubInventory({ lagging: LAGGING }) });
  const { worker, connection } = await createWorker({ address: env.temporal!.address, taskQueue: 'promoflow', store, activities });
  const running = worker.run();
  stop = async () => {
    worker.shutdown();
    await running.catch(() => undefined);
    await connection.close();
  };
});

after(async () => {
  delete process.env.PROMOFLOW_STATE_STORE;
  await client?.connection.close();
  await stop?.();
  await env?.cleanup();
});

async function cliIn(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  try {
    const code = await main(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    return { code: e.exitCode, stdout: out.join('\n'), stderr: [...err, e.message].join('\n') };
  }
}

test('1,500 digests × 6 destinations, two lagging: exact findings by reference, bounded payloads and histories, continue-as-new, repair settles every finding', async () => {
  const bundle = syntheticBundle({ projects: 10, digests: 1500, destinations: 6, canary: 2 }, 'lagging');
  const ref = await putJson(store, bundle);
  const handle = await startReconcileRun(client, {
    name: bundle.name,
    source: { kind: 'bundle', bundle: ref, policy: { policy: { signatures: false, attestations: false } } },
    repair: true,
    // Small batches and runs so the inventory continues as new several times; a narrow repair window.
    tuning: { window: 4, batchEdges: 200, shardEdges: 1200, batchesPerRun: 8, repairWindow: 2 },
  }, 'reconcile/bounds');
  const r = await handle.result();
  const expected = 1500 * LAGGING.length;
  assert.equal(r.findings, expected);
  assert.equal(r.repairable, expected);
  for (const d of LAGGING) assert.equal(r.counts[d]!['missing-image'], 1500);
  assert.equal(Object.keys(r.counts).length, LAGGING.length, 'in-sync destinations have no findings');
  assert.ok(r.sample.length > 0 && r.sample.length <= 20, 'a bounded sample');

  const seen = new Set<string>();
  for await (const f of readFindings(store, r.findingsRef!)) {
    const k = `${f.destination}|${f.image}@${f.digest}`;
    assert.ok(!seen.has(k), `${k} is found once`);
    seen.add(k);
  }
  assert.equal(seen.size, expected, 'the stored findings hold every finding once');

  // Repair: one sharded promotion with work only where the findings are; every finding settled.
  assert.equal(r.repair?.workflowId, 'reconcile/bounds/repair');
  assert.equal(r.repair?.promotionStatus, 'succeeded');
  assert.equal(r.repair?.totals?.[EDGE_OUTCOMES.indexOf('promoted')], expected);
  assert.equal(r.repair?.totals?.reduce((a, b) => a + b, 0), expected, 'nothing sent where nothing was missing');
  assert.deepEqual([r.repair?.repaired, r.repair?.failed, r.repair?.notRepaired], [expected, 0, 0]);
  assert.equal(r.status, 'repaired');
  assert.equal(r.remaining, 0);
  const repairTotal = (await client.workflow.getHandle('reconcile/bounds/repair').result()) as { account?: `sha256:${string}` };
  const where = new Map<string, number>();
  for await (const e of readAccount(store, repairTotal.account!)) where.set(e.destination, (where.get(e.destination) ?? 0) + 1);
  assert.deepEqual(Object.fromEntries(where), Object.fromEntries(LAGGING.map((d) => [d, 1500])), 'the repair account covers the lagging destinations only');
  let records = 0;
  for await (const x of readRepairs(store, r.repair!.records!)) records += x.status === 'repaired' ? 1 : 0;
  assert.equal(records, expected);

  const bounds = await measureHistories(client, 'reconcile/bounds');
  assert.ok(bounds.largestPayload.bytes < 256 * 1024, `largest payload ${bounds.largestPayload.bytes} B (${bounds.largestPayload.eventType})`);
  assert.ok(bounds.largestHistory.events < 10_000, `largest history ${bounds.largestHistory.events} events`);
  let executions = 0;
  for await (const w of client.workflow.list({ query: `WorkflowId = 'reconcile/bounds'` })) executions += w.type === 'reconcileRun' ? 1 : 0;
  assert.ok(executions > 2, `the inventory continued as new (${executions} executions)`);
  const progress = Buffer.byteLength(JSON.stringify(await handle.query(reconcileProgressQuery)));
  assert.ok(progress < 256 * 1024, `reconcileProgress answer ${progress} B`);

  // status --json: one head line, then every finding and every repair record as JSON lines.
  const s = await cliIn(['status', 'reconcile/bounds', '--json', '--temporal-address', env.temporal!.address]);
  assert.equal(s.code, EXIT.OK, s.stderr);
  const lines = s.stdout.split('\n');
  assert.equal((JSON.parse(lines[0]!) as { result: ReconcileRunResult }).result.findings, expected);
  assert.equal(lines.filter((l) => l.startsWith('{"finding"')).length, expected);
  assert.equal(lines.filter((l) => l.startsWith('{"repair"')).length, expected);
  const text = await cliIn(['status', 'reconcile/bounds', '--temporal-address', env.temporal!.address]);
  assert.match(text.stdout, /REPAIRED/);
  assert.match(text.stdout, /region-02: missing-image 1500/);
  assert.ok(text.stdout.split('\n').length < 60, 'the text report is bounded');
});

test('a schedule with a git source reconciles the ref\'s current head: a commit made after `schedule create` is what the next run sees', async () => {
  const repo = join(env.stateDir, 'manifests-repo');
  mkdirSync(join(repo, 'deploy'), { recursive: true });
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo, encoding: 'utf8' }).trim();
  const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
  const manifest = (digests: number[]) => `apiVersion: promoflow.dev/v1alpha1
kind: Promotion
metadata: {name: from-git}
source: {registry: "staging.invalid/app"}
destinations:
  - {name: region-01, registry: "region-01.invalid/app"}
  - {name: region-02, registry: "region-02.invalid/app"}
phases:
  - {name: all, destinations: [region-01, region-02]}
images:
  - name: web
    dmap: {${digests.map((d) => `"${digest(d)}": ["v${d}"]`).join(', ')}}
`;
  git('init', '--quiet', '-b', 'main');
  writeFileSync(join(repo, 'deploy', 'promotion.yaml'), manifest([1, 2]));
  git('add', '.');
  git('commit', '--quiet', '-m', 'two digests');
  const addr = ['--temporal-address', env.temporal!.address];
  const created = await cliIn(['schedule', 'create', 'from-git', '--git', repo, '--ref', 'main', '-f', 'deploy/promotion.yaml', '--every', '1h', ...addr]);
  assert.equal(created.code, EXIT.OK, created.stdout + created.stderr);
  try {
    // After create: a new commit on main (a third digest).
    writeFileSync(join(repo, 'deploy', 'promotion.yaml'), manifest([1, 2, 3]));
    git('commit', '--quiet', '-am', 'a third digest');
    const head = git('rev-parse', 'HEAD');
    const trig = await cliIn(['schedule', 'trigger', 'from-git', ...addr]);
    assert.equal(trig.code, EXIT.OK, trig.stderr);
    const run = await eventually('the triggered run', async () => {
      for await (const w of client.workflow.list({ query: `TemporalScheduledById = 'from-git'` })) return w;
      return undefined;
    }, 60_000);
    const r = (await client.workflow.getHandle(run.workflowId, run.runId).result()) as ReconcileRunResult;
    assert.equal(r.commit, head, 'the run reconciled the current head of main');
    assert.equal(r.findings, 3, 'three digests missing at the lagging region-02 (the commit after create included)');
    assert.equal(r.counts['region-02']!['missing-image'], 3);
    assert.equal(r.status, 'drift');
  } finally {
    await cliIn(['schedule', 'delete', 'from-git', ...addr]);
  }
  const bad = await cliIn(['schedule', 'create', 'bad-ref', '--git', repo, '--ref', 'no-such-branch', '-f', 'deploy/promotion.yaml', '--every', '1h', ...addr]);
  assert.equal(bad.code, EXIT.INVALID);
  assert.match(bad.stderr, /no-such-branch/);
  assert.equal(bad.stderr.split('\n').length <= 6, true, 'a short message, no stack');
});

test('store gc keeps every document an open run refers to and removes what ended runs left once old enough', async () => {
  // An open run: a promotion waiting at an approval gate (its bundle, shard lists and accounts are in use).
  const gated = syntheticBundle({ projects: 2, digests: 40, destinations: 3, canary: 1 }, 'gc-open');
  gated.phases[0] = { ...gated.phases[0]!, approval: true };
  const open = await startShardedRun(client, await storeRun(store, gated, { batchEdges: 8 }));
  await eventually('the gate', async () => (await open.query(runProgressQuery)).status === 'awaiting-approval', 60_000);
  const ended = (await client.workflow.getHandle('reconcile/bounds').result()) as ReconcileRunResult;
  // Everything in the store is made two days old.
  const old = new Date(Date.now() - 2 * 86_400_000);
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else utimesSync(join(d, e.name), old, old);
    }
  };
  walk(store.location);
  const addr = ['--temporal-address', env.temporal!.address];
  const dry = await cliIn(['store', 'gc', '--older-than', '1d', '--dry-run', '--json', ...addr]);
  assert.equal(dry.code, EXIT.OK, dry.stderr);
  const d = JSON.parse(dry.stdout) as { removed: number; marked: number; openWorkflows: number };
  assert.ok(d.openWorkflows >= 1 && d.marked > 0 && d.removed > 0, dry.stdout);
  await store.get(ended.findingsRef!);
  const gc = await cliIn(['store', 'gc', '--older-than', '1d', ...addr]);
  assert.equal(gc.code, EXIT.OK, gc.stderr);
  await assert.rejects(store.get(ended.findingsRef!), StateMissingError, 'an ended run\'s findings are swept once old');
  // The open run still finds all it needs: approved, it completes with an exact account.
  await sendControl(client, open.workflowId, 'approve', { by: 'tester' });
  const r = await open.result();
  assert.equal(r.status, 'succeeded');
  assert.equal(r.totals.reduce((a, b) => a + b, 0), 120);
  let accounted = 0;
  for await (const e of readAccount(store, r.account!)) accounted += e.outcome === 'promoted' ? 1 : 0;
  assert.equal(accounted, 120, 'the account is readable whole');
  const bad = await cliIn(['store', 'gc', '--older-than', 'soon', ...addr]);
  assert.equal(bad.code, EXIT.INVALID);
  assert.match(bad.stderr, /--older-than is an age such as 12h or 7d/);
});
