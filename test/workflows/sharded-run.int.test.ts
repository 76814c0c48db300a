// The sharded promotion on a real Temporal dev server, registry work stubbed (src/testing/stub-executor) so a run
// of thousands of edges fits in a test: the account is exact (every edge once, in the store and in the counters),
// no payload in any history reaches 256 KB and no history 10,000 events, shards and the run continue as new, a
// destination's failures block only its own edges while a lost image is kept out of later phases, and an abort
// cancels work in flight and accounts what was not done as aborted, not failed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { createActivities, createActivityDeps } from '../../src/activities';
import { readAccount } from '../../src/activities/sharded';
import { storeRun, startShardedRun } from '../../src/client/sharded-start';
import { sendControl } from '../../src/client/control';
import { EDGE_OUTCOMES, type EdgeOutcome, type ShardedRunResult } from '../../src/contract/sharded-run';
import { FsStateStore } from '../../src/state/store';
import { eventually, startTestEnvironment, testClient } from '../../src/testing/harness';
import { measureHistories } from '../../src/testing/history-bounds';
import { stubExecutor } from '../../src/testing/stub-executor';
import { syntheticBundle } from '../../src/testing/synthetic-workload';
import { createWorker } from '../../src/worker/worker';
import { runProgressQuery } from '../../src/contract';

let env: Awaited<ReturnType<typeof startTestEnvironment>>;
let client: Client;
let store: FsStateStore;
const workers: Array<{ stop(): Promise<void> }> = [];

/** Lost at the source: every 97th digest of the synthetic workload. */
const lostDigest = (digest: string) => parseInt(digest.slice(7, 15), 16) % 97 === 0;

async function startWorker(taskQueue: string, executor: ReturnType<typeof stubExecutor>) {
  const { worker, connection } = await createWorker({ address: env.temporal!.address, taskQueue, store, activities: createActivities(createActivityDeps({ store }), { execute: executor }) });
  const running = worker.run();
  workers.push({
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
    },
  });
}

before(async () => {
  env = await startTestEnvironment('sharded', { registries: [] });
  store = new FsStateStore(join(env.stateDir, 'store'));
  client = await testClient(env);
  // The run's own queue (every test uses it): region-03 refuses everything; some digests are lost at the source.
  await startWorker('promoflow', stubExecutor({ failAt: ['region-03'], lost: lostDigest }));
});

after(async () => {
  await client?.connection.close();
  for (const w of workers) await w.stop();
  await env?.cleanup();
});

const at = (o: EdgeOutcome) => EDGE_OUTCOMES.indexOf(o);

async function accountOf(r: ShardedRunResult): Promise<Map<string, EdgeOutcome>> {
  const seen = new Map<string, EdgeOutcome>();
  for await (const e of readAccount(store, r.account!)) {
    const key = `${e.phase}|${e.image}@${e.digest}|${e.destination}`;
    assert.ok(!seen.has(key), `${key} is accounted once`);
    seen.set(key, e.outcome);
  }
  return seen;
}

test('a run of 1,200 digests × 8 destinations: exact account, bounded payloads and histories, continue-as-new, per-destination isolation', async () => {
  const bundle = syntheticBundle({ projects: 12, digests: 1200, destinations: 8, canary: 3 }, 'bounds');
  // Small batches, shards and runs so that both the shards and the run continue as new several times.
  const input = await storeRun(store, bundle, { window: 6, batchEdges: 64, shardEdges: 700, batchesPerRun: 4, shardsPerRun: 5 });
  assert.equal(input.totalEdges, 9600);
  const handle = await startShardedRun(client, input);
  const r = await handle.result();

  const lost = bundle.items.filter((i) => lostDigest(i.digest)).length;
  assert.ok(lost > 0, 'the workload has lost digests');
  // canary: regions 01-03; global: 04-08. region-03 fails (its own edges only); lost digests are lost in the canary
  // and skipped in the global phase (an image failure), never promoted.
  const [canary, global] = r.phases;
  assert.equal(canary!.counts['region-03']![at('failed')], 1200 - lost);
  assert.equal(canary!.counts['region-01']![at('promoted')], 1200 - lost);
  assert.equal(canary!.counts['region-01']![at('lost')], lost);
  for (const d of ['region-04', 'region-08']) {
    assert.equal(global!.counts[d]![at('promoted')], 1200 - lost, `${d}: the failing canary region blocks nothing here`);
    assert.equal(global!.counts[d]![at('skipped')], lost, `${d}: lost images are not rolled out further`);
  }
  assert.equal(r.status, 'failed');
  assert.equal(r.totals.reduce((a, b) => a + b, 0), input.totalEdges, 'every edge is counted');
  assert.equal(r.totals[at('aborted')], 0);
  assert.ok(r.failures.length > 0 && r.failures.length <= 20, 'a bounded failure sample');

  const account = await accountOf(r);
  assert.equal(account.size, input.totalEdges, 'the stored account holds every edge once');
  const promoted = [...account.values()].filter((o) => o === 'promoted').length;
  assert.equal(promoted, r.totals[at('promoted')]);

  const bounds = await measureHistories(client, handle.workflowId);
  assert.ok(bounds.largestPayload.bytes < 256 * 1024, `largest payload ${bounds.largestPayload.bytes} B (${bounds.largestPayload.eventType})`);
  assert.ok(bounds.largestHistory.events < 10_000, `largest history ${bounds.largestHistory.events} events`);
  const shardIds = new Set<string>();
  let runExecutions = 0;
  for await (const w of client.workflow.list()) {
    if (!w.workflowId.startsWith(handle.workflowId)) continue;
    if (w.workflowId === handle.workflowId) runExecutions++;
    else shardIds.add(w.workflowId);
  }
  assert.ok(runExecutions > 1, `the run continued as new (${runExecutions} executions)`);
  assert.ok(bounds.executions > runExecutions + shardIds.size, 'shards continued as new');
  const progress = Buffer.byteLength(JSON.stringify(await handle.query(runProgressQuery)));
  assert.ok(progress < 256 * 1024, `runProgress answer ${progress} B`);
});

test('abort cancels shards in flight: what was not done is aborted, not failed, and every edge is still accounted', async () => {
  // A slow worker on its own queue: each digest takes 50 ms, so the abort lands mid-run.
  await startWorker('slow', stubExecutor({ delayMs: 50 }));
  const bundle = syntheticBundle({ projects: 4, digests: 400, destinations: 4 }, 'abort');
  bundle.destinations = bundle.destinations.map((d) => ({ ...d, taskQueue: 'slow' }));
  const input = await storeRun(store, bundle, { window: 2, batchEdges: 40, shardEdges: 200 });
  const handle = await startShardedRun(client, input);
  await eventually('some edges done', async () => (await handle.query(runProgressQuery)).totals[at('promoted')]! > 0, 60_000);
  await sendControl(client, handle.workflowId, 'abort', { by: 'tester', reason: 'stop' });
  const r = await handle.result();
  assert.equal(r.status, 'aborted');
  assert.equal(r.totals[at('failed')], 0, 'cancelled edges are not failures');
  assert.ok(r.totals[at('aborted')]! > 0);
  assert.ok(r.totals[at('promoted')]! > 0);
  assert.equal(r.totals.reduce((a, b) => a + b, 0), input.totalEdges, 'every edge is counted');
  const account = await accountOf(r);
  assert.equal(account.size, input.totalEdges);
  assert.equal([...account.values()].filter((o) => o === 'aborted').length, r.totals[at('aborted')]);
  assert.equal(r.decisions[0]?.kind, 'abort');
});
