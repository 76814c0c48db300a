// Copy benchmark (not a test): N multi-layer images (random, incompressible, uncompressed-tar media type) from one
// local registry to D registries, by promoflow, by `crane copy` and by `skopeo copy`, each at the same parallelism
// (P concurrent copy commands: a promoflow command is one image to all D registries — it reads each source blob once
// and tees it — while a crane/skopeo command is one image to one registry). Then a 1 GiB single-layer image to D
// registries by promoflow alone, for peak RSS. `promoflow-edges` runs promoflow the way crane runs (P concurrent
// one-image-to-one-registry copies) with the client's blob cache sharing source reads. Wall time and peak RSS (sum over the tool's live processes, polled
// from /proc) are printed with ratios. Each tool writes to its own repositories, so every copy is a full copy.
//
// Run: npm run bench:copy [-- --images 20 --mb 400 --layers 4 --dests 21 --parallel 4 --big-mib 1024 --tools promoflow,crane,skopeo]
import { spawn } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type LocalRegistry } from '../src/dev/registry';
import { copyImage, pushBlob, putManifest, RegistryClient, sha256 } from '../src/oci';
import { type RepositoryRef } from '../src/model';
import { mapLimit } from '../src/oci/limits';

const LAYER_MT = 'application/vnd.oci.image.layer.v1.tar';
const CRANE = join(process.env.PROMOFLOW_TOOLS_DIR ?? join(homedir(), '.cache', 'promoflow', 'tools'), 'bin', 'crane-v0.22.1');
const SKOPEO = '/usr/bin/skopeo';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

/** Deterministic incompressible bytes: AES-256-CTR keystream of a seed, streamed in 1 MiB chunks. */
async function* randomStream(seed: string, size: number): AsyncGenerator<Buffer> {
  const key = createHash('sha256').update(seed).digest();
  const c = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zero = Buffer.alloc(1 << 20);
  for (let left = size; left > 0; left -= zero.length) yield c.update(left >= zero.length ? zero : zero.subarray(0, left));
}

async function digestOf(seed: string, size: number): Promise<`sha256:${string}`> {
  const h = createHash('sha256');
  for await (const b of randomStream(seed, size)) h.update(b);
  return `sha256:${h.digest('hex')}`;
}

interface Img {
  repo: RepositoryRef;
  digest: `sha256:${string}`;
}

/** Push an image of `layers` random layers of `layerSize` bytes each (streamed: never whole in memory). */
async function pushRandomImage(c: RegistryClient, repo: RepositoryRef, seed: string, layers: number, layerSize: number): Promise<Img> {
  const descs = [];
  for (let i = 0; i < layers; i++) {
    const s = `${seed}/${i}`;
    const digest = await digestOf(s, layerSize);
    await pushBlob(c, repo, digest, layerSize, randomStream(s, layerSize));
    descs.push({ mediaType: LAYER_MT, digest, size: layerSize });
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: descs.map((d) => d.digest) }, config: { Labels: { seed } } }));
  await pushBlob(c, repo, sha256(config), config.length, config);
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length }, layers: descs }),
  );
  const digest = await putManifest(c, repo, sha256(manifest), { bytes: manifest, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
  return { repo, digest };
}

/** RSS (bytes) of a process tree rooted at `pid`. */
function treeRss(pid: number): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(f[1]);
      const l = children.get(ppid) ?? [];
      l.push(Number(d));
      children.set(ppid, l);
      rss.set(Number(d), Number(f[21]) * 4096);
    } catch {
      // exited meanwhile
    }
  }
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    total += rss.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

interface Measured {
  tool: string;
  wallMs: number;
  peakRss: number;
  ok: boolean;
}

/** Run `jobs` (argv lists) with at most `parallel` at once, all under one sh-less parent group we poll. */
async function measure(tool: string, jobs: string[][], parallel: number): Promise<Measured> {
  let peak = 0;
  const live = new Set<number>();
  const poll = setInterval(() => {
    let sum = 0;
    for (const p of live) sum += treeRss(p);
    peak = Math.max(peak, sum);
  }, 50);
  const t0 = process.hrtime.bigint();
  let ok = true;
  await mapLimit(jobs, parallel, (argv) =>
    new Promise<void>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
      live.add(child.pid!);
      child.on('exit', (code) => {
        live.delete(child.pid!);
        if (code !== 0) {
          ok = false;
          console.error(`${tool}: ${argv.join(' ')} exited ${code}: ${err}`);
        }
        resolve();
      });
    }),
  );
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  clearInterval(poll);
  return { tool, wallMs, peakRss: peak, ok };
}

async function child(): Promise<void> {
  // --child <json {images: Img[], dests: string[], repoPrefix, parallel}>
  const spec = JSON.parse(arg('child', '{}')) as { images: Img[]; dests: string[]; prefix: string; parallel: number; edges?: boolean; cacheDir?: string };
  if (spec.edges) {
    // One copy per (image, registry) like crane and skopeo, sharing source reads through the client's blob cache.
    const c = new RegistryClient({}, { blobCache: { parent: spec.cacheDir!, maxBytes: 1 << 30 } });
    const edges = spec.images.flatMap((img, i) => spec.dests.map((registry) => ({ img, i, registry })));
    await mapLimit(edges, spec.parallel, ({ img, i, registry }) => copyImage(c, { ...img.repo, digest: img.digest }, [{ repo: { registry, repository: `${spec.prefix}/img${i}` }, tags: ['bench'] }]));
    c.close();
    return;
  }
  const c = new RegistryClient();
  await mapLimit(spec.images, spec.parallel, (img, i) =>
    copyImage(c, { ...img.repo, digest: img.digest }, spec.dests.map((registry) => ({ repo: { registry, repository: `${spec.prefix}/img${i}` }, tags: ['bench'] }))),
  );
  c.close();
}

