// End-to-end benchmark (not a test): the product path — the real CLI `promote --confirm` against a Temporal dev
// server and a `promoflow worker`, real docker-registry processes — side by side in one run with `crane copy`,
// `skopeo copy` and a raw monolithic-PUT baseline (node http: POST an upload, PUT every blob's bytes from memory,
// PUT the manifest; what the registries can ingest), on the same fixture: N images of L random layers plus one
// layer every image shares, in one staging registry, copied to D destination registries. Every side writes to
// fresh registries (the destinations are restarted empty between sides), so every copy is a full copy.
//
// Sides: raw, crane, skopeo (P parallel one-image-to-one-registry commands), and promoflow three ways: copy only in
// one phase (all D destinations), copy only in 3 phases (prod → canary → the rest) and the full signed pipeline in
// 3 phases (copy + sign + SLSA attest + replicate + verify). Printed per side: wall, ratio to raw PUT, CPU seconds
// per party (the tool or CLI, the worker, Temporal, the registries; from /proc/<pid>/stat and the shell's `times`
// of each spawned command), bytes the source registry served and the destinations received; then the orchestration
// CPU (CLI + worker + Temporal) per GB promoted. `--count` runs the sides through counting proxies instead (no
// timing): requests per edge by kind, the numbers that explain the timings.
//
// Run: npm run bench:e2e [-- --images 20 --layers 3 --layer-mb 4 --shared-mb 8 --dests 21 --parallel 8]
//        [--sides raw,crane,skopeo,copy1,copy3,full3] [--rounds 1] [--quick] [--count] [--prof-worker DIR]
import { spawn, type ChildProcess } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { homedir, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startRegistry, type LocalRegistry } from '../src/dev/registry';
import { startDevTemporal, type DevTemporal } from '../src/dev/temporal';
import { mapLimit, pushBlob, putManifest, RegistryClient, sha256 } from '../src/oci';
import { writeKeyPair } from '../src/signing';
import { writeWorkflowBundle } from '../src/worker';
import { startFaultProxy, type FaultProxy } from '../src/testing/fault-proxy';

const ROOT = resolve(__dirname, '..');
const CLI = join(ROOT, 'bin', 'promoflow.js');
const CRANE = join(process.env.PROMOFLOW_TOOLS_DIR ?? join(homedir(), '.cache', 'promoflow', 'tools'), 'bin', 'crane-v0.22.1');
const SKOPEO = '/usr/bin/skopeo';
const LAYER_MT = 'application/vnd.oci.image.layer.v1.tar';
const MANIFEST_MT = 'application/vnd.oci.image.manifest.v1+json';
const PASSWORD = 'bench-e2e-password';
const CLK_TCK = 100;

