// The kpromo (kubernetes-sigs/promo-tools) formats, read as kpromo reads them (docs/kpromo.md is the contract, row by
// row): a plain promoter-manifest.yaml (images inline) and the thin layout (manifests/<project>/promoter-manifest.yaml
// beside images/<project>/images.yaml). Stricter only where kpromo lets a real defect through: digest and tag rules
// apply to thin manifests too (kpromo skips them there), and nothing outside the layout root can be read. What kpromo
// silently collapses (a destination listed twice) is collapsed with a warning; layout mistakes that fail a whole
// kpromo run are warnings, or errors with `strictLayout`.
import * as path from 'node:path';
import { z } from 'zod';
import { hostOf, normalizeRegistryPrefix } from '../model';
import type { ManifestError } from './errors';
import { readImages, type Skipped } from './images';
import type { ReadResult } from './native';
import { findInlineSecrets, registrySchema, says, zodErrors } from './rules';
import { confine, OUTSIDE, SourceError, type ManifestSource } from './source';
import type { Destination, ImageSpec, Project, Spec } from './spec';
import { parseYaml, pathString, type YamlFile } from './yamldoc';

const registryEntry = z.strictObject({
  // Checked by registryName (normalising what kpromo tolerates), not by the schema.
  name: z.string({ error: says('is not a registry', 'a string host[:port][/path]') }),
  src: z.boolean({ error: says('is not a boolean', 'true or false') }).optional(),
  /** kpromo's GCP service account; promoflow's credentials are bound by the worker configuration, so unused. */
  'service-account': z.string().optional(),
});
const registries = z.array(registryEntry, { error: says('is not a registry list', 'a list of {name, src, service-account}') }).min(1, says('is empty', 'one source (src: true) and at least one destination'));
// kpromo's own structs (schema.ThinManifest, schema.Manifest) read with yaml.UnmarshalStrict: exactly these fields.
/** Deprecated and ignored by kpromo; accepted when it names the conventional images file. */
const thinSchema = z.strictObject({ registries, imagesPath: z.string().optional() });
const plainSchema = z.strictObject({ registries, images: z.unknown().optional() });

/**
 * A registry name as kpromo tolerates it: trailing `/` and an upper-case host are normalised (with a warning: hosts
 * are case-insensitive, and kpromo trims the `/` when it maps edges to registries); anything else must be a valid
 * lowercase host[:port][/path] (an upper-case repository path fails kpromo's registry reads too).
 */
function registryName(raw: string): { name?: string; warning?: string } {
  const name = normalizeRegistryPrefix(raw);
  if (!registrySchema.safeParse(name).success) return {};
  return name === raw ? { name } : { name, warning: `is read as ${JSON.stringify(name)}` };
}

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
  /** Layout mistakes that fail a whole kpromo run: warnings, or errors with strictLayout. */
  layout: ManifestError[];
  imageEntries: number;
}

