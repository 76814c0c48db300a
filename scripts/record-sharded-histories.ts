// Records replay fixtures of the sharded promotion (shardedRun, promotionShard) into test/fixtures/histories:
// a run with an approval gate, pause/resume, failures, and small batches, shards and runs so that both the run and
// its shards continue as new; and an aborted run whose shards are cancelled in flight. Registry work is stubbed
// (only workflow code is replayed). Run it when the sharded workflows change incompatibly (guard with patched()).
//   node --import tsx scripts/record-sharded-histories.ts [label]
import { scrubStacks } from '../src/testing/history-fixtures';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createActivities, createActivityDeps } from '../src/activities';
import { sendControl } from '../src/client/control';
import { startShardedRun, storeRun } from '../src/client/sharded-start';
import { FsStateStore } from '../src/state/store';
import { REPO_ROOT, eventually, startTestEnvironment, testClient } from '../src/testing/harness';
import { stubExecutor } from '../src/testing/stub-executor';
import { syntheticBundle } from '../src/testing/synthetic-workload';
import { createWorker } from '../src/worker/worker';
import { runProgressQuery } from '../src/contract';

async function main(): Promise<void> {
  const label = process.argv[2] ?? 'v3-sharded';
  const out = join(REPO_ROOT, 'test', 'fixtures', 'histories');
  const env = await startTestEnvironment('record-sharded', { registries: [] });
  const store = new FsStateStore(join(env.stateDir, 'store'));
  const stops: Array<() => Promise<void>> = [];
  for (const [taskQueue, execute] of [['promoflow', stubExecutor({ failAt: ['region-03'], lost: (d) => d.endsWith('0') })], ['slow', stubExecutor({ delayMs: 1000 })]] as const) {
    const { worker, connection } = await createWorker({ address: env.temporal!.address, taskQueue, store, activities: createActivities(createActivityDeps({ store }), { execute }) });
    const running = worker.run();
    stops.push(async () => (worker.shutdown(), await running.catch(() => undefined), await connection.close()));
  }
  const client = await testClient(env);
  try {
    const gated = syntheticBundle({ projects: 3, digests: 30, destinations: 4, canary: 1 }, `fixture-${label}`);
    gated.phases[0] = { ...gated.phases[0]!, approval: true };
    const a = await startShardedRun(client, await storeRun(store, gated, { window: 1, batchWindow: 1, batchEdges: 6, shardEdges: 30, batchesPerRun: 2, shardsPerRun: 2 }));
    await eventually('the gate', async () => (await a.query(runProgressQuery)).status === 'awaiting-approval', 120_000);
    await sendControl(client, a.workflowId, 'pause', { by: 'recorder' });
    await sendControl(client, a.workflowId, 'approve', { by: 'recorder', reason: 'fixture' });
    await sendControl(client, a.workflowId, 'resume', { by: 'recorder' });
    await a.result();

    const slow = syntheticBundle({ projects: 2, digests: 200, destinations: 2 }, `fixture-${label}-abort`);
    slow.destinations = slow.destinations.map((d) => ({ ...d, taskQueue: 'slow' }));
    const b = await startShardedRun(client, await storeRun(store, slow, { window: 2, batchEdges: 4, shardEdges: 40 }));
    await eventually('progress', async () => (await b.query(runProgressQuery)).done > 0, 120_000);
    await sendControl(client, b.workflowId, 'abort', { by: 'recorder', reason: 'fixture' });
    await b.result();

    const indexFile = join(out, 'index.json');
    const recorded: Record<string, string> = existsSync(indexFile) ? (JSON.parse(readFileSync(indexFile, 'utf8')) as Record<string, string>) : {};
    let n = 0;
    for await (const w of client.workflow.list()) {
      // Every run execution, and the shards' first executions (continue-as-new and cancellation included).
      if (w.type === 'promotionShard' && !/shard-0$/.test(w.workflowId)) continue;
      const history = execFileSync(env.temporalServer!.binary, ['workflow', 'show', '--address', env.temporal!.address, '--workflow-id', w.workflowId, '--run-id', w.runId, '--output', 'json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      const file = `${label}-${w.type}-${w.workflowId.split('/').slice(1).join('-').replace(/[^A-Za-z0-9.-]+/g, '_')}-${w.runId.slice(-8)}.json`;
      writeFileSync(join(out, file), JSON.stringify(scrubStacks(JSON.parse(history)), null, 2) + '\n');
      recorded[file] = w.workflowId;
      n++;
    }
    writeFileSync(indexFile, JSON.stringify(recorded, null, 2) + '\n');
    console.log(`wrote ${n} histories to ${out}`);
  } finally {
    await client.connection.close();
    for (const s of stops) await s();
    await env.cleanup();
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