const { values: flags } = parseArgs({
  options: {
    images: { type: 'string' },
    layers: { type: 'string' },
    'layer-mb': { type: 'string' },
    'shared-mb': { type: 'string' },
    dests: { type: 'string' },
    parallel: { type: 'string', default: '8' },
    sides: { type: 'string', default: 'raw,crane,skopeo,copy1,copy3,full3' },
    rounds: { type: 'string', default: '1' },
    quick: { type: 'boolean', default: false },
    count: { type: 'boolean', default: false },
    'prof-worker': { type: 'string' },
  },
});
const quick = flags.quick;
const num = (name: string, v: string | undefined, def: number): number => {
  const n = v === undefined ? def : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} ${JSON.stringify(v)}: expected a positive number`);
  return n;
};
const O = {
  images: num('images', flags.images, quick ? 4 : 20),
  layers: num('layers', flags.layers, quick ? 2 : 3),
  layerMb: num('layer-mb', flags['layer-mb'], quick ? 1 : 4),
  sharedMb: num('shared-mb', flags['shared-mb'], quick ? 2 : 8),
  dests: Math.max(3, num('dests', flags.dests, quick ? 5 : 21)),
  parallel: num('parallel', flags.parallel, 8),
  rounds: num('rounds', flags.rounds, 1),
  sides: flags.sides!.split(','),
};

/** Deterministic incompressible bytes: an AES-256-CTR keystream of a seed. */
function randomBlob(seed: string, size: number): Buffer {
  const c = createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16));
  return c.update(Buffer.alloc(size));
}

interface Blob { digest: string; bytes: Buffer }
interface Image { name: string; blobs: Blob[]; manifest: Buffer; digest: string; size: number }

function fixture(salt: string): Image[] {
  const shared = randomBlob(`${salt}/shared`, O.sharedMb << 20);
  const sharedBlob = { digest: sha256(shared), bytes: shared };
  return Array.from({ length: O.images }, (_, i) => {
    const layers = [sharedBlob, ...Array.from({ length: O.layers }, (_, l) => {
      const b = randomBlob(`${salt}/${i}/${l}`, O.layerMb << 20);
      return { digest: sha256(b), bytes: b };
    })];
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) }, config: { Labels: { salt, i: String(i) } } }));
    const cfg = { digest: sha256(config), bytes: config };
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MANIFEST_MT,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg.digest, size: config.length },
      layers: layers.map((l) => ({ mediaType: LAYER_MT, digest: l.digest, size: l.bytes.length })),
    }));
    const blobs = [cfg, ...layers];
    return { name: `img${i}`, blobs, manifest, digest: sha256(manifest), size: manifest.length + blobs.reduce((n, b) => n + b.bytes.length, 0) };
  });
}

// ---- CPU and I/O of processes, from /proc ----

function procStat(pid: number): { cpu: number; ppid: number } | undefined {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK };
  } catch {
    return undefined;
  }
}

/** CPU seconds of a process and its live descendants (reaped children count in the parent's cutime/cstime). */
function treeCpu(root: number): number {
  const kids = new Map<number, number[]>();
  for (const d of readdirPids()) {
    const s = procStat(d);
    if (s) kids.set(s.ppid, [...(kids.get(s.ppid) ?? []), d]);
  }
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const p = stack.pop()!;
    total += procStat(p)?.cpu ?? 0;
    stack.push(...(kids.get(p) ?? []));
  }
  return total;
}

function readdirPids(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
}

function procIo(pid: number): { rchar: number; wchar: number } {
  try {
    const t = readFileSync(`/proc/${pid}/io`, 'utf8');
    const v = (k: string) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(t)?.[1] ?? 0);
    return { rchar: v('rchar'), wchar: v('wchar') };
  } catch {
    return { rchar: 0, wchar: 0 };
  }
}

/** Run a command; resolves with its exit code, stderr tail and its CPU seconds (the shell's `times` of children). */
function runTimed(argv: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<{ code: number; cpu: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn('/bin/sh', ['-c', '"$@"; rc=$?; times >&2; exit $rc', 'sh', ...argv], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20000)));
    child.on('close', (code) => {
      // `times` prints the shell's user/sys line, then its children's.
      const lines = err.trimEnd().split('\n');
      const kid = lines.at(-1) ?? '';
      const secs = [...kid.matchAll(/(\d+)m([\d.]+)s/g)].reduce((n, m) => n + Number(m[1]) * 60 + Number(m[2]), 0);
      done({ code: code ?? 1, cpu: secs, stdout: out, stderr: lines.slice(0, -2).join('\n') });
    });
  });
}

// ---- the environment ----

interface Env {
  dir: string;
  temporal: DevTemporal;
  src: LocalRegistry;
  dests: LocalRegistry[];
  /** Hosts the sides talk to: the registries, or counting proxies in front of them (--count). */
  srcHost: string;
  destHosts: string[];
  proxies: FaultProxy[];
  worker?: { child: ChildProcess; out: () => string };
}

async function freshDestinations(env: Env): Promise<void> {
  await Promise.all(env.dests.splice(0).map((r) => r.stop()));
  await Promise.all(env.proxies.splice(1).map((p) => p.stop()));
  rmSync(join(env.dir, 'dest'), { recursive: true, force: true });
  env.dests = await mapLimit(Array.from({ length: O.dests }, (_, i) => i), 6, (i) => startRegistry({ name: `d${i}`, stateDir: join(env.dir, 'dest') }));
  env.destHosts = env.dests.map((d) => d.host);
  if (flags.count) {
    const px = await Promise.all(env.dests.map((d) => startFaultProxy(d.host)));
    env.proxies.push(...px);
    env.destHosts = px.map((p) => p.host);
  }
}

function startWorker(env: Env, bundle: string): Promise<void> {
  mkdirSync(join(env.dir, 'blobs'), { recursive: true });
  const prof = flags['prof-worker'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(flags['prof-worker'])] : [];
  const child = spawn(process.execPath, [...prof, CLI, 'worker', '--temporal-address', env.temporal.address], {
    cwd: env.dir,
    env: { ...process.env, ...cliEnv(env), PROMOFLOW_WORKFLOW_BUNDLE: bundle, PROMOFLOW_BLOB_CACHE_DIR: join(env.dir, 'blobs') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  env.worker = { child, out: () => out };
  return new Promise((ok, fail) => {
    const t = setInterval(() => {
      if (out.includes('promoflow worker: polling')) {
        clearInterval(t);
        ok();
      } else if (child.exitCode !== null) {
        clearInterval(t);
        fail(new Error(`worker exited: ${out}`));
      }
    }, 100);
  });
}

async function stopWorker(env: Env): Promise<void> {
  const w = env.worker?.child;
  env.worker = undefined;
  if (!w || w.exitCode !== null || w.signalCode !== null) return;
  const gone = new Promise((r) => w.once('exit', r));
  w.kill('SIGTERM');
  const t = setTimeout(() => w.kill('SIGKILL'), 20_000);
  await gone;
  clearTimeout(t);
  rmSync(join(env.dir, 'blobs'), { recursive: true, force: true });
}

const cliEnv = (env: Env): NodeJS.ProcessEnv => ({ PROMOFLOW_STATE_STORE: join(env.dir, 'store'), COSIGN_PASSWORD: PASSWORD });

// ---- the sides ----

interface SideResult {
  side: string;
  label: string;
  wall: number;
  ok: boolean;
  cpu: { tool: number; worker: number; temporal: number; registries: number };
  srcMB: number;
  destMB: number;
  requests?: Map<string, number>;
}

const httpAgent = new Agent({ keepAlive: true, maxSockets: 64 });

function httpCall(method: string, url: URL, headers: Record<string, string | number>, body?: Buffer): Promise<{ status: number; location?: string }> {
  return new Promise((ok, fail) => {
    const req = request(url, { method, headers, agent: httpAgent }, (res) => {
      res.resume();
      res.on('end', () => ok({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: res.headers.location } : {}) }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

/** The floor: every blob of every image PUT whole (from memory) into every destination, `parallel` at once. */
async function rawPut(images: Image[], hosts: string[]): Promise<boolean> {
  const edges = images.flatMap((img) => hosts.map((h) => ({ img, h })));
  await mapLimit(edges.flatMap((e) => e.img.blobs.map((b) => ({ ...e, b }))), O.parallel, async ({ img, h, b }) => {
    const start = await httpCall('POST', new URL(`http://${h}/v2/raw/${img.name}/blobs/uploads/`), { 'content-length': 0 });
    if (start.status !== 202 || !start.location) throw new Error(`raw POST ${h}: ${start.status}`);
    const loc = new URL(start.location, `http://${h}`);
    loc.searchParams.set('digest', b.digest);
    const put = await httpCall('PUT', loc, { 'content-type': 'application/octet-stream', 'content-length': b.bytes.length }, b.bytes);
    if (put.status !== 201) throw new Error(`raw PUT ${h}: ${put.status}`);
  });
  await mapLimit(edges, O.parallel, async ({ img, h }) => {
    const r = await httpCall('PUT', new URL(`http://${h}/v2/raw/${img.name}/manifests/bench`), { 'content-type': MANIFEST_MT, 'content-length': img.manifest.length }, img.manifest);
    if (r.status !== 201) throw new Error(`raw manifest PUT ${h}: ${r.status}`);
  });
  return true;
}

