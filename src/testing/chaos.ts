// The chaos suite's engine (bench/chaos.ts at full size, test/chaos.int.test.ts short): one signed, attested,
// phased promotion and then a reconcile with repair, both through the real CLI, against real registries behind
// seeded fault proxies (5xx, 429 with Retry-After, resets, responses cut mid-body, flipped bytes, stalls), while a
// supervisor keeps SIGKILLing and restarting the worker, the Temporal dev server is restarted and a destination
// registry is restarted. Afterwards every destination is checked from outside with the real cosign (v2 and v3),
// skopeo and crane, signature layers and tags are counted, and the run's account is compared with the registries.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deleteManifest, getManifest, headManifest, RegistryClient } from '../oci';
import { attestationTag, signatureTag } from '../model';
import { writeKeyPair } from '../signing';
import { buildImage, buildIndex, COSIGN_VERSIONS, findCosign, pushImage, runCosign, startDevTemporal, startRegistry, toolsBin, type BuiltImage, type LocalRegistry } from '../dev';
import { writeWorkflowBundle } from '../worker';
import { EDGE_OUTCOMES, type EdgeRecord } from '../contract';
import { seededRandom, startFaultProxy, type Fault, type FaultProxy, type FaultRule } from './fault-proxy';
import { cliEntry, REPO_ROOT, eventually, spawnCli, startTestEnvironment } from './harness';

export interface ChaosOptions {
  seed: number;
  images: number;
  /** Destination registries (the first is production, the signing home); the source comes on top. */
  destinations: number;
  /** SIGKILLs of the worker, spread over the promotion and the reconcile. */
  kills: number;
  /** Probability that a request to a registry gets a fault (split over the fault kinds). */
  faultRate: number;
  temporalRestart: boolean;
  registryRestart: boolean;
  /** Progress lines (stderr in the benchmark, diagnostics in the test). */
  log: (line: string) => void;
}

export const DEFAULT_CHAOS: Omit<ChaosOptions, 'seed' | 'log'> = { images: 10, destinations: 6, kills: 10, faultRate: 0.05, temporalRestart: true, registryRestart: true };

export interface ChaosCheck {
  name: string;
  ok: number;
  total: number;
  note?: string;
}

export interface ChaosReport {
  seed: number;
  seconds: number;
  requests: number;
  faults: Record<string, number>;
  events: { workerKills: number; workerStarts: number; temporalRestarts: number; registryRestarts: number };
  promote: { exit: number | null; edges: number; promoted: number; present: number; failed: number; other: number; failures: string[] };
  reconcile: { exit: number | null; findings: number; repaired: number; failures: string[] };
  checks: ChaosCheck[];
  /** Everything held: 100% promoted and verified, nothing corrupt, moved or duplicated, both CLIs exit 0. */
  passed: boolean;
}

const PASSWORD = 'chaos-suite-password';

const FAULT_LABEL = (kind: string, status?: number): string =>
  kind === 'status' ? (status === 429 ? '429 with Retry-After' : `${status ?? '5xx'}`) : kind === 'cut' ? 'response cut mid-body' : kind === 'flipByte' ? 'byte flipped in a body' : kind === 'reset' ? 'connection reset' : kind === 'delay' ? 'stall (1.5 s)' : kind;

/** Fault rules in front of every registry, at about `rate` of all requests. */
function faultRules(rate: number): FaultRule[] {
  const share = (k: number): number => (rate * k) / 100;
  const rules: Array<[Fault, number, string?]> = [
    [{ kind: 'status', status: 503 }, 30],
    [{ kind: 'status', status: 429, retryAfter: '1' }, 20],
    [{ kind: 'cut' }, 20],
    [{ kind: 'flipByte', offset: 'random' }, 10, 'GET'],
    [{ kind: 'reset' }, 10],
    [{ kind: 'delay', ms: 1500 }, 10],
  ];
  // Each rule draws on its own, in order: the first that fires wins; probabilities are set so the total is `rate`.
  let left = 1;
  return rules.map(([fault, k, method]) => {
    const p = share(k) / left;
    left -= share(k);
    return { path: /^\/v2\/.+/, fault, probability: p, ...(method ? { method } : {}) };
  });
}

