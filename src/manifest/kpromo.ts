// The kpromo (kubernetes-sigs/promo-tools) formats, read as kpromo reads them but stricter: a plain
// promoter-manifest.yaml (inline `images`, or an images.yaml beside it) and the thin layout
// (manifests/<project>/promoter-manifest.yaml beside images/<project>/images.yaml). Digest and tag rules apply to
// thin manifests too (kpromo skips them there), and nothing outside the layout root can be read.
import * as path from 'node:path';
import { z } from 'zod';
import { hostOf } from '../model';
import type { ManifestError } from './errors';
import { readImages, type Skipped } from './images';
import type { ReadResult } from './native';
import { findInlineSecrets, registrySchema, says, zodErrors } from './rules';
import { confine, OUTSIDE, SourceError, type ManifestSource } from './source';
import type { Destination, ImageSpec, Project, Spec } from './spec';
import { parseYaml, pathString, type YamlFile } from './yamldoc';

const registryEntry = z.strictObject({
  name: registrySchema,
  src: z.boolean({ error: says('is not a boolean', 'true or false') }).optional(),
  'service-account': z.string().optional(),
});
const manifestShape = {
  registries: z.array(registryEntry, { error: says('is not a registry list', 'a list of {name, src, service-account}') }).min(1, says('is empty', 'one source (src: true) and at least one destination')),
  /** Deprecated and ignored by kpromo; accepted when it names the conventional images file. */
  imagesPath: z.string().optional(),
  /** kpromo's provenance policy: accepted, not enforced by promoflow (reported as a warning). */
  provenance: z.unknown().optional(),
};
const thinSchema = z.strictObject(manifestShape);
const plainSchema = z.strictObject({ ...manifestShape, images: z.unknown().optional() });

/** Region of a destination from its host: `europe-west1-docker.pkg.dev/...` → europe-west1, `eu.gcr.io/...` → eu. */
export function regionOf(registry: string): string | undefined {
  const host = hostOf(registry);
  return /^([a-z]+-[a-z]+\d+)-docker\.pkg\.dev$/.exec(host)?.[1] ?? /^(us|eu|asia)\.gcr\.io$/.exec(host)?.[1];
}

export function isKpromoManifest(data: unknown): boolean {
  return typeof data === 'object' && data !== null && !Array.isArray(data) && 'registries' in data;
}

interface ProjectRead {
  project?: Project;
  destinations: Destination[];
  images: ImageSpec[];
  files: string[];
  errors: ManifestError[];
  warnings: ManifestError[];
  skipped: Skipped[];
  imageEntries: number;
}

/** The registries block of one manifest → source, destinations (duplicates reported and dropped). */
function readRegistries(y: YamlFile, m: { registries: Array<z.infer<typeof registryEntry>> }, out: ProjectRead, projectName: string) {
  const err = (p: (string | number)[], value: unknown, message: string, expected?: string) =>
    out.errors.push({ file: y.file, ...y.locate(p), path: pathString(p), value, message, expected });
  const srcs = m.registries.flatMap((r, i) => (r.src ? [i] : []));
  if (srcs.length === 0) err(['registries'], undefined, 'has no source registry', 'exactly one entry with src: true');
  if (srcs.length > 1) err(['registries', srcs[1]!, 'src'], true, 'is a second source registry', 'exactly one entry with src: true');
  const seen = new Map<string, number>();
  const dests: string[] = [];
  m.registries.forEach((r, i) => {
    if (r.src) return;
    if (seen.has(r.name)) {
      err(['registries', i, 'name'], r.name, 'is listed twice', `each destination once (first: registries[${seen.get(r.name)}])`);
      out.skipped.push({ file: y.file, line: y.locate(['registries', i]).line, path: `registries[${i}]`, what: 'destination' });
      return;
    }
    seen.set(r.name, i);
    dests.push(r.name);
    const d: Destination = { name: r.name, registry: r.name };
    const region = regionOf(r.name);
    if (region) d.region = region;
    out.destinations.push(d);
  });
  if (dests.length === 0) err(['registries'], undefined, 'has no destination registry', 'at least one entry without src: true');
  const src = srcs.length === 1 ? m.registries[srcs[0]!]!.name : undefined;
  if (src !== undefined && dests.length > 0) out.project = { name: projectName, source: { registry: src }, destinations: dests, file: y.file };
}