async function toolJobs(jobs: string[][]): Promise<{ ok: boolean; cpu: number }> {
  let ok = true;
  let cpu = 0;
  await mapLimit(jobs, O.parallel, async (argv) => {
    const r = await runTimed(argv);
    cpu += r.cpu;
    if (r.code !== 0) {
      ok = false;
      console.error(`bench:e2e: ${argv.slice(0, 2).join(' ')} exited ${r.code}: ${r.stderr.split('\n').slice(-3).join(' | ')}`);
    }
  });
  return { ok, cpu };
}

function promotionYaml(env: Env, images: Image[], side: string, keys: string): string {
  const names = env.destHosts.map((_, i) => (i === 0 ? 'prod' : i === 1 ? 'canary' : `mirror${i - 1}`));
  const phases = side === 'copy1'
    ? [`  - {name: all, destinations: [${names.join(', ')}]}`]
    : [`  - {name: production, destinations: [prod]}`, `  - {name: canary, destinations: [canary]}`, `  - {name: mirrors, destinations: [${names.slice(2).join(', ')}]}`];
  return [
    'apiVersion: promoflow.dev/v1alpha1',
    'kind: Promotion',
    `metadata: {name: bench-${side}}`,
    `source: {registry: "${env.srcHost}/staging"}`,
    'destinations:',
    ...env.destHosts.map((h, i) => `  - {name: ${names[i]}, registry: "${h}/${side}"${i === 0 ? ', canonical: true' : ''}}`),
    'phases:',
    ...phases,
    ...(side === 'full3' ? ['signing:', `  key: file://${join(keys, 'cosign.key')}`, '  attest: true', '  dockerReference: registry.example.io/bench'] : []),
    'images:',
    ...images.flatMap((img) => [`  - name: ${img.name}`, `    dmap: {"${img.digest}": ["bench"]}`]),
    '',
  ].join('\n');
}

