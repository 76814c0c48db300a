// Scale benchmark (not a test): orchestration cost of one sharded promotion of a registry.k8s.io-shaped workload
// (default 46,000 digests × 22 destinations ≈ 1M edges, 110 projects, canary phase of 2 then 20) on a real
// Temporal dev server (src/dev) with one in-process worker. Copy/sign work is stubbed (src/testing/stub-executor):
// everything else is real: the bundle in a filesystem state store, planning activities, shard workflows, batch
// activities writing accounts, continue-as-new. Prints edges, wall time, the largest payload and the largest
// history of any execution (read back from the server), amortized ms per edge and the worker's peak RSS, against
// the targets (< 256 KB, < 10,000 events, < 0.5 ms/edge, < 1 GB).
//
// Run: npm run bench:scale [-- --digests 46000 --dests 22 --projects 110 --canary 2 --window 16 --batch-edges 512
//                              --shard-edges 16384 --activities 64]
//
// `--mode reconcile`: one sharded reconcile (reconcileRun) of the same workload with a stub inventory where
// `--lagging N` destinations (default 1: ~46k findings) hold nothing, and (`--repair 1`, the default) its repair
// through one sharded promotion; same table (edges inventoried, findings, repaired). Defaults there: --window 8
// --batch-edges 2048.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startEnvironment } from '../src/dev/environment';
import { createActivities, createActivityDeps } from '../src/activities';
import { createWorker } from '../src/worker/worker';
import { FsStateStore } from '../src/state/store';
import { storeRun, startShardedRun } from '../src/client/sharded-start';
import { syntheticBundle } from '../src/testing/synthetic-workload';
import { stubExecutor } from '../src/testing/stub-executor';
import { measureHistories } from '../src/testing/history-bounds';
import { runProgressQuery, reconcileProgressQuery } from '../src/contract';
import { stubInventory } from '../src/testing/stub-inventory';
import { startReconcileRun } from '../src/client/reconcile';
import { putJson } from '../src/state';
import { EDGE_OUTCOMES } from '../src/contract/sharded-run';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer`);
  return v;
}

const TARGETS = { payloadBytes: 256 * 1024, events: 10_000, msPerEdge: 0.5, rssBytes: 1 << 30 };

function modeArg(): 'promote' | 'reconcile' {
  const i = process.argv.indexOf('--mode');
  const v = i >= 0 ? process.argv[i + 1] : 'promote';
  if (v !== 'promote' && v !== 'reconcile') throw new Error('--mode is promote or reconcile');
  return v;
}

async function main(): Promise<void> {
  if (modeArg() === 'reconcile') return reconcileMode();
  const size = { digests: arg('digests', 46_000), destinations: arg('dests', 22), projects: arg('projects', 110), canary: arg('canary', 2) };
  const tuning = { window: arg('window', 16), batchEdges: arg('batch-edges', 512), shardEdges: arg('shard-edges', 16384) };
  const stateDir = mkdtempSync(join(tmpdir(), 'promoflow-bench-scale-'));
  const env = await startEnvironment({ stateDir, registries: [], headless: true });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
  try {
    const store = new FsStateStore(join(stateDir, 'store'));
    const bundle = syntheticBundle(size, `scale-${Date.now()}`);
    const input = await storeRun(store, bundle, tuning);
    console.log(`bench: ${size.digests} digests × ${size.destinations} destinations (${size.projects} projects, canary ${size.canary}) = ${input.totalEdges} edges; window ${tuning.window}, ${tuning.batchEdges} edges/batch, ${tuning.shardEdges} edges/shard; 2 cores shared`);
    const deps = createActivityDeps({ store });
    const { worker, connection } = await createWorker({
      address: env.temporal!.address,
      store,
      activities: createActivities(deps, { execute: stubExecutor() }),
      maxConcurrentActivities: arg('activities', 64),
      maxConcurrentWorkflowTasks: 40,
    });
    const running = worker.run();
    const client = new Client({ connection: await Connection.connect({ address: env.temporal!.address }) });
    try {
      const t0 = Date.now();
      const handle = await startShardedRun(client, input);
      const result = await handle.result();
      const wallMs = Date.now() - t0;
      const progressBytes = Buffer.byteLength(JSON.stringify(await handle.query(runProgressQuery)));
      peakRss = Math.max(peakRss, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
      const promoted = result.totals[EDGE_OUTCOMES.indexOf('promoted')]!;
      if (result.status !== 'succeeded' || promoted !== input.totalEdges) throw new Error(`run ended ${result.status}: ${EDGE_OUTCOMES.map((o, i) => `${o} ${result.totals[i]}`).join(', ')}`);
      const bounds = await measureHistories(client, handle.workflowId);
      const largestPayload = Math.max(bounds.largestPayload.bytes, progressBytes);
      const msPerEdge = wallMs / input.totalEdges;
      const row = (what: string, value: string, target: string, ok: boolean) => console.log(`${what.padEnd(34)} ${value.padStart(16)}   ${target.padEnd(12)} ${ok ? 'OK' : 'OVER TARGET'}`);
      console.log('');
      console.log(`${'measure'.padEnd(34)} ${'value'.padStart(16)}   ${'target'.padEnd(12)}`);
      row('edges (all promoted)', String(input.totalEdges), '≈1M', true);
      row('wall, start → result', `${(wallMs / 1000).toFixed(1)} s`, '', true);
      row('largest payload (history, query)', `${(largestPayload / 1024).toFixed(1)} KB`, '< 256 KB', largestPayload < TARGETS.payloadBytes);
      row('largest history of any execution', `${bounds.largestHistory.events} events`, '< 10,000', bounds.largestHistory.events < TARGETS.events);
      row('amortized orchestration', `${msPerEdge.toFixed(3)} ms/edge`, '< 0.5 ms', msPerEdge < TARGETS.msPerEdge);
      row('worker (bench process) peak RSS', `${(peakRss / 1e6).toFixed(0)} MB`, '< 1 GB', peakRss < TARGETS.rssBytes);
      console.log('');
      console.log(`bench: ${bounds.executions} executions (continue-as-new runs included), ${bounds.totalEvents} events in all; largest payload ${bounds.largestPayload.bytes} B in ${bounds.largestPayload.eventType} of ${bounds.largestPayload.workflowId}; runProgress query ${progressBytes} B; largest history ${bounds.largestHistory.workflowId}`);
      console.log(JSON.stringify({ edges: input.totalEdges, wallMs, largestPayloadBytes: largestPayload, largestHistoryEvents: bounds.largestHistory.events, msPerEdge: Number(msPerEdge.toFixed(4)), peakRssBytes: peakRss, executions: bounds.executions, totalEvents: bounds.totalEvents, tuning, size }));
    } finally {
      worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
      await client.connection.close();
    }
  } finally {
    clearInterval(sampler);
    await env.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message.split('\n')[0]}`);
  process.exitCode = 1;
});