/** A `promoflow worker` kept running by a supervisor (as systemd or Kubernetes would), SIGKILLed on demand. */
export class Supervisor {
  private child: ChildProcess | undefined;
  private out = '';
  private stopped = false;
  starts = 0;
  kills = 0;

  constructor(
    private readonly address: () => string,
    private readonly env: NodeJS.ProcessEnv,
    /** Run the compiled CLI (dist/), as a deployed worker does: a restart then costs no TypeScript compilation. */
    private readonly compiled = false,
    /** More `promoflow worker` flags (e.g. `--concurrency N`). */
    private readonly args: string[] = [],
  ) {}

  start(): void {
    if (this.stopped) return;
    this.out = '';
    this.starts++;
    const child = spawn(process.execPath, [...cliEntry(this.compiled), 'worker', '--temporal-address', this.address(), ...this.args], { cwd: REPO_ROOT, env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
      // Restarted at once, like a process manager with a short restart delay.
      if (!this.stopped) setTimeout(() => this.start(), 500);
    });
    this.child = child;
  }

  /** The live worker's process ID (for CPU and memory sampling), if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  polling(): boolean {
    return this.child !== undefined && this.out.includes('promoflow worker: polling');
  }

  kill(): void {
    if (!this.child) return;
    this.kills++;
    this.child.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(t);
  }
}

function run(bin: string, args: string[], timeoutMs = 120_000): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: timeoutMs, encoding: 'buffer', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr: stderr.toString() });
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const t0 = Date.now();
  const random = seededRandom(o.seed);
  const names = ['prod', ...Array.from({ length: o.destinations - 1 }, (_, i) => `mirror-${i + 1}`)];
  const env = await startTestEnvironment('chaos', { registries: ['staging', ...names] });
  const oci = new RegistryClient();
  const proxies: Record<string, FaultProxy> = {};
  const events = { workerKills: 0, workerStarts: 0, temporalRestarts: 0, registryRestarts: 0 };
  let supervisor: Supervisor | undefined;
  let temporal = env.temporalServer!;
  /** Registries started again by the chaos (the environment's own handles are stale after a restart). */
  const restarted = new Map<string, LocalRegistry>();
  try {
    // Images: seeded, a third of them multi-platform indexes; pushed straight to staging (no faults before the run).
    const images: Array<{ name: string; image: BuiltImage }> = [];
    for (let i = 0; i < o.images; i++) {
      const seed = `chaos-${o.seed}-${i}`;
      const image = i % 3 === 2 ? buildIndex({ seed }) : buildImage({ seed, layers: 2, layerBytes: 64 << 10 });
      images.push({ name: `app-${i}`, image });
      await pushImage(oci, { registry: env.registries.staging!, repository: `staging/app-${i}` }, image);
    }
    for (const [i, n] of ['staging', ...names].entries()) proxies[n] = await startFaultProxy(env.registries[n]!, faultRules(o.faultRate), { random: seededRandom(o.seed * 31 + i) });
    const keys = join(env.stateDir, 'keys');
    await writeKeyPair(keys, PASSWORD);
    const half = Math.ceil(names.length / 3);
    const manifest = join(env.stateDir, 'chaos.yaml');
    writeFileSync(
      manifest,
      [
        'apiVersion: promoflow.dev/v1alpha1',
        'kind: Promotion',
        'metadata: {name: chaos}',
        `source: {registry: "${proxies.staging!.host}/staging"}`,
        'destinations:',
        ...names.map((n, i) => `  - {name: ${n}, registry: "${proxies[n]!.host}/k8s"${i === 0 ? ', canonical: true' : ''}}`),
        'phases:',
        `  - {name: production, destinations: [${names.slice(0, half).join(', ')}]}`,
        `  - {name: mirrors, destinations: [${names.slice(half).join(', ')}]}`,
        'signing:',
        `  key: file://${join(keys, 'cosign.key')}`,
        '  attest: true',
        '  dockerReference: registry.example.io/k8s',
        'images:',
        ...images.flatMap(({ name, image }) => [`  - name: ${name}`, `    dmap: {"${image.digest}": ["v1"]}`]),
        '',
      ].join('\n'),
    );
    mkdirSync(join(env.stateDir, 'blobs'), { recursive: true });
    // Built once: a restarted worker polls in seconds, so kills land on work, not on bundling.
    const bundle = join(env.stateDir, 'workflow-bundle.js');
    await writeWorkflowBundle(bundle);
    supervisor = new Supervisor(() => env.temporal!.address, { COSIGN_PASSWORD: PASSWORD, PROMOFLOW_BLOB_CACHE_DIR: join(env.stateDir, 'blobs'), PROMOFLOW_WORKFLOW_BUNDLE: bundle });
    supervisor.start();
    await eventually('the first worker polling', async () => supervisor!.polling(), 120_000);

    // The chaos beside the CLI: kills spread over the work, one Temporal restart, one registry restart.
    let done = false;
    // Kills start once the run writes to a destination (planning reads the registries first).
    const writing = () => proxies[names[0]!]!.requests.some((rq) => rq.method !== 'GET' && rq.method !== 'HEAD');
    const killer = (async () => {
      await eventually('the run writing', async () => done || writing(), 600_000);
      while (!done && supervisor!.kills < o.kills) {
        await eventually('a worker polling', async () => done || supervisor!.polling(), 300_000);
        await sleep(3000 + random() * 6000);
        if (done) break;
        supervisor!.kill();
        o.log(`chaos: worker SIGKILL #${supervisor!.kills}`);
      }
    })();
    const address = () => ['--temporal-address', env.temporal!.address, '--json'];
    const restartTemporal = async () => {
      const port = Number(env.temporal!.address.split(':')[1]);
      const uiPort = Number(new URL(env.temporal!.uiUrl).port);
      await temporal.stop();
      o.log('chaos: Temporal dev server stopped');
      await sleep(3000);
      temporal = await startDevTemporal({ stateDir: env.stateDir, port, uiPort, headless: true });
      events.temporalRestarts++;
      o.log('chaos: Temporal dev server started again');
    };
    const restartRegistry = async (name: string) => {
      const reg = restarted.get(name) ?? env.registryServers[name]!;
      const port = Number(reg.host.split(':')[1]);
      await reg.stop();
      o.log(`chaos: registry ${name} stopped`);
      await sleep(3000);
      const again = await startRegistry({ name, stateDir: env.stateDir, port });
      restarted.set(name, again);
      events.registryRestarts++;
      o.log(`chaos: registry ${name} started again`);
    };

    // 1. The promotion, through the CLI, waiting for its account.
    o.log(`chaos: promoting ${o.images} images × ${names.length} destinations in 2 phases (signed, attested), seed ${o.seed}`);
    const promote = spawnCli(['promote', '-f', manifest, '--confirm', ...address()], { timeoutMs: 3_600_000 });
    const disruptions = (async () => {
      // While the run is at work (planning reads the registries first, for a while on a busy machine).
      await eventually('the run writing', async () => writing() || promote.output().length > 0, 600_000);
      await sleep(5_000 + random() * 10_000);
      // A registry the first phase is writing to.
      if (o.registryRestart) await restartRegistry(names[half - 1]!);
      await sleep(10_000 + random() * 10_000);
      if (o.temporalRestart) await restartTemporal();
    })();
    const p = await promote.exited;
    await disruptions;
    const account = await readAccount(p.stdout, address());
    o.log(`chaos: promote exited ${p.code}`);
    if (p.code !== 0) for (const l of [...p.stderr.split('\n').filter(Boolean).slice(-5), ...failuresOf(account.edges)]) o.log(`chaos: promote: ${l}`);

    // 2. Drift, then a reconcile with repair under the same chaos: images deleted at one mirror, signatures at another.
    const last = names[names.length - 1]!;
    const sigLoss = names[names.length - 2] ?? last;
    for (const { name, image } of images.slice(0, 2)) await deleteManifest(oci, { registry: env.registries[last]!, repository: `k8s/${name}` }, image.digest);
    for (const { name, image } of images.slice(2, 4)) {
      const m = await getManifest(oci, { registry: env.registries[sigLoss]!, repository: `k8s/${name}` }, signatureTag(image.digest)).catch(() => undefined);
      if (m) await deleteManifest(oci, { registry: env.registries[sigLoss]!, repository: `k8s/${name}` }, m.digest);
    }
    o.log(`chaos: drift made: 2 images deleted at ${last}, 2 signatures deleted at ${sigLoss}; reconciling with repair`);
    const reconcile = spawnCli(['reconcile', '-f', manifest, '--repair', ...address()], { timeoutMs: 3_600_000 });
    const again = (async () => {
      await sleep(2000 + random() * 2000);
      if (o.registryRestart) await restartRegistry(last);
      if (o.temporalRestart) await restartTemporal();
    })();
    const r = await reconcile.exited;
    await again;
    const repaired = parseReconcile(r.stdout);
    o.log(`chaos: reconcile exited ${r.code}`);
    if (r.code !== 0) for (const l of [...r.stderr.split('\n').filter(Boolean).slice(-5), ...repaired.failures]) o.log(`chaos: reconcile: ${l}`);
    done = true;
    await killer;
    await supervisor.stop();
    events.workerKills = supervisor.kills;
    events.workerStarts = supervisor.starts;

    // 3. From outside, with the faults off: every destination, every image.
    for (const px of Object.values(proxies)) px.rules = [];
    const checks = await checkDestinations(env.registries, names, images, keys, env.stateDir, oci, o.log);
    const accountExact = account.edges.filter((e) => (e.status === 'promoted' || e.status === 'present') && e.signature === 'verified').length;
    checks.push({ name: 'account: edges promoted and signature-verified', ok: accountExact, total: o.images * names.length });

    const faults: Record<string, number> = {};
    let requests = 0;
    for (const px of Object.values(proxies)) {
      requests += px.requests.length;
      for (const rq of px.requests) if (rq.fault) faults[FAULT_LABEL(rq.fault, rq.status)] = (faults[FAULT_LABEL(rq.fault, rq.status)] ?? 0) + 1;
    }
    const c = account.counts;
    const promoted = { exit: p.code, edges: account.edges.length, promoted: c.promoted ?? 0, present: c.present ?? 0, failed: c.failed ?? 0, other: (c.lost ?? 0) + (c.skipped ?? 0), failures: failuresOf(account.edges) };
    const passed = p.code === 0 && r.code === 0 && repaired.failures.length === 0 && checks.every((x) => x.ok === x.total) && promoted.promoted + promoted.present === o.images * names.length;
    return {
      seed: o.seed,
      seconds: Math.round((Date.now() - t0) / 1000),
      requests,
      faults,
      events,
      promote: promoted,
      reconcile: { exit: r.code, ...repaired },
      checks,
      passed,
    };
  } finally {
    await supervisor?.stop();
    for (const px of Object.values(proxies)) await px.stop();
    for (const reg of restarted.values()) await reg.stop();
    if (temporal !== env.temporalServer) await temporal.stop();
    oci.close();
    await env.cleanup();
  }
}