async function readYaml(source: ManifestSource, rel: string, errors: ManifestError[]): Promise<YamlFile | undefined> {
  let text: string;
  try {
    text = await source.read(rel);
  } catch (e) {
    errors.push({ file: source.display(rel), line: 0, column: 0, path: '', message: e instanceof SourceError ? e.reason : 'cannot be read' });
    return undefined;
  }
  const y = parseYaml(source.display(rel), text);
  errors.push(...y.errors);
  return y.errors.length ? undefined : y;
}

/** Reads one promoter manifest (plain: `images` inline or images.yaml beside it; thin: `imagesRel` is the images file). */
async function readProject(source: ManifestSource, manifestRel: string, projectName: string, thin: { imagesRel: string } | undefined): Promise<ProjectRead> {
  const out: ProjectRead = { destinations: [], images: [], files: [source.display(manifestRel)], errors: [], warnings: [], skipped: [], imageEntries: 0 };
  const y = await readYaml(source, manifestRel, out.errors);
  if (!y) return out;
  out.errors.push(...findInlineSecrets(y, y.data));
  const r = (thin ? thinSchema : plainSchema).safeParse(y.data);
  if (!r.success) {
    out.errors.push(...zodErrors(y, r.error.issues, y.data));
    return out;
  }
  const m = r.data;
  readRegistries(y, m, out, projectName);
  if (m.provenance !== undefined) out.warnings.push({ file: y.file, ...y.locate(['provenance'], true), path: 'provenance', message: 'is not enforced by promoflow (kpromo provenance policy)', expected: 'signing policy in the native format' });
  let imagesRel: string | undefined = thin?.imagesRel;
  if (m.imagesPath !== undefined) {
    const target = confine(path.posix.join(path.posix.dirname(manifestRel), m.imagesPath));
    const p = ['imagesPath'];
    if (target === undefined) out.errors.push({ file: y.file, ...y.locate(p), path: 'imagesPath', value: m.imagesPath, message: 'points outside the manifest directory', expected: 'a path inside the directory given to promoflow' });
    else if (thin && target !== thin.imagesRel) out.errors.push({ file: y.file, ...y.locate(p), path: 'imagesPath', value: m.imagesPath, message: 'is not the images file of this project (kpromo ignores imagesPath)', expected: `../../${thin.imagesRel}` });
    else if (!thin) imagesRel = target;
  }
  const inline = 'images' in m ? (m as { images?: unknown }).images : undefined;
  if (inline !== undefined && inline !== null) {
    if (imagesRel !== undefined) out.errors.push({ file: y.file, ...y.locate(['images'], true), path: 'images', message: 'is given both inline and by imagesPath', expected: 'one of them' });
    const imgs = readImages(y, inline, ['images'], ['images'], { native: false, project: projectName });
    Object.assign(out, { images: imgs.images, imageEntries: imgs.entries });
    out.errors.push(...imgs.errors);
    out.warnings.push(...imgs.warnings);
    out.skipped.push(...imgs.skipped);
    return out;
  }
  if (imagesRel === undefined && !thin) {
    const beside = path.posix.join(path.posix.dirname(manifestRel), 'images.yaml');
    if ((await source.kind(beside)) !== 'missing') imagesRel = beside;
    else {
      out.warnings.push({ file: y.file, line: 0, column: 0, path: '', message: 'has no images (none inline, no images.yaml beside it): it promotes nothing' });
      return out;
    }
  }
  if (imagesRel === undefined) return out;
  const kind = await source.kind(imagesRel);
  if (kind === 'outside' || kind === 'dir') {
    out.errors.push({ file: source.display(imagesRel), line: 0, column: 0, path: '', message: kind === 'dir' ? 'is a directory' : OUTSIDE, expected: 'an images.yaml file inside the directory given to promoflow' });
    return out;
  }
  if (kind !== 'file') {
    // kpromo refuses the whole layout here; promoflow reports it and promotes nothing for this project.
    out.warnings.push({ file: source.display(imagesRel), line: 0, column: 0, path: '', message: `is missing: project ${projectName} promotes nothing`, expected: 'an images.yaml for every promoter manifest' });
    return out;
  }
  const imgs = await readImagesFile(source, imagesRel, projectName);
  out.files.push(source.display(imagesRel));
  Object.assign(out, { images: imgs.images, imageEntries: imgs.entries });
  out.errors.push(...imgs.errors);
  out.warnings.push(...imgs.warnings);
  out.skipped.push(...imgs.skipped);
  return out;
}