async function main(): Promise<void> {
  const nImages = Number(arg('images', '20'));
  const totalMb = Number(arg('mb', '400'));
  const layers = Number(arg('layers', '4'));
  const nDests = Number(arg('dests', '21'));
  const parallel = Number(arg('parallel', '4'));
  const bigMib = Number(arg('big-mib', '1024'));
  const tools = arg('tools', 'promoflow,promoflow-edges,crane,skopeo').split(',');
  const layerSize = Math.floor((totalMb * 1e6) / nImages / layers);
  const stateDir = mkdtempSync(join(process.env.PROMOFLOW_BENCH_DIR ?? tmpdir(), 'promoflow-bench-copy-'));
  const regs: LocalRegistry[] = [];
  const c = new RegistryClient();
  const mb = (n: number): string => `${(n / 1048576).toFixed(0)} MiB`;
  // The promoflow child runs as one plain-JS bundle, so neither tsx's transpiler nor its esbuild service is
  // counted in its wall time or RSS (crane and skopeo are compiled binaries too).
  const bundle = join(stateDir, 'bench-copy.js');
  const esbuild = (await import('esbuild')) as typeof import('esbuild');
  esbuild.buildSync({ entryPoints: [__filename], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: bundle, logLevel: 'error' });
  const self = [process.execPath, bundle];
  try {
    const start = async (names: string[]): Promise<LocalRegistry[]> => {
      const started = await mapLimit(names, 6, (name) => startRegistry({ name, stateDir }));
      regs.push(...started);
      return started;
    };
    const stopAll = async (): Promise<void> => {
      await Promise.all(regs.splice(0).map((r) => r.stop()));
      rmSync(join(stateDir, 'registries'), { recursive: true, force: true });
    };
    let [src] = await start(['src']);
    let dsts = await start(Array.from({ length: nDests }, (_, i) => `dst${i}`));
    console.log(`bench: ${nImages} images × ${layers} layers × ${mb(layerSize)} = ${mb(layerSize * layers * nImages)} unique, to ${nDests} registries, parallel ${parallel}; 2 cores shared`);
    const salt = randomBytes(4).toString('hex');
    const images = await mapLimit(Array.from({ length: nImages }, (_, i) => i), 2, (i) => pushRandomImage(c, { registry: src!.host, repository: `src/img${i}` }, `${salt}/${i}`, layers, layerSize));
    const results: Measured[] = [];
    for (const tool of tools) {
      let jobs: string[][];
      if (tool === 'promoflow') {
        jobs = [[...self, '--child', JSON.stringify({ images, dests: dsts.map((d) => d.host), prefix: 'promoflow', parallel })]];
        results.push(await measure(tool, jobs, 1));
      } else if (tool === 'promoflow-edges') {
        jobs = [[...self, '--child', JSON.stringify({ images, dests: dsts.map((d) => d.host), prefix: 'edges', parallel, edges: true, cacheDir: stateDir })]];
        results.push(await measure(tool, jobs, 1));
      } else if (tool === 'crane' && existsSync(CRANE)) {
        jobs = images.flatMap((img, i) => dsts.map((d) => [CRANE, 'copy', '--insecure', `${img.repo.registry}/${img.repo.repository}@${img.digest}`, `${d.host}/crane/img${i}:bench`]));
        results.push(await measure(tool, jobs, parallel));
      } else if (tool === 'skopeo' && existsSync(SKOPEO)) {
        jobs = images.flatMap((img, i) => dsts.map((d) => [SKOPEO, 'copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${img.repo.registry}/${img.repo.repository}@${img.digest}`, `docker://${d.host}/skopeo/img${i}:bench`]));
        results.push(await measure(tool, jobs, parallel));
      } else {
        console.log(`bench: ${tool} not available, skipped`);
        continue;
      }
      const r = results.at(-1)!;
      console.log(`bench: ${tool.padEnd(15)} wall ${(r.wallMs / 1000).toFixed(1).padStart(6)} s   peak RSS ${mb(r.peakRss).padStart(8)}${r.ok ? '' : '   (FAILED)'}`);
    }
    const base = results.find((r) => r.tool === 'promoflow');
    if (base) for (const r of results.filter((x) => x !== base)) console.log(`bench: ${r.tool}/promoflow: wall ×${(r.wallMs / base.wallMs).toFixed(2)}, peak RSS ×${(r.peakRss / base.peakRss).toFixed(2)}`);

    if (bigMib > 0) {
      // Fresh registries: the multi-image data is deleted first to keep the disk bounded.
      await stopAll();
      [src] = await start(['src']);
      dsts = await start(Array.from({ length: nDests }, (_, i) => `dst${i}`));
      const big = await pushRandomImage(c, { registry: src!.host, repository: 'src/big' }, `${salt}/big`, 1, bigMib * 1048576);
      const r = await measure('promoflow-1GiB', [[...self, '--child', JSON.stringify({ images: [big], dests: dsts.map((d) => d.host), prefix: 'big', parallel: 1 })]], 1);
      console.log(`bench: promoflow ${bigMib} MiB single layer → ${nDests} registries: wall ${(r.wallMs / 1000).toFixed(1)} s, peak RSS ${mb(r.peakRss)} (target < 200 MB)${r.ok ? '' : ' (FAILED)'}`);
    }
  } finally {
    c.close();
    await Promise.all(regs.map((r) => r.stop()));
    if (!process.env.PROMOFLOW_KEEP_BENCH_STATE) rmSync(stateDir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--child')) {
  child().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