/** The reconcile mode: inventory of every edge (stubbed registry reads), findings by reference, repair by promotion. */
async function reconcileMode(): Promise<void> {
  const size = { digests: arg('digests', 46_000), destinations: arg('dests', 22), projects: arg('projects', 110), canary: arg('canary', 2) };
  const tuning = { window: arg('window', 8), batchEdges: arg('batch-edges', 2048), shardEdges: arg('shard-edges', 16384) };
  const laggingCount = arg('lagging', 1);
  const repair = arg('repair', 1) === 1;
  const stateDir = mkdtempSync(join(tmpdir(), 'promoflow-bench-reconcile-'));
  const env = await startEnvironment({ stateDir, registries: [], headless: true });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
  try {
    const store = new FsStateStore(join(stateDir, 'store'));
    const bundle = syntheticBundle(size, `reconcile-${Date.now()}`);
    const lagging = bundle.destinations.slice(-laggingCount).map((d) => d.name);
    const edges = bundle.items.length * bundle.destinations.length;
    console.log(`bench: reconcile ${size.digests} digests × ${size.destinations} destinations = ${edges} edges; lagging ${lagging.join(', ') || 'none'}; repair ${repair}; window ${tuning.window}, ${tuning.batchEdges} edges/batch; 2 cores shared`);
    const { worker, connection } = await createWorker({
      address: env.temporal!.address,
      store,
      activities: createActivities(createActivityDeps({ store }), { execute: stubExecutor(), inventory: stubInventory({ lagging }) }),
      maxConcurrentActivities: arg('activities', 64),
      maxConcurrentWorkflowTasks: 40,
    });
    const running = worker.run();
    const client = new Client({ connection: await Connection.connect({ address: env.temporal!.address }) });
    try {
      const t0 = Date.now();
      const workflowId = `reconcile/bench-${Date.now()}`;
      const handle = await startReconcileRun(client, { name: bundle.name, source: { kind: 'bundle', bundle: await putJson(store, bundle), policy: { policy: { signatures: false, attestations: false } } }, repair, tuning }, workflowId);
      const r = await handle.result();
      const wallMs = Date.now() - t0;
      const progressBytes = Buffer.byteLength(JSON.stringify(await handle.query(reconcileProgressQuery)));
      peakRss = Math.max(peakRss, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
      const expected = size.digests * lagging.length;
      if (r.findings !== expected) throw new Error(`reconcile found ${r.findings}, expected ${expected}`);
      if (repair && r.repair?.repaired !== expected) throw new Error(`repair settled ${r.repair?.repaired ?? 0} of ${expected}`);
      const bounds = await measureHistories(client, workflowId);
      const largestPayload = Math.max(bounds.largestPayload.bytes, progressBytes);
      const cpu = process.cpuUsage();
      const row = (what: string, value: string, target: string, ok: boolean) => console.log(`${what.padEnd(34)} ${value.padStart(16)}   ${target.padEnd(12)} ${ok ? 'OK' : 'OVER TARGET'}`);
      console.log('');
      console.log(`${'measure'.padEnd(34)} ${'value'.padStart(16)}   ${'target'.padEnd(12)}`);
      row('edges inventoried', String(edges), '≈1M', true);
      row('findings (stored by reference)', String(r.findings), '', true);
      row('repaired (one sharded promotion)', String(r.repair?.repaired ?? 0), '', true);
      row('wall, start → result', `${(wallMs / 1000).toFixed(1)} s`, '', true);
      row('bench process CPU (user+sys)', `${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`, '', true);
      row('largest payload (history, query)', `${(largestPayload / 1024).toFixed(1)} KB`, '< 256 KB', largestPayload < TARGETS.payloadBytes);
      row('largest history of any execution', `${bounds.largestHistory.events} events`, '< 10,000', bounds.largestHistory.events < TARGETS.events);
      row('worker (bench process) peak RSS', `${(peakRss / 1e6).toFixed(0)} MB`, '< 1 GB', peakRss < TARGETS.rssBytes);
      console.log('');
      console.log(`bench: ${bounds.executions} executions (reconcile, its continue-as-new runs, the repair run and its shards), ${bounds.totalEvents} events; largest payload ${bounds.largestPayload.bytes} B in ${bounds.largestPayload.eventType} of ${bounds.largestPayload.workflowId}; reconcileProgress query ${progressBytes} B; largest history ${bounds.largestHistory.workflowId}`);
      console.log(JSON.stringify({ mode: 'reconcile', edges, findings: r.findings, repaired: r.repair?.repaired ?? 0, wallMs, cpuMs: Math.round((cpu.user + cpu.system) / 1000), largestPayloadBytes: largestPayload, largestHistoryEvents: bounds.largestHistory.events, peakRssBytes: peakRss, executions: bounds.executions, tuning, size }));
    } finally {
      worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
      await client.connection.close();
    }
  } finally {
    clearInterval(sampler);
    await env.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