interface AccountEdge {
  image: string;
  destination: string;
  status: string;
  signature?: string;
  errorType?: string;
  error?: string;
}

const failuresOf = (edges: AccountEdge[]): string[] => edges.filter((e) => e.status !== 'promoted' && e.status !== 'present').map((e) => `${e.image} → ${e.destination}: ${e.status}: ${e.errorType}: ${e.error}`);

/**
 * The run's whole account: promote --json ends with the sharded run's result (totals and a bounded failure sample);
 * every edge, with its signature check, is paged from the state store by `promoflow status <id> --json`.
 */
async function readAccount(stdout: string, address: string[]): Promise<{ edges: AccountEdge[]; counts: Record<string, number> }> {
  let id: string;
  let totals: number[];
  try {
    const j = JSON.parse(stdout) as { workflowId: string; result: { totals: number[] } };
    [id, totals] = [j.workflowId, j.result.totals];
  } catch {
    return { edges: [], counts: {} };
  }
  const status = await spawnCli(['status', id, ...address]).exited;
  const edges: AccountEdge[] = [];
  for (const line of status.stdout.split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as Partial<EdgeRecord>;
    if (r.outcome && r.image && r.destination) edges.push({ image: r.image, destination: r.destination, status: r.outcome, signature: r.signature, errorType: r.errorType, error: r.error });
  }
  return { edges, counts: Object.fromEntries(EDGE_OUTCOMES.map((k, i) => [k, totals[i] ?? 0])) };
}

