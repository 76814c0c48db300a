// What kpromo itself computes from a manifest tree, so that a maintainer can dual-run: an independent model of
// promo-tools' manifest parsing (promoter/image/schema/manifest.go: ParseThinManifestsFromDir,
// ValidateThinManifestDirectoryStructure, ParseManifestYAML/Validate) and edge logic (promoter/image/promotion/edge.go:
// ToEdges, CheckOverlappingEdges), with kpromo's leniency kept on purpose (no digest or tag rules in thin manifests,
// the first `src: true` wins, null tag lists are tagless). Where kpromo would stop the whole run, the reasons are
// collected and the edges of everything it can read are still computed. Never used to promote.
import { DIGEST_RE, TAG_RE } from '../model';
import { SubSource, type ManifestSource } from './source';
import { parseYaml } from './yamldoc';

/** One kpromo edge: a (destination registry, image, digest, tag) that kpromo wants; tag '' = tagless. */
export interface KpromoEdge {
  /** Destination registry as written in the manifest. */
  registry: string;
  image: string;
  digest: string;
  tag: string;
  /** The file that declared it (images.yaml, or the plain manifest); the first one for a redundant promotion. */
  file: string;
}

export interface KpromoReference {
  edges: KpromoEdge[];
  /** Why kpromo would fail the whole run (empty: it would run). */
  failures: string[];
  /** Edges that kpromo keeps once because several manifests want the same digest at the same destination tag. */
  redundant: number;
  manifests: number;
}

interface Context {
  name: string;
  serviceAccount: string;
  src: boolean;
}
interface KImage {
  name: string;
  dmap: Array<[string, string[]]>;
}
interface KManifest {
  file: string;
  /** Where the images were read (the thin layout's images.yaml, or the manifest itself). */
  imagesFile: string;
  registries: Context[];
  images: KImage[];
}


const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** yaml.v2 UnmarshalStrict: unknown fields and wrong types are errors. */
function strictKeys(v: Record<string, unknown>, allowed: string[], where: string): string | undefined {
  const extra = Object.keys(v).filter((k) => !allowed.includes(k));
  return extra.length ? `${where}: field ${extra[0]} not found` : undefined;
}

function readRegistries(v: unknown, file: string): Context[] | string {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return `${file}: registries is not a list`;
  const out: Context[] = [];
  for (const r of v) {
    if (!isMap(r)) return `${file}: registries entry is not a mapping`;
    const bad = strictKeys(r, ['name', 'service-account', 'src'], file);
    if (bad) return bad;
    if ((r.name !== undefined && typeof r.name !== 'string') || (r.src !== undefined && typeof r.src !== 'boolean')) return `${file}: registries entry has a wrong type`;
    out.push({ name: (r.name as string | undefined) ?? '', serviceAccount: String(r['service-account'] ?? ''), src: r.src === true });
  }
  return out;
}