async function promoflow(env: Env, images: Image[], side: string, keys: string): Promise<{ ok: boolean; cpu: number }> {
  const file = join(env.dir, `${side}.yaml`);
  writeFileSync(file, promotionYaml(env, images, side, keys));
  const r = await runTimed([process.execPath, CLI, 'promote', '-f', file, '--confirm', '--temporal-address', env.temporal.address, '--json'], { cwd: env.dir, env: cliEnv(env) });
  let promoted = 0;
  try {
    const totals = (JSON.parse(r.stdout) as { result: { totals: number[] } }).result.totals;
    promoted = (totals[0] ?? 0) + (totals[1] ?? 0);
  } catch {
    // reported below
  }
  const ok = r.code === 0 && promoted === images.length * O.dests;
  if (!ok) console.error(`bench:e2e: promoflow ${side}: exit ${r.code}, ${promoted} of ${images.length * O.dests} edges promoted: ${r.stderr.split('\n').slice(-5).join(' | ')} ${r.stdout.slice(0, 2000)}`);
  return { ok, cpu: r.cpu };
}

const LABELS: Record<string, string> = {
  raw: `raw monolithic PUT (node http, ${O.parallel} parallel)`,
  crane: `crane copy, ${O.parallel} parallel`,
  skopeo: `skopeo copy, ${O.parallel} parallel`,
  copy1: 'promoflow promote --confirm, copy only, 1 phase',
  copy3: 'promoflow, copy only, 3 phases (prod → canary → mirrors)',
  full3: 'promoflow, copy + sign + attest + replicate + verify, 3 phases',
};