function parseReconcile(stdout: string): { findings: number; repaired: number; failures: string[] } {
  // `reconcile --json` writes JSON lines: the result, then one line per finding and one per repair record.
  type Line = { result?: { findings: number }; finding?: { kind: string; repair: string; image: string; destination: string }; repair?: { status: string; kind: string; destination: string; image: string; error?: string } };
  try {
    const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
    const result = lines[0]?.result;
    if (!result) throw new Error('no result line');
    const rs = lines.flatMap((l) => (l.repair ? [l.repair] : []));
    // Findings reported but not for repair (an unexpected tag, an unreadable repository) are listed too: after
    // the drift this suite makes, any such finding is a fault that became a finding.
    const reportOnly = lines.flatMap((l) => (l.finding && l.finding.repair === 'none' ? [`finding not for repair: ${l.finding.kind}: ${l.finding.image} at ${l.finding.destination}`] : []));
    return { findings: result.findings, repaired: rs.filter((x) => x.status === 'repaired').length, failures: [...rs.filter((x) => x.status !== 'repaired').map((x) => `${x.kind} ${x.image} at ${x.destination}: ${x.status}${x.error ? `: ${x.error}` : ''}`), ...reportOnly] };
  } catch {
    return { findings: 0, repaired: 0, failures: ['no reconcile result'] };
  }
}