function readImageList(v: unknown, file: string): KImage[] | string {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return `${file}: images is not a list`;
  const out: KImage[] = [];
  for (const i of v) {
    if (!isMap(i)) return `${file}: image entry is not a mapping`;
    const bad = strictKeys(i, ['name', 'dmap'], file);
    if (bad) return bad;
    const dmap: Array<[string, string[]]> = [];
    if (i.dmap !== undefined && i.dmap !== null) {
      if (!isMap(i.dmap)) return `${file}: dmap is not a mapping`;
      for (const [d, tags] of Object.entries(i.dmap)) {
        if (tags !== null && (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string'))) return `${file}: tags of ${d} are not a list of strings`;
        dmap.push([d, (tags as string[] | null) ?? []]);
      }
    }
    out.push({ name: typeof i.name === 'string' ? i.name : '', dmap });
  }
  return out;
}

async function readData(source: ManifestSource, rel: string): Promise<{ data?: unknown; error?: string }> {
  let text: string;
  try {
    text = await source.read(rel);
  } catch {
    return { error: `reading ${source.display(rel)}: cannot be read` };
  }
  const y = parseYaml(source.display(rel), text);
  return y.errors.length ? { error: `unmarshalling ${source.display(rel)}: ${y.errors[0]!.message}` } : { data: y.data };
}

/** schema.ParseManifestYAML + Validate (plain manifests are validated; thin ones are not). */
function validatePlain(m: KManifest): string | undefined {
  const errs: string[] = [];
  const srcs = m.registries.filter((r) => r.src).length;
  if (m.registries.length > 0 && srcs > 1) errs.push('cannot have more than 1 source registry');
  if (m.registries.length > 0 && srcs === 0) errs.push('source registry must be set');
  if (m.registries.length === 0) errs.push("'registries' field cannot be empty");
  if (m.registries.some((r) => r.name === '')) errs.push("registries: 'name' field cannot be empty");
  for (const i of m.images) {
    if (i.name === '') errs.push("images: 'name' field cannot be empty");
    if (i.dmap.length === 0) errs.push("images: 'dmap' field cannot be empty");
  }
  if (errs.length) return `${m.file}: ${errs.join('; ')}`;
  for (const i of m.images) {
    for (const [d, tags] of i.dmap) {
      if (!DIGEST_RE.test(d)) return `${m.file}: invalid digest: ${d}`;
      const t = tags.find((x) => !TAG_RE.test(x));
      if (t !== undefined) return `${m.file}: invalid tag: ${t}`;
    }
  }
  return undefined;
}

async function readThin(source: ManifestSource, failures: string[]): Promise<KManifest[]> {
  for (const d of ['images', 'manifests']) if ((await source.kind(d)) !== 'dir') failures.push(`stat directory ${source.display(d)}: not a directory`);
  if (failures.length) return [];
  const projects: string[] = [];
  for (const p of await source.list('manifests')) {
    if ((await source.kind(`manifests/${p}`)) !== 'dir') {
      if (p === 'promoter-manifest.yaml') failures.push(`unexpected manifest path ${source.display(`manifests/${p}`)}`);
      continue;
    }
    // ValidateThinManifestDirectoryStructure: a manifest's images.yaml MUST exist.
    if ((await source.kind(`manifests/${p}/promoter-manifest.yaml`)) === 'file') {
      projects.push(p);
      if ((await source.kind(`images/${p}/images.yaml`)) !== 'file') failures.push(`corresponding file ${source.display(`images/${p}/images.yaml`)} does not exist`);
    }
    // The walk of manifests/ fails on a promoter-manifest.yaml at any other depth.
    const walk = async (rel: string, depth: number): Promise<void> => {
      for (const f of await source.list(rel)) {
        const kind = await source.kind(`${rel}/${f}`);
        if (kind === 'dir' && depth < 8) await walk(`${rel}/${f}`, depth + 1);
        else if (kind === 'file' && f === 'promoter-manifest.yaml' && depth > 0) failures.push(`unexpected manifest path ${source.display(`${rel}/${f}`)}`);
      }
    };
    await walk(`manifests/${p}`, 0);
  }
  const out: KManifest[] = [];
  for (const p of projects) {
    const rel = `manifests/${p}/promoter-manifest.yaml`;
    const file = source.display(rel);
    const m = await readData(source, rel);
    if (m.error) {
      failures.push(m.error);
      continue;
    }
    if (!isMap(m.data) && m.data !== undefined && m.data !== null) {
      failures.push(`${file}: not a mapping`);
      continue;
    }
    const data = (m.data ?? {}) as Record<string, unknown>;
    const bad = strictKeys(data, ['registries', 'imagesPath'], file);
    if (bad) {
      failures.push(bad);
      continue;
    }
    const registries = readRegistries(data.registries, file);
    if (typeof registries === 'string') {
      failures.push(registries);
      continue;
    }
    if ((await source.kind(`images/${p}/images.yaml`)) !== 'file') continue; // already a failure above
    const i = await readData(source, `images/${p}/images.yaml`);
    if (i.error) {
      failures.push(i.error);
      continue;
    }
    const images = readImageList(i.data, source.display(`images/${p}/images.yaml`));
    if (typeof images === 'string') {
      failures.push(images);
      continue;
    }
    // Finalize: GetSrcRegistry.
    if (!registries.some((r) => r.src)) {
      failures.push(`${file}: getting source registry: could not find source registry`);
      continue;
    }
    out.push({ file, imagesFile: source.display(`images/${p}/images.yaml`), registries, images });
  }
  if (projects.length === 0) failures.push(`no manifests found in dir: ${source.display('')}`);
  return out;
}

async function readPlain(source: ManifestSource, rel: string, failures: string[]): Promise<KManifest[]> {
  const file = source.display(rel);
  const m = await readData(source, rel);
  if (m.error) return (failures.push(m.error), []);
  const data = (isMap(m.data) ? m.data : {}) as Record<string, unknown>;
  const bad = strictKeys(data, ['registries', 'images'], file);
  if (bad) return (failures.push(bad), []);
  const registries = readRegistries(data.registries, file);
  if (typeof registries === 'string') return (failures.push(registries), []);
  const images = readImageList(data.images, file);
  if (typeof images === 'string') return (failures.push(images), []);
  const mf = { file, imagesFile: file, registries, images };
  const invalid = validatePlain(mf);
  if (invalid) return (failures.push(invalid), []);
  return [mf];
}

/** ToEdges + CheckOverlappingEdges over the manifests kpromo read. */
function toEdges(manifests: KManifest[], failures: string[]): { edges: KpromoEdge[]; redundant: number } {
  const seen = new Set<string>();
  // Registry contexts by number, so that the edge keys stay short (a corpus has ~160k of them).
  const contexts = new Map<string, number>();
  const ctx = (c: Context) => {
    const k = `${c.name}|${c.serviceAccount}|${c.src}`;
    let n = contexts.get(k);
    if (n === undefined) contexts.set(k, (n = contexts.size));
    return n;
  };
  const tagless: KpromoEdge[] = [];
  // destination image:tag → digest → edges wanting it
  const intent = new Map<string, Map<string, KpromoEdge[]>>();
  for (const m of manifests) {
    const src = m.registries.find((r) => r.src)!;
    const srcKey = ctx(src);
    for (const img of m.images) {
      for (const [digest, tags] of img.dmap) {
        for (const dst of m.registries) {
          const dstKey = ctx(dst);
          if (dstKey === srcKey) continue;
          for (const tag of tags.length ? tags : ['']) {
            // An Edge is a struct of both registry contexts, the names, the digest and the tag: identical ones collapse.
            const key = `${srcKey}|${dstKey}|${img.name}|${digest}|${tag}`;
            if (seen.has(key)) continue;
            seen.add(key);
            const edge: KpromoEdge = { registry: dst.name, image: img.name, digest, tag, file: m.imagesFile };
            if (tag === '') {
              tagless.push(edge);
              continue;
            }
            const pqin = `${dst.name}/${img.name}:${tag}`;
            let byDigest = intent.get(pqin);
            if (!byDigest) intent.set(pqin, (byDigest = new Map()));
            const list = byDigest.get(digest);
            if (list) list.push(edge);
            else byDigest.set(digest, [edge]);
          }
        }
      }
    }
  }
  const edges = tagless;
  let redundant = 0;
  for (const [pqin, byDigest] of intent) {
    if (byDigest.size > 1) {
      failures.push(`overlapping edges detected: ${pqin} is wanted at ${[...byDigest.keys()].join(' and ')}`);
      continue;
    }
    const [list] = byDigest.values();
    edges.push(list![0]!);
    redundant += list!.length - 1;
  }
  return { edges, redundant };
}

/** kpromo's view of `rel` in `source`: a thin-layout directory or a plain promoter manifest file. */
export async function kpromoReference(source: ManifestSource, rel: string): Promise<KpromoReference> {
  const failures: string[] = [];
  const isDir = (await source.kind(rel)) === 'dir';
  const manifests = isDir ? await readThin(rel ? new SubSource(source, rel) : source, failures) : await readPlain(source, rel, failures);
  const { edges, redundant } = toEdges(manifests, failures);
  return { edges, failures, redundant, manifests: manifests.length };
}

