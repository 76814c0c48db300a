// Records replay fixtures of the sharded reconcile (reconcileRun) into test/fixtures/histories: a repairing run
// whose inventory continues as new (small batches and runs) and whose repair is a shardedRun child, and a clean
// run. Registry reading and promotion work are stubbed (only workflow code is replayed). Run it when reconcileRun
// changes incompatibly (guard with patched()).
//   node --import tsx scripts/record-reconcile-histories.ts [label]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createActivities, createActivityDeps } from '../src/activities';
import { startReconcileRun } from '../src/client/reconcile';
import { FsStateStore, putJson } from '../src/state';
import { REPO_ROOT, startTestEnvironment, testClient } from '../src/testing/harness';
import { scrubStacks } from '../src/testing/history-fixtures';
import { stubExecutor } from '../src/testing/stub-executor';
import { stubInventory } from '../src/testing/stub-inventory';
import { syntheticBundle } from '../src/testing/synthetic-workload';
import { createWorker } from '../src/worker/worker';

async function main(): Promise<void> {
  const label = process.argv[2] ?? 'v4-reconcile';
  const out = join(REPO_ROOT, 'test', 'fixtures', 'histories');
  const env = await startTestEnvironment('record-reconcile', { registries: [] });
  const store = new FsStateStore(join(env.stateDir, 'store'));
  const activities = createActivities(createActivityDeps({ store }), { execute: stubExecutor(), inventory: stubInventory({ lagging: ['region-02'] }) });
  const { worker, connection } = await createWorker({ address: env.temporal!.address, taskQueue: 'promoflow', store, activities });
  const running = worker.run();
  const client = await testClient(env);
  try {
    const policy = { policy: { signatures: false, attestations: false } };
    const lagging = syntheticBundle({ projects: 2, digests: 24, destinations: 3 }, `fixture-${label}`);
    await (await startReconcileRun(client, { name: lagging.name, source: { kind: 'bundle', bundle: await putJson(store, lagging), policy }, repair: true, tuning: { window: 2, batchEdges: 12, shardEdges: 36, batchesPerRun: 3 } }, `reconcile/fixture-${label}`)).result();
    const clean = syntheticBundle({ projects: 1, digests: 6, destinations: 1 }, `fixture-${label}-clean`);
    await (await startReconcileRun(client, { name: clean.name, source: { kind: 'bundle', bundle: await putJson(store, clean), policy }, repair: true }, `reconcile/fixture-${label}-clean`)).result();

    const indexFile = join(out, 'index.json');
    const recorded: Record<string, string> = existsSync(indexFile) ? (JSON.parse(readFileSync(indexFile, 'utf8')) as Record<string, string>) : {};
    let n = 0;
    for await (const w of client.workflow.list({ query: `WorkflowType = 'reconcileRun'` })) {
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
    worker.shutdown();
    await running.catch(() => undefined);
    await connection.close();
    await env.cleanup();
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