const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
const DSSE = 'application/vnd.dsse.envelope.v1+json';

async function checkDestinations(
  registries: Record<string, string>,
  names: string[],
  images: Array<{ name: string; image: BuiltImage }>,
  keys: string,
  stateDir: string,
  oci: RegistryClient,
  log: (l: string) => void,
): Promise<ChaosCheck[]> {
  const check = (name: string): ChaosCheck => ({ name, ok: 0, total: 0 });
  const skopeo = check('skopeo inspect --raw: exact manifest bytes (not corrupt)');
  const crane = check('crane validate: image and layers intact');
  const tags = check('tag v1 at its digest (none moved)');
  const sigLayers = check('signature layers: one .sig, one .att per predicate type (provenance, VSA), index children too');
  const cosign = COSIGN_VERSIONS.map((v) => ({ v, found: findCosign(v), c: check(`cosign ${v} verify + verify-attestation`) }));
  const craneBin = join(toolsBin(), 'crane-v0.22.1');
  for (const n of names) {
    for (const { name, image } of images) {
      const host = registries[n]!;
      const repo = { registry: host, repository: `k8s/${name}` };
      const ref = `${host}/k8s/${name}@${image.digest}`;
      skopeo.total++;
      const s = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
      if (s.code === 0 && `sha256:${createHash('sha256').update(s.stdout).digest('hex')}` === image.digest) skopeo.ok++;
      else log(`check: skopeo ${ref}: ${s.code} ${s.stderr.split('\n')[0]}`);
      crane.total++;
      const v = await run(craneBin, ['validate', '--insecure', '--remote', ref]);
      if (v.code === 0) crane.ok++;
      else log(`check: crane validate ${ref}: ${v.stderr.split('\n')[0]}`);
      tags.total++;
      if ((await headManifest(oci, repo, 'v1'))?.digest === image.digest) tags.ok++;
      else log(`check: ${host}/k8s/${name}:v1 does not point to ${image.digest}`);
      for (const d of [image.digest, ...image.children.map((c) => c.digest)]) {
        for (const [tag, mt] of [[signatureTag(d), SIMPLE_SIGNING], [attestationTag(d), DSSE]] as const) {
          sigLayers.total++;
          const m = await getManifest(oci, repo, tag).catch(() => undefined);
          const all = m ? (JSON.parse(m.bytes.toString('utf8')) as { layers: Array<{ mediaType: string; annotations?: Record<string, string> }> }).layers.filter((l) => l.mediaType === mt) : [];
          // One signature; one attestation per predicate type (cosign's `predicateType` annotation: the SLSA
          // provenance and the VSA), none twice.
          const kinds = new Set(all.map((l) => l.annotations?.['predicateType'] ?? ''));
          const want = mt === SIMPLE_SIGNING ? 1 : 2;
          if (all.length === want && kinds.size === want) sigLayers.ok++;
          else log(`check: ${host}/k8s/${name} ${tag}: ${all.length} layers (${[...kinds].join(', ')})`);
        }
      }
      for (const { v, found, c } of cosign) {
        if (found.skip) continue;
        c.total++;
        const home = join(stateDir, `cosign-home-${v}`);
        mkdirSync(home, { recursive: true });
        const a = await runCosign(found.bin!, ['verify', '--key', join(keys, 'cosign.pub'), '--insecure-ignore-tlog=true', '--allow-insecure-registry', ref], { home });
        const b = await runCosign(found.bin!, ['verify-attestation', '--key', join(keys, 'cosign.pub'), '--insecure-ignore-tlog=true', '--type', 'slsaprovenance1', '--allow-insecure-registry', ref], { home });
        if (a.code === 0 && b.code === 0) c.ok++;
        else log(`check: cosign ${v} ${ref}: ${(a.code ? a.stderr : b.stderr).split('\n').find((l) => l.trim()) ?? ''}`);
      }
    }
  }
  return [skopeo, crane, tags, sigLayers, ...cosign.map(({ v, found, c }) => (found.skip ? { ...c, note: `skipped: cosign ${v} not built` } : c))];
}

