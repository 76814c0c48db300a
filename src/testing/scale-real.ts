// The real-registry scale run (bench/scale-real.ts at full size, test/workflows/scale-real.int.test.ts short): small
// images pushed to a staging registry, promoted with copy + sign + attest + replicate + verify to D destination
// registries (one docker-registry process each, on loopback) through the real CLI, by several `promoflow worker`
// processes sharing one task queue and one state store, while one of them is SIGKILLed every few seconds and
// restarted by its supervisor. Then: every edge's account is read back through `status --json`; a second run of
// the same manifest (nothing to do) is timed; a reconcile must report no drift. CPU and peak RSS are sampled from
// /proc for the workers (across restarts), the Temporal dev server and the registries.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryClient, mapLimit } from '../oci';
import { writeKeyPair } from '../signing';
import { buildImage, pushImage } from '../dev';
import { writeWorkflowBundle } from '../worker';
import { EDGE_OUTCOMES, type EdgeRecord } from '../contract';
import { Supervisor } from './chaos';
import { eventually, spawnCli, startTestEnvironment, testClient } from './harness';
import { measureHistories, type HistoryBounds } from './history-bounds';

export interface ScaleRealOptions {
  images: number;
  destinations: number;
  workers: number;
  /** Seconds between SIGKILLs of one worker (0: none). */
  killEverySeconds: number;
  /** Stop killing after this many SIGKILLs (default: never stop): a short run proves resumption, then completes. */
  maxKills?: number;
  /** Give up after this long: stop every process this run started and exit the process (a test must never hang). */
  deadlineSeconds?: number;
  /** Repository groups the images are spread over (`team-<k>/app-<i>`), so shards hold many images each. */
  groups: number;
  /** Read back every execution's history for the largest payload and history (slow at full size). */
  histories: boolean;
  /**
   * PROMOFLOW_WORKER_DIGESTS of each worker: digests one worker promotes at once. Here every worker shares two cores
   * with 21 registries and Temporal, so a few per worker keep the machine busy and let each digest finish well
   * inside a worker's ~30 s between SIGKILLs (16 each would all still be running at the next kill).
   */
  workerDigests?: number;
  /**
   * `promoflow worker --concurrency`: activities one worker takes at once. A few, so batches beyond what the workers
   * are working on wait in the task queue: a restarted worker picks them up at once instead of sitting idle while
   * the batches of the worker it replaces wait out their heartbeat timeout.
   */
  workerActivities?: number;
  /** Run the CLI and workers from the build in dist/ (as the package does; `npm run build` first), not through tsx. */
  compiled?: boolean;
  log: (line: string) => void;
}

export const DEFAULT_SCALE_REAL: Omit<ScaleRealOptions, 'log'> = { images: 5000, destinations: 20, workers: 3, killEverySeconds: 10, groups: 50, histories: true, workerDigests: 3, workerActivities: 3 };

export interface ScaleRealReport {
  edges: number;
  first: { exit: number | null; seconds: number; totals: Record<string, number>; accounted: number; unique: number; verified: number; failures: string[] };
  kills: number;
  /** Kill ticks with no worker polling (all restarting): no kill. */
  idleTicks: number;
  /** Mean seconds from a SIGKILL to the restarted worker polling. */
  restartSeconds: number;
  workerStarts: number;
  cpuSeconds: { workers: number; temporal: number; registries: number };
  workerPeakRssMb: number;
  second: { exit: number | null; seconds: number; nothingToDo: boolean; output: string };
  reconcile: { exit: number | null; seconds: number; findings: number; note?: string };
  bounds?: HistoryBounds;
  pushSeconds: number;
}

const PASSWORD = 'scale-real-password';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** user + system CPU seconds of a live process (and of its waited-for children). */
function cpuOf(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // Fields 14–17 of stat (utime, stime, cutime, cstime), counted from `state` (field 3) here.
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return undefined;
  }
}

