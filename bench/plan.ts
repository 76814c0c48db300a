// Planner benchmark: the k8s.io corpus (~160k edges) and a synthetic corpus of the same shape six times larger
// (~1M edges), each against a synthetic inventory in which 99% is already promoted. Each case runs in its own
// process so that peak RSS (process.resourceUsage().maxRSS) belongs to that case alone.
// Run: npm run bench:plan   (or: node --import tsx bench/plan.ts [corpus|6x])
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { loadSpec } from '../src/manifest/load';
import { repositoryKey, type Digest } from '../src/model';
import type { ImageSpec, Spec } from '../src/manifest/spec';
import type { Inventory, RepoState } from '../src/plan/inventory';
import { plan } from '../src/plan/plan';

const corpus = path.resolve(__dirname, '..', '..', 'shared', 'corpus', 'k8s-io', 'registry.k8s.io');

/** Deterministic PRNG (mulberry32) so every run plans the same inventory. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n copies of every image under new names (`<name>-rN`) with distinct digests: same shape, n times the edges. */
function scale(spec: Spec, n: number): Spec {
  if (n === 1) return spec;
  const images: ImageSpec[] = [];
  for (let r = 0; r < n; r++) {
    for (const img of spec.images) {
      if (r === 0) {
        images.push(img);
        continue;
      }
      const dmap: Record<Digest, string[]> = {};
      for (const d in img.dmap) dmap[`${d.slice(0, -2)}${r.toString(16).padStart(2, '0')}` as Digest] = img.dmap[d as Digest]!;
      images.push({ ...img, name: `${img.name}-r${r}`, dmap });
    }
  }
  return { ...spec, images };
}

/** 99% of edges fully promoted; of the rest, half lack the digest, half lack a tag. Sources hold everything. */
function inventoryFor(spec: Spec, promoted: number): Inventory {
  const rand = rng(42);
  const repos = new Map<string, RepoState>();
  const projects = new Map((spec.projects ?? []).map((p) => [p.name, p]));
  const dest = new Map(spec.destinations.map((d) => [d.name, d]));
  for (const img of spec.images) {
    const p = img.project !== undefined ? projects.get(img.project) : undefined;
    const src = repositoryKey(p?.source.registry ?? spec.source.registry, img.name);
    const srcState = repos.get(src) ?? { tags: new Map<string, string>(), digests: new Set<string>() };
    repos.set(src, srcState);
    for (const name of p?.destinations ?? spec.destinations.map((d) => d.name)) {
      const k = repositoryKey(dest.get(name)!.registry, img.name);
      const st = repos.get(k) ?? { tags: new Map<string, string>(), digests: new Set<string>() };
      repos.set(k, st);
      for (const d in img.dmap) {
        (srcState.digests as Set<string>).add(d);
        const x = rand();
        if (x >= promoted && x < promoted + (1 - promoted) / 2) continue; // digest missing
        (st.digests as Set<string>).add(d);
        const tags = img.dmap[d as Digest]!;
        tags.forEach((t, i) => {
          if (x >= promoted && i === 0) return; // a tag missing
          (st.tags as Map<string, string>).set(t, d);
        });
      }
    }
  }
  return { repos };
}

async function runCase(name: string, factor: number) {
  const t0 = performance.now();
  const { spec: base } = await loadSpec(corpus, { skipInvalid: true });
  const t1 = performance.now();
  const spec = scale(base, factor);
  const inv = inventoryFor(spec, 0.99);
  const t2 = performance.now();
  const p = plan(spec, inv);
  const t3 = performance.now();
  const rssMB = process.resourceUsage().maxRSS / 1024;
  const c = p.counts;
  console.log(
    `${name.padEnd(7)} images=${spec.images.length} edges=${c.edges} noop=${c.noop} copy=${c.copy} tag-only=${c.tagOnly} overlap=${c.overlap} ` +
      `| load ${(t1 - t0).toFixed(0)} ms, synth inventory ${(t2 - t1).toFixed(0)} ms, plan ${(t3 - t2).toFixed(0)} ms, total ${(t3 - t0).toFixed(0)} ms | peak RSS ${rssMB.toFixed(0)} MB`,
  );
}

async function main() {
  const which = process.argv[2];
  if (which === 'corpus') return runCase('corpus', 1);
  if (which === '6x') return runCase('6x', 6);
  console.log(`node ${process.version}, corpus ${path.relative(process.cwd(), corpus)}`);
  for (const c of ['corpus', '6x']) execFileSync(process.execPath, ['--import', 'tsx', __filename, c], { stdio: 'inherit' });
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