/** The tables the suite prints: faults injected, events, outcome. */
export function renderChaosReport(r: ChaosReport): string {
  const pct = (n: number) => `${((100 * n) / Math.max(1, r.requests)).toFixed(1)}%`;
  const totalFaults = Object.values(r.faults).reduce((a, b) => a + b, 0);
  const lines = [
    `chaos run, seed ${r.seed}: ${r.passed ? 'PASSED' : 'FAILED'} in ${r.seconds} s`,
    '',
    `| faults injected (of ${r.requests} registry requests) | count | share |`,
    '|---|---|---|',
    ...Object.entries(r.faults).sort().map(([k, n]) => `| ${k} | ${n} | ${pct(n)} |`),
    `| total | ${totalFaults} | ${pct(totalFaults)} |`,
    '',
    '| events | count |',
    '|---|---|',
    `| worker SIGKILLs (supervisor restarts) | ${r.events.workerKills} (${r.events.workerStarts - 1}) |`,
    `| Temporal dev server restarts (promotion, reconcile) | ${r.events.temporalRestarts} |`,
    `| registry restarts (promotion, reconcile) | ${r.events.registryRestarts} |`,
    '',
    '| outcome | result |',
    '|---|---|',
    `| promote CLI exit | ${r.promote.exit} |`,
    `| edges promoted / already present / failed / other | ${r.promote.promoted} / ${r.promote.present} / ${r.promote.failed} / ${r.promote.other} of ${r.promote.edges} |`,
    `| reconcile --repair CLI exit | ${r.reconcile.exit} |`,
    `| drift findings / repaired | ${r.reconcile.findings} / ${r.reconcile.repaired} |`,
    ...r.checks.map((c) => `| ${c.name} | ${c.note ?? `${c.ok}/${c.total}`} |`),
  ];
  for (const f of [...r.promote.failures, ...r.reconcile.failures]) lines.push(`failure: ${f}`);
  return lines.join('\n');
}