/** The registries block of one manifest → source, destinations (a destination listed twice is collapsed, as kpromo does). */
function readRegistries(y: YamlFile, m: { registries: Array<z.infer<typeof registryEntry>> }, out: ProjectRead, projectName: string) {
  const err = (p: (string | number)[], value: unknown, message: string, expected?: string) =>
    out.errors.push({ file: y.file, ...y.locate(p), path: pathString(p), value, message, expected });
  const warn = (p: (string | number)[], value: unknown, message: string, expected?: string) =>
    out.warnings.push({ file: y.file, ...y.locate(p), path: pathString(p), value, message, expected });
  const names: Array<string | undefined> = m.registries.map((r, i) => {
    const n = registryName(r.name);
    if (n.name === undefined) {
      err(['registries', i, 'name'], r.name, 'is not a valid registry', 'lowercase host[:port][/path] without scheme (OCI repository paths are lowercase)');
      if (!r.src) out.skipped.push({ file: y.file, line: y.locate(['registries', i]).line, path: `registries[${i}]`, what: 'destination' });
    } else if (n.warning) warn(['registries', i, 'name'], r.name, n.warning, 'the registry written without a trailing / and with a lowercase host');
    return n.name;
  });
  const srcs = m.registries.flatMap((r, i) => (r.src ? [i] : []));
  if (srcs.length === 0) err(['registries'], undefined, 'has no source registry', 'exactly one entry with src: true');
  // kpromo takes the first and promotes to the second as if it were a destination: refused, it is never meant.
  if (srcs.length > 1) err(['registries', srcs[1]!, 'src'], true, 'is a second source registry', 'exactly one entry with src: true');
  const seen = new Map<string, number>();
  const dests: string[] = [];
  m.registries.forEach((r, i) => {
    const name = names[i];
    if (r.src || name === undefined) return;
    if (seen.has(name)) {
      warn(['registries', i, 'name'], r.name, 'is listed twice: collapsed into one destination (kpromo de-duplicates it too)', `each destination once (first: registries[${seen.get(name)}])`);
      return;
    }
    seen.set(name, i);
    dests.push(name);
    const d: Destination = { name, registry: name };
    const region = regionOf(name);
    if (region) d.region = region;
    out.destinations.push(d);
  });
  const src = srcs.length === 1 ? names[srcs[0]!] : undefined;
  if (src !== undefined && dests.length === 0) warn(['registries'], undefined, 'has no destination registry: the manifest promotes nothing', 'at least one entry without src: true');
  if (src !== undefined && dests.length > 0 && srcs.length === 1) out.project = { name: projectName, source: { registry: src }, destinations: dests, file: y.file };
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

/** Reads one promoter manifest (plain: `images` inline only; thin: `imagesRel` is the images file). */
async function readProject(source: ManifestSource, manifestRel: string, projectName: string, thin: { imagesRel: string } | undefined): Promise<ProjectRead> {
  const out: ProjectRead = { destinations: [], images: [], files: [source.display(manifestRel)], errors: [], warnings: [], skipped: [], layout: [], imageEntries: 0 };
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
  if (thin) {
    const imagesPath = 'imagesPath' in m ? m.imagesPath : undefined;
    if (imagesPath !== undefined) {
      // kpromo ignores imagesPath (deprecated) and always reads images/<project>/images.yaml: a value naming another
      // file would make the manifest say something untrue, so it must name that file.
      const target = confine(path.posix.join(path.posix.dirname(manifestRel), imagesPath));
      if (target !== thin.imagesRel) out.errors.push({ file: y.file, ...y.locate(['imagesPath']), path: 'imagesPath', value: imagesPath, message: 'is not the images file of this project (kpromo ignores imagesPath and reads images/<project>/images.yaml)', expected: `../../${thin.imagesRel} or no imagesPath` });
    }
    const kind = await source.kind(thin.imagesRel);
    if (kind === 'outside' || kind === 'dir') {
      out.errors.push({ file: source.display(thin.imagesRel), line: 0, column: 0, path: '', message: kind === 'dir' ? 'is a directory' : OUTSIDE, expected: 'an images.yaml file inside the directory given to promoflow' });
      return out;
    }
    if (kind !== 'file') {
      out.layout.push({ file: source.display(thin.imagesRel), line: 0, column: 0, path: '', message: `is missing: project ${projectName} promotes nothing (kpromo fails the whole run here)`, expected: 'an images.yaml for every promoter manifest' });
      return out;
    }
    const imgs = await readImagesFile(source, thin.imagesRel, projectName);
    out.files.push(source.display(thin.imagesRel));
    Object.assign(out, { images: imgs.images, imageEntries: imgs.entries });
    out.errors.push(...imgs.errors);
    out.warnings.push(...imgs.warnings);
    out.skipped.push(...imgs.skipped);
    return out;
  }
  // A plain manifest holds its images inline: kpromo never reads an images.yaml beside it, so promoting from one
  // would do what kpromo does not (and rolling back to kpromo would silently stop promoting those images).
  const beside = path.posix.join(path.posix.dirname(manifestRel), 'images.yaml');
  const besideKind = await source.kind(beside);
  if (besideKind === 'outside') {
    out.errors.push({ file: source.display(beside), line: 0, column: 0, path: '', message: OUTSIDE, expected: 'an images.yaml file inside the directory given to promoflow' });
  } else if (besideKind === 'file') {
    out.errors.push({ file: source.display(beside), line: 0, column: 0, path: '', message: 'is beside a plain promoter manifest, which kpromo reads images from inline only (this file would be ignored)', expected: `images: inline in ${path.posix.basename(manifestRel)}, or the thin layout (manifests/<project>/promoter-manifest.yaml + images/<project>/images.yaml)` });
  }
  const inline = (m as { images?: unknown }).images;
  if (inline === undefined || inline === null) {
    out.warnings.push({ file: y.file, line: 0, column: 0, path: '', message: 'has no images: it promotes nothing' });
    return out;
  }
  const imgs = readImages(y, inline, ['images'], ['images'], { native: false, project: projectName, emptyDmap: 'error' });
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
  /** Layout mistakes that fail a whole kpromo run (a manifest without images.yaml, a nested manifest). */
  layout: ManifestError[];
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

function collect(reads: Array<[string, ProjectRead]>, extra: { errors: ManifestError[]; warnings: ManifestError[]; layout: ManifestError[] }): KpromoRead {
  const out: KpromoRead = { errors: [...extra.errors], warnings: [...extra.warnings], skipped: [], failedProjects: [], layout: [...extra.layout], imageEntries: 0 };
  for (const [name, r] of reads) {
    out.layout.push(...r.layout);
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

/**
 * The name of a plain manifest's spec (plans, workflow IDs): the file's own name, or its directory's when the file
 * has kpromo's conventional name; never `.` (the directory of a bare file name), always usable in a workflow ID.
 */
export function plainManifestName(display: string): string {
  const base = path.basename(display).replace(/\.ya?ml$/i, '');
  const raw = base === 'promoter-manifest' ? path.basename(path.resolve(path.dirname(display))) : base;
  return raw.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+/, '') || 'kpromo';
}

/** A plain promoter-manifest.yaml. */
export async function readKpromoFile(source: ManifestSource, rel: string): Promise<KpromoRead> {
  const name = plainManifestName(source.display(rel));
  const r = await readProject(source, rel, name, undefined);
  const out = collect([[name, r]], { errors: [], warnings: [], layout: [] });
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
  if (errors.length) return { errors, warnings, skipped: [], failedProjects: [], layout: [], imageEntries: 0 };
  const layout: ManifestError[] = [];
  const projects: string[] = [];
  // kpromo walks all of manifests/ and fails the run on a promoter-manifest.yaml at any other depth.
  const nested = async (rel: string, depth: number): Promise<void> => {
    for (const f of await source.list(rel)) {
      const sub = `${rel}/${f}`;
      const kind = await source.kind(sub);
      if (kind === 'dir' && depth < 8) await nested(sub, depth + 1);
      else if (kind === 'file' && f === 'promoter-manifest.yaml') {
        layout.push({ file: source.display(sub), line: 0, column: 0, path: '', message: 'is nested too deep: not read (kpromo fails the whole run on it)', expected: 'manifests/<project>/promoter-manifest.yaml' });
      }
    }
  };
  for (const p of await source.list('manifests')) {
    const rel = `manifests/${p}`;
    if ((await source.kind(rel)) !== 'dir') {
      if (p === 'promoter-manifest.yaml') layout.push({ file: source.display(rel), line: 0, column: 0, path: '', message: 'is not in a project directory: not read (kpromo fails the whole run on it)', expected: 'manifests/<project>/promoter-manifest.yaml' });
      else warnings.push({ file: source.display(rel), line: 0, column: 0, path: '', message: 'is ignored: not a project directory', expected: 'manifests/<project>/promoter-manifest.yaml' });
      continue;
    }
    for (const f of await source.list(rel)) {
      if ((await source.kind(`${rel}/${f}`)) === 'dir') await nested(`${rel}/${f}`, 3);
      else if (f !== 'promoter-manifest.yaml') warnings.push({ file: source.display(`${rel}/${f}`), line: 0, column: 0, path: '', message: 'is ignored', expected: 'only promoter-manifest.yaml in manifests/<project>/' });
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
      // kpromo never reads it: its defects are worth knowing, never worth blocking a run.
      orphanReads.push([p, { destinations: [], images: [], files: [source.display(`${rel}/images.yaml`)], errors: [], warnings: [...imgs.errors, ...imgs.warnings], skipped: [], layout: [], imageEntries: imgs.entries }]);
    }
  }
  if (projects.length === 0) errors.push({ file: source.display('manifests'), line: 0, column: 0, path: '', message: 'holds no promoter manifests', expected: 'manifests/<project>/promoter-manifest.yaml' });
  const out = collect([...reads, ...orphanReads], { errors, warnings, layout });
  const files = reads.flatMap(([, r]) => r.files);
  const spec = assemble(name, reads, files);
  if (spec) out.spec = spec;
  return out;
}