/** An images.yaml file: a top-level list of {name, dmap}; an empty file is an empty list. */
export async function readImagesFile(source: ManifestSource, rel: string, project?: string) {
  const errors: ManifestError[] = [];
  const y = await readYaml(source, rel, errors);
  if (!y) return { images: [], entries: 0, errors, warnings: [], skipped: [{ file: source.display(rel), line: errors[0]?.line ?? 0, path: '', what: 'file' as const }] };
  const r = readImages(y, y.data, [], ['images'], project === undefined ? { native: false } : { native: false, project });
  return { ...r, errors: [...errors, ...r.errors] };
}

export interface KpromoRead extends ReadResult {
  /** Per-project failures that dropped a whole project (isolating mode keeps the others). */
  failedProjects: string[];
  imageEntries: number;
}

/** Builds one Spec from the projects read; destinations are deduplicated by registry across projects. */
function assemble(name: string, reads: Array<[string, ProjectRead]>, files: string[]): Spec | undefined {
  const projects: Project[] = [];
  const destinations = new Map<string, Destination>();
  const images: ImageSpec[] = [];
  for (const [, r] of reads) {
    if (!r.project) continue;
    projects.push(r.project);
    for (const d of r.destinations) if (!destinations.has(d.name)) destinations.set(d.name, d);
    images.push(...r.images);
  }
  if (projects.length === 0) return undefined;
  const dests = [...destinations.values()];
  return {
    name,
    source: projects[0]!.source,
    destinations: dests,
    phases: [{ name: 'all', destinations: dests.map((d) => d.name), soakSeconds: 0, gates: { verify: true, approval: false } }],
    images,
    projects,
    files,
  };
}

function collect(reads: Array<[string, ProjectRead]>, extra: { errors: ManifestError[]; warnings: ManifestError[] }): KpromoRead {
  const out: KpromoRead = { errors: [...extra.errors], warnings: [...extra.warnings], skipped: [], failedProjects: [], imageEntries: 0 };
  for (const [name, r] of reads) {
    out.errors.push(...r.errors);
    out.warnings.push(...r.warnings);
    out.skipped.push(...r.skipped);
    out.imageEntries += r.imageEntries;
    // A project whose manifest itself is broken (no source/destinations) cannot be promoted at all.
    if (!r.project && r.errors.length) {
      out.failedProjects.push(name);
      out.skipped.push({ file: r.files[0]!, line: r.errors[0]!.line, path: name, what: 'project' });
    }
  }
  return out;
}

/** A plain promoter-manifest.yaml. */
export async function readKpromoFile(source: ManifestSource, rel: string): Promise<KpromoRead> {
  const name = path.posix.basename(path.posix.dirname(rel)) || 'kpromo';
  const r = await readProject(source, rel, name, undefined);
  const out = collect([[name, r]], { errors: [], warnings: [] });
  const spec = assemble(name, [[name, r]], r.files);
  if (spec) out.spec = spec;
  return out;
}