function peakRssOf(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Per-PID last CPU reading and peak RSS, sampled while processes come and go (a SIGKILLed worker's last sample stays). */
class Sampler {
  readonly cpu = new Map<number, number>();
  peakRss = 0;
  sample(pids: Iterable<number | undefined>): void {
    for (const pid of pids) {
      if (pid === undefined) continue;
      const c = cpuOf(pid);
      if (c !== undefined) this.cpu.set(pid, c);
      this.peakRss = Math.max(this.peakRss, peakRssOf(pid));
    }
  }
  total(): number {
    let n = 0;
    for (const v of this.cpu.values()) n += v;
    return n;
  }
}

export async function runScaleReal(o: ScaleRealOptions): Promise<ScaleRealReport> {
  const names = Array.from({ length: o.destinations }, (_, i) => (i === 0 ? 'prod' : `mirror-${i}`));
  const env = await startTestEnvironment('scale-real', { registries: ['staging', ...names] });
  const oci = new RegistryClient();
  const supervisors: Supervisor[] = [];
  // The one store every worker and the CLI share (bundles, shard work sets, accounts).
  process.env.PROMOFLOW_STATE_STORE = join(env.stateDir, 'store');
  const edges = o.images * o.destinations;
  // Interrupted (Ctrl-C, a timeout): the supervised workers go too (the registries and Temporal have a parent-death signal).
  let cli: number | undefined;
  const interrupted = () => {
    for (const s of supervisors) void s.stop();
    if (cli !== undefined) process.kill(cli, 'SIGKILL');
    setTimeout(() => process.exit(130), 2000);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const deadline = o.deadlineSeconds
    ? setTimeout(() => {
        o.log(`scale-real: not done after ${o.deadlineSeconds} s: stopping every process it started`);
        interrupted();
      }, o.deadlineSeconds * 1000).unref()
    : undefined;
  try {
    // 1. Images: one small layer each, pushed to staging.
    const t0 = Date.now();
    const images = await mapLimit(Array.from({ length: o.images }, (_, i) => i), 16, async (i) => {
      const name = `team-${i % o.groups}/app-${i}`;
      const image = buildImage({ seed: `scale-real-${i}`, layers: 1, layerBytes: 512 });
      await pushImage(oci, { registry: env.registries.staging!, repository: `staging/${name}` }, image);
      return { name, digest: image.digest };
    });
    const pushSeconds = (Date.now() - t0) / 1000;
    o.log(`scale-real: ${o.images} images pushed in ${pushSeconds.toFixed(0)} s`);
    const keys = join(env.stateDir, 'keys');
    await writeKeyPair(keys, PASSWORD);
    const manifest = join(env.stateDir, 'scale-real.yaml');
    writeFileSync(
      manifest,
      [
        'apiVersion: promoflow.dev/v1alpha1',
        'kind: Promotion',
        'metadata: {name: scale-real}',
        `source: {registry: "${env.registries.staging}/staging"}`,
        'destinations:',
        ...names.map((n, i) => `  - {name: ${n}, registry: "${env.registries[n]}/k8s"${i === 0 ? ', canonical: true' : ''}}`),
        'phases:',
        `  - {name: all, destinations: [${names.join(', ')}]}`,
        'signing:',
        `  key: file://${join(keys, 'cosign.key')}`,
        '  attest: true',
        '  dockerReference: registry.example.io/k8s',
        'images:',
        ...images.flatMap(({ name, digest }) => [`  - name: ${name}`, `    dmap: {"${digest}": ["v1"]}`]),
        '',
      ].join('\n'),
    );

    // 2. Workers: supervised processes on one task queue, the workflow bundle built once (a restart polls in seconds).
    const bundle = join(env.stateDir, 'workflow-bundle.js');
    await writeWorkflowBundle(bundle);
    for (let i = 0; i < o.workers; i++) supervisors.push(new Supervisor(() => env.temporal!.address, { COSIGN_PASSWORD: PASSWORD, PROMOFLOW_WORKFLOW_BUNDLE: bundle, PROMOFLOW_BLOB_CACHE_DIR: env.stateDir, ...(o.workerDigests ? { PROMOFLOW_WORKER_DIGESTS: String(o.workerDigests) } : {}) }, o.compiled, o.workerActivities ? ['--concurrency', String(o.workerActivities)] : []));
    for (const s of supervisors) s.start();
    await eventually('every worker polling', async () => supervisors.every((s) => s.polling()), 180_000);

    const pidsFile = () => readFileSync(join(env.stateDir, 'pids'), 'utf8').split('\n').filter(Boolean).map((l) => ({ pid: Number.parseInt(l, 10), name: l.split(' ')[1] ?? '' }));
    const workers = new Sampler();
    const temporal = new Sampler();
    const registries = new Sampler();
    const sampleAll = () => {
      workers.sample(supervisors.map((s) => s.pid));
      const pids = pidsFile();
      temporal.sample(pids.filter((p) => /temporal/i.test(p.name)).map((p) => p.pid));
      registries.sample(pids.filter((p) => !/temporal/i.test(p.name)).map((p) => p.pid));
    };
    const sampler = setInterval(sampleAll, 1000);
    const address = ['--temporal-address', env.temporal!.address, '--json'];

    // 3. The promotion, through the CLI, one worker SIGKILLed every killEverySeconds (round robin) until it ends.
    o.log(`scale-real: promoting ${o.images} images × ${o.destinations} destinations = ${edges} edges (signed, attested, verified) on ${o.workers} workers`);
    const t1 = Date.now();
    const promote = spawnCli(['promote', '-f', manifest, '--confirm', ...address], { timeoutMs: 4 * 3600_000, compiled: o.compiled });
    cli = promote.pid;
    let done = false;
    let kills = 0;
    let idleTicks = 0;
    // Each tick SIGKILLs the worker polling longest; a tick with no worker polling yet (all restarting) kills none,
    // so the run always has a worker that got as far as polling (on a loaded machine a restart takes tens of seconds).
    const pollingSince = new Map<Supervisor, number>();
    const startups: number[] = [];
    const startedAt = new Map<Supervisor, number>();
    const watch = setInterval(() => {
      for (const s of supervisors) {
        if (s.polling()) {
          if (!pollingSince.has(s)) {
            pollingSince.set(s, Date.now());
            const t = startedAt.get(s);
            if (t !== undefined) startups.push((Date.now() - t) / 1000);
          }
        } else pollingSince.delete(s);
      }
    }, 200);
    const killer = (async () => {
      if (!o.killEverySeconds) return;
      while (!done && kills < (o.maxKills ?? Infinity)) {
        await sleep(o.killEverySeconds * 1000);
        if (done) break;
        const oldest = [...pollingSince.entries()].sort((a, b) => a[1] - b[1])[0]?.[0];
        if (!oldest) {
          idleTicks++;
          continue;
        }
        sampleAll();
        pollingSince.delete(oldest);
        startedAt.set(oldest, Date.now());
        oldest.kill();
        kills++;
        if (kills % 10 === 0) o.log(`scale-real: ${kills} worker SIGKILLs so far (${((Date.now() - t1) / 1000).toFixed(0)} s)`);
      }
    })();
    const p = await promote.exited;
    const firstSeconds = (Date.now() - t1) / 1000;
    done = true;
    await killer;
    clearInterval(watch);
    o.log(`scale-real: promote exited ${p.code} after ${firstSeconds.toFixed(0)} s`);
    cli = undefined;
    const first = await readAccount(p.stdout, address, o.compiled);
    if (p.code !== 0) o.log(`scale-real: promote stderr: ${p.stderr.split('\n').filter(Boolean).slice(-5).join(' | ')}`);
    await eventually('every worker polling again', async () => supervisors.every((s) => s.polling()), 180_000);

    // 4. The same manifest again: nothing to do.
    const t2 = Date.now();
    const again = await spawnCli(['promote', '-f', manifest, '--confirm', ...address], { timeoutMs: 3600_000, compiled: o.compiled }).exited;
    const second = { exit: again.code, seconds: (Date.now() - t2) / 1000, nothingToDo: /"nothingToDo":\s*true/.test(again.stdout), output: (again.stdout + again.stderr).slice(0, 300) };
    o.log(`scale-real: second run exited ${again.code} after ${second.seconds.toFixed(1)} s`);

    // 5. A reconcile of the same manifest: no drift.
    const t3 = Date.now();
    const rec = await spawnCli(['reconcile', '-f', manifest, ...address], { timeoutMs: 3600_000, compiled: o.compiled }).exited;
    const reconcile = { exit: rec.code, seconds: (Date.now() - t3) / 1000, ...findingsOf(rec.stdout, rec.stderr) };
    o.log(`scale-real: reconcile exited ${rec.code} after ${reconcile.seconds.toFixed(1)} s`);
    clearInterval(sampler);
    sampleAll();

    let bounds: HistoryBounds | undefined;
    if (o.histories) {
      const client = await testClient(env);
      try {
        bounds = await measureHistories(client, 'promote/');
      } finally {
        await client.connection.close();
      }
    }
    return {
      edges,
      first: { exit: p.code, seconds: firstSeconds, ...first },
      kills,
      idleTicks,
      restartSeconds: startups.length ? startups.reduce((a, b) => a + b, 0) / startups.length : 0,
      workerStarts: supervisors.reduce((n, s) => n + s.starts, 0),
      cpuSeconds: { workers: workers.total(), temporal: temporal.total(), registries: registries.total() },
      workerPeakRssMb: workers.peakRss / 1e6,
      second,
      reconcile,
      ...(bounds ? { bounds } : {}),
      pushSeconds,
    };
  } finally {
    if (deadline) clearTimeout(deadline);
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    for (const s of supervisors) await s.stop();
    oci.close();
    await env.cleanup();
  }
}

/** The run's account, every edge paged from the state store by `promoflow status <id> --json`. */
async function readAccount(stdout: string, address: string[], compiled?: boolean): Promise<Omit<ScaleRealReport['first'], 'exit' | 'seconds'>> {
  let id: string;
  let totals: number[];
  try {
    const j = JSON.parse(stdout) as { workflowId: string; result: { totals: number[] } };
    [id, totals] = [j.workflowId, j.result.totals];
  } catch {
    return { totals: {}, accounted: 0, unique: 0, verified: 0, failures: [`no promote result: ${stdout.slice(0, 200)}`] };
  }
  const status = await spawnCli(['status', id, ...address], { timeoutMs: 600_000, compiled }).exited;
  let accounted = 0;
  let verified = 0;
  const keys = new Set<string>();
  const failures: string[] = [];
  for (const line of status.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const r = JSON.parse(line) as Partial<EdgeRecord>;
    if (!r.outcome || !r.image || !r.destination) continue;
    accounted++;
    keys.add(`${r.image}@${r.digest}|${r.destination}`);
    if ((r.outcome === 'promoted' || r.outcome === 'present') && r.signature === 'verified') verified++;
    else if (failures.length < 10) failures.push(`${r.image} → ${r.destination}: ${r.outcome}: ${r.errorType ?? ''}: ${r.error ?? ''}`);
  }
  return { totals: Object.fromEntries(EDGE_OUTCOMES.map((k, i) => [k, totals[i] ?? 0])), accounted, unique: keys.size, verified, failures };
}

function findingsOf(stdout: string, stderr: string): { findings: number; note?: string } {
  // `reconcile --json` writes JSON lines: the result first (with its count of findings), then one line per finding.
  try {
    const j = JSON.parse(stdout.split('\n')[0]!) as { result: { findings: number } };
    if (!Number.isInteger(j.result.findings)) throw new Error('no count of findings');
    return { findings: j.result.findings };
  } catch {
    return { findings: -1, note: `no reconcile result: ${(stdout + stderr).split('\n').filter(Boolean).slice(-2).join(' | ').slice(0, 300)}` };
  }
}

/** The benchmark's table. */
export function renderScaleRealReport(r: ScaleRealReport): string {
  const ms = (s: number) => ((s * 1000) / Math.max(1, r.edges)).toFixed(2);
  const b = r.bounds;
  const rows: Array<[string, string, string]> = [
    ['edges (images × destinations)', String(r.edges), ''],
    ['first run: promote exit', String(r.first.exit), '0'],
    ['first run: wall', `${r.first.seconds.toFixed(0)} s`, ''],
    ['first run: ms per edge (wall)', ms(r.first.seconds), ''],
    ['first run: edges accounted (unique) via status --json', `${r.first.accounted} (${r.first.unique})`, String(r.edges)],
    ['first run: promoted / present / failed / other', `${r.first.totals.promoted ?? 0} / ${r.first.totals.present ?? 0} / ${r.first.totals.failed ?? 0} / ${(r.first.totals.lost ?? 0) + (r.first.totals.skipped ?? 0) + (r.first.totals.aborted ?? 0)}`, ''],
    ['first run: edges promoted or present with signatures verified', String(r.first.verified), String(r.edges)],
    ['worker SIGKILLs (supervisor starts)', `${r.kills} (${r.workerStarts})`, ''],
    ['kill ticks skipped: no worker polling (all restarting)', String(r.idleTicks), ''],
    ['mean restart: SIGKILL → new worker polling', `${r.restartSeconds.toFixed(1)} s`, ''],
    ['CPU: workers (all processes, across restarts)', `${r.cpuSeconds.workers.toFixed(0)} s`, ''],
    ['CPU: Temporal dev server', `${r.cpuSeconds.temporal.toFixed(0)} s`, ''],
    ['CPU: registries (all)', `${r.cpuSeconds.registries.toFixed(0)} s`, ''],
    ['worker peak RSS (largest process)', `${r.workerPeakRssMb.toFixed(0)} MB`, ''],
    ['second run: exit, nothing to do', `${r.second.exit}, ${r.second.nothingToDo}`, '0, true'],
    ['second run: wall', `${r.second.seconds.toFixed(1)} s (${((100 * r.second.seconds) / Math.max(1e-9, r.first.seconds)).toFixed(1)}% of the first)`, '< 10%'],
    ['second run: ms per edge', ms(r.second.seconds), '< 2'],
    ['reconcile: exit, findings', `${r.reconcile.exit}, ${r.reconcile.findings}`, '0, 0'],
    ['reconcile: wall, ms per edge', `${r.reconcile.seconds.toFixed(1)} s, ${ms(r.reconcile.seconds)}`, ''],
    ...(b
      ? ([
          ['largest payload in any history', `${(b.largestPayload.bytes / 1024).toFixed(1)} KB (${b.largestPayload.eventType})`, '< 256 KB'],
          ['largest history of any execution', `${b.largestHistory.events} events`, '< 10,000'],
          ['executions (continue-as-new runs included), events', `${b.executions}, ${b.totalEvents}`, ''],
        ] as Array<[string, string, string]>)
      : []),
  ];
  const lines = ['| measure | value | target |', '|---|---|---|', ...rows.map(([a, v, t]) => `| ${a} | ${v} | ${t} |`)];
  lines.push('', `(images pushed to staging in ${r.pushSeconds.toFixed(0)} s, not counted)`);
  if (r.second.exit !== 0 || !r.second.nothingToDo) lines.push(`second run output: ${r.second.output}`);
  if (r.reconcile.note) lines.push(`reconcile: ${r.reconcile.note}`);
  for (const f of r.first.failures) lines.push(`not verified: ${f}`);
  return lines.join('\n');
}