async function runSide(env: Env, images: Image[], side: string, keys: string): Promise<SideResult | undefined> {
  if ((side === 'crane' && !existsSync(CRANE)) || (side === 'skopeo' && !existsSync(SKOPEO))) {
    console.error(`bench:e2e: ${side} is not installed, skipped (scripts/setup.sh --interop builds crane)`);
    return undefined;
  }
  await freshDestinations(env);
  const regPids = [env.src.process.pid, ...env.dests.map((d) => d.process.pid)];
  const cpuOf = (pids: number[]) => pids.reduce((n, p) => n + treeCpu(p), 0);
  const workerPid = env.worker?.child.pid;
  const before = { reg: cpuOf(regPids), temporal: treeCpu(env.temporal.process.pid), worker: workerPid ? treeCpu(workerPid) : 0, self: process.cpuUsage() };
  const ioBefore = { src: procIo(env.src.process.pid).wchar, dest: env.dests.reduce((n, d) => n + procIo(d.process.pid).rchar, 0) };
  const proxyBefore = env.proxies.map((p) => p.requests.length);
  const t0 = process.hrtime.bigint();
  let ok: boolean;
  let toolCpu = 0;
  const srcRef = (img: Image) => `${env.srcHost}/staging/${img.name}@${img.digest}`;
  if (side === 'raw') {
    ok = await rawPut(images, env.destHosts).then(() => true, (e: unknown) => (console.error(`bench:e2e: raw: ${String(e)}`), false));
  } else if (side === 'crane') {
    ({ ok, cpu: toolCpu } = await toolJobs(images.flatMap((img) => env.destHosts.map((h) => [CRANE, 'copy', '--insecure', srcRef(img), `${h}/crane/${img.name}:bench`]))));
  } else if (side === 'skopeo') {
    ({ ok, cpu: toolCpu } = await toolJobs(images.flatMap((img) => env.destHosts.map((h) => [SKOPEO, 'copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${srcRef(img)}`, `docker://${h}/skopeo/${img.name}:bench`]))));
  } else {
    ({ ok, cpu: toolCpu } = await promoflow(env, images, side, keys));
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (side === 'raw') {
    const u = process.cpuUsage(before.self);
    toolCpu = (u.user + u.system) / 1e6;
  }
  const result: SideResult = {
    side,
    label: LABELS[side] ?? side,
    wall,
    ok,
    cpu: {
      tool: toolCpu,
      worker: side.startsWith('copy') || side.startsWith('full') ? (workerPid ? treeCpu(workerPid) : 0) - before.worker : 0,
      temporal: treeCpu(env.temporal.process.pid) - before.temporal,
      registries: cpuOf(regPids) - before.reg,
    },
    srcMB: (procIo(env.src.process.pid).wchar - ioBefore.src) / 1e6,
    destMB: (env.dests.reduce((n, d) => n + procIo(d.process.pid).rchar, 0) - ioBefore.dest) / 1e6,
  };
  if (flags.count) {
    const kinds = new Map<string, number>();
    env.proxies.forEach((p, i) => {
      for (const rq of p.requests.slice(proxyBefore[i])) {
        const k = requestKind(rq.method, rq.path, i === 0);
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
      }
    });
    result.requests = kinds;
  }
  return result;
}

/** A request's kind, for the per-edge counts: method and API object, and which side (source or destination). */
function requestKind(method: string, url: string, source: boolean): string {
  const [path, query = ''] = url.split('?');
  const where = source ? 'src' : 'dst';
  const object = /\/blobs\/uploads\/?$/.test(path!) ? (query.includes('mount=') ? 'upload start (mount)' : 'upload start') : /\/blobs\/uploads\//.test(path!) ? 'upload' : /\/blobs\//.test(path!) ? 'blob' : /\/manifests\/sha256-[0-9a-f]{64}\.(sig|att)$/.test(path!) ? 'signature manifest' : /\/manifests\//.test(path!) ? 'manifest' : /\/tags\/list/.test(path!) ? 'tags list' : /\/referrers\//.test(path!) ? 'referrers' : path === '/v2/' ? 'ping' : 'other';
  return `${where} ${method} ${object}`;
}

// ---- main ----

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r, j) => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(' | ')} |${j === 0 ? `\n|${w.map((n) => '-'.repeat(n + 2)).join('|')}|` : ''}`).join('\n');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(process.env.PROMOFLOW_BENCH_DIR ?? tmpdir(), 'promoflow-bench-e2e-'));
  const salt = randomBytes(4).toString('hex');
  const images = fixture(salt);
  const unique = new Map(images.flatMap((i) => i.blobs.map((b) => [b.digest, b.bytes.length] as const)));
  const uniqueBytes = [...unique.values()].reduce((a, b) => a + b, 0);
  const promotedBytes = images.reduce((n, i) => n + i.size, 0) * O.dests;
  const log = (l: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} bench:e2e: ${l}\n`);
  let env: Env | undefined;
  try {
    const [temporal, src] = await Promise.all([startDevTemporal({ stateDir: dir, headless: true }), startRegistry({ name: 'src', stateDir: dir })]);
    env = { dir, temporal, src, dests: [], srcHost: src.host, destHosts: [], proxies: [] };
    if (flags.count) {
      const px = await startFaultProxy(src.host);
      env.proxies.push(px);
      env.srcHost = px.host;
    }
    const c = new RegistryClient();
    await mapLimit(images, 4, async (img) => {
      const repo = { registry: src.host, repository: `staging/${img.name}` };
      for (const b of img.blobs) await pushBlob(c, repo, b.digest, b.bytes.length, b.bytes);
      await putManifest(c, repo, img.digest, { bytes: img.manifest, mediaType: MANIFEST_MT });
    });
    c.close();
    const keys = join(dir, 'keys');
    await writeKeyPair(keys, PASSWORD);
    const bundle = join(dir, 'workflow-bundle.js');
    if (O.sides.some((s) => !['raw', 'crane', 'skopeo'].includes(s))) await writeWorkflowBundle(bundle);
    log(`${O.images} images × (${O.layers} × ${O.layerMb} MiB + a shared ${O.sharedMb} MiB layer) = ${(uniqueBytes / 1048576).toFixed(0)} MiB unique, 1 source → ${O.dests} registries (${O.images * O.dests} copies, ${(promotedBytes / 1e9).toFixed(2)} GB promoted); load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const results: SideResult[] = [];
    for (let round = 0; round < O.rounds; round++) {
      for (const side of O.sides) {
        // A fresh worker per promoflow side (started before the clock): its blob cache starts cold, as for new images.
        await stopWorker(env);
        if (!['raw', 'crane', 'skopeo'].includes(side)) await startWorker(env, bundle);
        const r = await runSide(env, images, side, keys);
        if (!r) continue;
        results.push(r);
        // The whole row at once, so a run cut short still tells what it measured.
        log(`${side}: ${r.wall.toFixed(1)} s${r.ok ? '' : ' (FAILED)'}; CPU s tool/CLI ${r.cpu.tool.toFixed(1)} worker ${r.cpu.worker.toFixed(1)} Temporal ${r.cpu.temporal.toFixed(1)} registries ${r.cpu.registries.toFixed(1)}; source served ${r.srcMB.toFixed(0)} MB, destinations received ${r.destMB.toFixed(0)} MB; load ${loadavg()[0]!.toFixed(2)}`);
      }
    }
    const raw = results.filter((r) => r.side === 'raw');
    const rawWall = raw.length ? raw.reduce((n, r) => n + r.wall, 0) / raw.length : undefined;
    const f = (n: number, d = 1) => n.toFixed(d);
    console.log(`\nbench:e2e: ${O.images} images × (${O.layers} × ${O.layerMb} MiB + shared ${O.sharedMb} MiB), ${(uniqueBytes / 1048576).toFixed(0)} MiB unique → ${O.dests} registries, ${O.images * O.dests} copies, ${(promotedBytes / 1e9).toFixed(2)} GB promoted; parallel ${O.parallel}; load average now ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    if (!flags.count) {
      console.log(table([
        ['side', 'wall s', 'vs raw PUT', 'CPU s: tool/CLI', 'worker', 'Temporal', 'registries', 'orchestration CPU s per GB', 'source served MB', 'dest received MB', 'ok'],
        ...results.map((r) => {
          const orch = r.side.startsWith('copy') || r.side.startsWith('full') ? f((r.cpu.tool + r.cpu.worker + r.cpu.temporal) / (promotedBytes / 1e9), 2) : '-';
          return [r.label, f(r.wall), rawWall ? f(r.wall / rawWall, 2) : '-', f(r.cpu.tool), f(r.cpu.worker), f(r.cpu.temporal), f(r.cpu.registries), orch, f(r.srcMB, 0), f(r.destMB, 0), r.ok ? 'yes' : 'NO'];
        }),
      ]));
    } else {
      const edges = O.images * O.dests;
      const kinds = [...new Set(results.flatMap((r) => [...r.requests!.keys()]))].sort();
      console.log(`requests per edge (${edges} edges) through counting proxies, by kind:`);
      console.log(table([['kind', ...results.map((r) => r.side)], ...kinds.map((k) => [k, ...results.map((r) => f((r.requests!.get(k) ?? 0) / edges, 2))]), ['total', ...results.map((r) => f([...r.requests!.values()].reduce((a, b) => a + b, 0) / edges, 2))]]));
    }
    process.exitCode = results.every((r) => r.ok) ? 0 : 1;
  } finally {
    if (env) await stopWorker(env);
    await Promise.all([...(env?.proxies ?? []).map((p) => p.stop()), ...(env?.dests ?? []).map((d) => d.stop()), env?.src.stop(), env?.temporal.stop()]);
    httpAgent.destroy();
    if (!process.env.PROMOFLOW_KEEP_BENCH_STATE) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench:e2e: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 2;
});