/** The thin layout rooted at the source root: manifests/<p>/promoter-manifest.yaml + images/<p>/images.yaml. */
export async function readThinLayout(source: ManifestSource, name: string): Promise<KpromoRead> {
  const errors: ManifestError[] = [];
  const warnings: ManifestError[] = [];
  for (const d of ['manifests', 'images']) {
    if ((await source.kind(d)) !== 'dir') errors.push({ file: source.display(d), line: 0, column: 0, path: '', message: 'is not a directory', expected: 'the thin layout: manifests/<project>/promoter-manifest.yaml and images/<project>/images.yaml' });
  }
  if (errors.length) return { errors, warnings, skipped: [], failedProjects: [], imageEntries: 0 };
  const projects: string[] = [];
  for (const p of await source.list('manifests')) {
    const rel = `manifests/${p}`;
    if ((await source.kind(rel)) !== 'dir') {
      warnings.push({ file: source.display(rel), line: 0, column: 0, path: '', message: 'is ignored: not a project directory', expected: 'manifests/<project>/promoter-manifest.yaml' });
      continue;
    }
    for (const f of await source.list(rel)) {
      if (f !== 'promoter-manifest.yaml') warnings.push({ file: source.display(`${rel}/${f}`), line: 0, column: 0, path: '', message: 'is ignored', expected: 'only promoter-manifest.yaml in manifests/<project>/' });
    }
    const manifestKind = await source.kind(`${rel}/promoter-manifest.yaml`);
    if (manifestKind === 'outside') errors.push({ file: source.display(`${rel}/promoter-manifest.yaml`), line: 0, column: 0, path: '', message: OUTSIDE, expected: 'a promoter-manifest.yaml inside the directory given to promoflow' });
    else if (manifestKind === 'file') projects.push(p);
    else warnings.push({ file: source.display(rel), line: 0, column: 0, path: '', message: 'has no promoter-manifest.yaml: ignored' });
  }
  const reads: Array<[string, ProjectRead]> = [];
  for (const p of projects) reads.push([p, await readProject(source, `manifests/${p}/promoter-manifest.yaml`, p, { imagesRel: `images/${p}/images.yaml` })]);
  // images/<p>/ without a manifest: validated (so their defects are known) but not promoted, as kpromo does.
  const orphanReads: Array<[string, ProjectRead]> = [];
  for (const p of await source.list('images')) {
    const rel = `images/${p}`;
    if ((await source.kind(rel)) !== 'dir') continue;
    for (const f of await source.list(rel)) {
      if (f !== 'images.yaml') warnings.push({ file: source.display(`${rel}/${f}`), line: 0, column: 0, path: '', message: 'is ignored: the thin layout reads only images/<project>/images.yaml', expected: `manifests/${p}/promoter-manifest.yaml for a manifest` });
    }
    if (!projects.includes(p) && (await source.kind(`${rel}/images.yaml`)) === 'file') {
      const imgs = await readImagesFile(source, `${rel}/images.yaml`, p);
      warnings.push({ file: source.display(`${rel}/images.yaml`), line: 0, column: 0, path: '', message: `has no manifests/${p}/promoter-manifest.yaml: not promoted` });
      orphanReads.push([p, { destinations: [], images: [], files: [source.display(`${rel}/images.yaml`)], errors: imgs.errors, warnings: imgs.warnings, skipped: imgs.skipped, imageEntries: imgs.entries }]);
    }
  }
  if (projects.length === 0) errors.push({ file: source.display('manifests'), line: 0, column: 0, path: '', message: 'holds no promoter manifests', expected: 'manifests/<project>/promoter-manifest.yaml' });
  const out = collect([...reads, ...orphanReads], { errors, warnings });
  const files = reads.flatMap(([, r]) => r.files);
  const spec = assemble(name, reads, files);
  if (spec) out.spec = spec;
  return out;
}
