// Orchestration benchmark (not a test): what Temporal costs per image × destination. N small images (one tiny
// layer each) in a local staging registry go to D local registries twice at the same parallelism:
//   plain: the OCI client's copyImage, one call per image × destination, P at a time (what a script would do);
//   flow:  a PromotionRun (one phase, all D destinations, verification off) on a local Temporal dev server with one
//          in-process worker running P activities at a time: ImagePromotion children, checkSource, a copy activity
//          per destination, heartbeats, details and search attributes, everything promoflow does in production.
// Each writes to its own repositories, so both make every copy. The per-edge overhead is (flow − plain) / edges.
//
// Run: npm run bench:orchestration [-- --images 1000 --dests 3 --parallel 32 --children 50]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startEnvironment } from '../src/dev/environment';
import { copyImage, RegistryClient } from '../src/oci';
import { mapLimit } from '../src/oci/limits';
import { buildImage, pushImage } from '../src/dev/sample-images';
import { createWorker } from '../src/worker/worker';
import { startPromotion } from '../src/client/promote';
import type { PromotionRunInput } from '../src/contract';

/** CPU seconds (user + system) a process has used so far, from /proc (0 if it is gone). */
function cpuOf(pid: number): number {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime in clock ticks (100 Hz)
  } catch {
    return 0;
  }
}

/** CPU used by each side during `fn`: this process (OCI client, worker, workflow threads), Temporal, the registries. */
async function measured<T>(pids: { temporal: number; registries: number[] }, fn: () => Promise<T>): Promise<{ value: T; ms: number; cpu: { self: number; temporal: number; registries: number } }> {
  const snap = () => ({ self: cpuOf(process.pid), temporal: cpuOf(pids.temporal), registries: pids.registries.reduce((n, p) => n + cpuOf(p), 0) });
  const a = snap();
  const t = Date.now();
  const value = await fn();
  const ms = Date.now() - t;
  const b = snap();
  return { value, ms, cpu: { self: b.self - a.self, temporal: b.temporal - a.temporal, registries: b.registries - a.registries } };
}

const fmtCpu = (c: { self: number; temporal: number; registries: number }, edges: number) =>
  `CPU: promoflow ${c.self.toFixed(1)} s, Temporal ${c.temporal.toFixed(1)} s, registries ${c.registries.toFixed(1)} s (${(((c.self + c.temporal + c.registries) * 1000) / edges).toFixed(2)} CPU-ms/edge)`;

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
}

async function main(): Promise<void> {
  const nImages = arg('images', 1000);
  const nDests = arg('dests', 3);
  const parallel = arg('parallel', 32);
  const children = arg('children', 50);
  const edges = nImages * nDests;
  const stateDir = mkdtempSync(join(tmpdir(), 'promoflow-bench-orch-'));
  const dests = Array.from({ length: nDests }, (_, i) => `dest${i + 1}`);
  const env = await startEnvironment({ stateDir, registries: ['staging', ...dests], headless: true });
  try {
    const oci = new RegistryClient();
    const staging = env.registries.staging!;
    console.log(`bench: ${nImages} images → ${nDests} registries = ${edges} edges, parallel ${parallel} (children ${children}); 2 cores shared`);

    const t = Date.now();
    const images = await mapLimit(Array.from({ length: nImages }, (_, i) => i), 16, async (i) => {
      const img = buildImage({ seed: `bench-orch-${i}-${Date.now()}` });
      await pushImage(oci, { registry: staging, repository: `staging/img${i}` }, img);
      return { name: `img${i}`, digest: img.digest };
    });
    console.log(`bench: staged ${nImages} images in ${((Date.now() - t) / 1000).toFixed(1)} s`);

    // plain: the OCI client alone, P copies in flight.
    const pids = { temporal: env.temporalServer!.process.pid, registries: Object.values(env.registryServers).map((r) => r.process.pid) };
    const jobs = images.flatMap((img) => dests.map((d) => ({ img, d })));
    const plain = await measured(pids, () =>
      mapLimit(jobs, parallel, ({ img, d }) =>
        copyImage(oci, { registry: staging, repository: `staging/${img.name}`, digest: img.digest as `sha256:${string}` }, [{ repo: { registry: env.registries[d]!, repository: `plain/${img.name}` }, tags: ['v1'] }]),
      ),
    );
    const plainMs = plain.ms;
    console.log(`bench: plain copyImage  wall ${(plainMs / 1000).toFixed(1).padStart(6)} s   ${(plainMs / edges).toFixed(2)} ms/edge   ${fmtCpu(plain.cpu, edges)}`);

    // flow: the same copies as one PromotionRun on Temporal.
    const { worker, connection } = await createWorker({ address: env.temporal!.address, maxConcurrentActivities: parallel, maxConcurrentWorkflowTasks: 40 });
    const running = worker.run();
    const client = new Client({ connection: await Connection.connect({ address: env.temporal!.address }) });
    try {
      const input: PromotionRunInput = {
        name: `bench-${Date.now()}`,
        manifestFiles: ['bench'],
        source: { registry: `${staging}/staging` },
        destinations: dests.map((d) => ({ name: d, registry: `${env.registries[d]}/flow` })),
        phases: [{ name: 'all', destinations: dests, soakSeconds: 0, verify: false, approval: false }],
        items: images.map((i) => ({ image: i.name, digest: i.digest, tags: ['v1'] })),
        concurrency: children,
      };
      const flow = await measured(pids, async () => {
        const h = await startPromotion(client, input);
        return { handle: h, result: await h.result() };
      });
      const { handle, result } = flow.value;
      const flowMs = flow.ms;
      if (result.status !== 'succeeded' || result.counts.promoted !== edges) throw new Error(`run ended ${result.status}: ${JSON.stringify(result.counts)}`);
      const history = await handle.fetchHistory();
      console.log(`bench: promoflow run    wall ${(flowMs / 1000).toFixed(1).padStart(6)} s   ${(flowMs / edges).toFixed(2)} ms/edge   ${fmtCpu(flow.cpu, edges)}`);
      console.log(`bench: (${history.events?.length ?? 0} events in the last run's history)`);
      const overhead = (flowMs - plainMs) / edges;
      const cpuTotal = (c: typeof plain.cpu) => c.self + c.temporal + c.registries;
      const cpuOverhead = ((cpuTotal(flow.cpu) - cpuTotal(plain.cpu)) * 1000) / edges;
      console.log(`bench: orchestration overhead ${overhead.toFixed(2)} ms wall per image × destination (target < 20 ms): ${overhead < 20 ? 'OK' : 'OVER TARGET'}; ${cpuOverhead.toFixed(2)} CPU-ms per edge`);
      console.log(JSON.stringify({ images: nImages, dests: nDests, edges, parallel, children, plainMs, flowMs, overheadMsPerEdge: Number(overhead.toFixed(2)), cpuOverheadMsPerEdge: Number(cpuOverhead.toFixed(2)), plainCpu: plain.cpu, flowCpu: flow.cpu }));
    } finally {
      worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
      await client.connection.close();
    }
  } finally {
    await env.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message.split('\n')[0]}`);
  process.exitCode = 1;
});
