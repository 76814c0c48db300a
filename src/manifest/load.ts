// Entry point for reading manifests into a Spec: detects the format (native file, kpromo promoter manifest, kpromo
// thin layout directory), applies a kpromo rollout overlay, applies strict-or-isolating policy (and kpromo's strict
// layout on request), and turns every problem into located errors.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ManifestLoadError, sortErrors, type ManifestError } from './errors';
import type { Skipped } from './images';
import { isKpromoManifest, readKpromoFile, readThinLayout } from './kpromo';
import { isNativeDocument, readNative } from './native';
import { FsSource, OUTSIDE, SourceError, SubSource, type ManifestSource } from './source';
import type { Spec } from './spec';
import { applyOverlay, isOverlayDocument, OVERLAY_FILE, OVERLAY_KIND } from './overlay';
import { parseYaml, type YamlFile } from './yamldoc';

export { ManifestLoadError, formatError, type ManifestError } from './errors';
export type { Skipped } from './images';

export type ManifestFormat = 'native' | 'kpromo' | 'kpromo-thin';

export interface LoadOptions {
  /**
   * Isolate invalid entries instead of failing: each is reported in `errors` and left out of the spec (the smallest
   * unit: a digest entry, an image entry, an invalid destination, a project). Default false: any error throws.
   */
  skipInvalid?: boolean;
  /**
   * kpromo layout mistakes that fail a whole kpromo run (a manifest without its images.yaml, a manifest nested too
   * deep) are errors that nothing isolates, as in kpromo. Default false: they are warnings and the rest is planned.
   */
  strictLayout?: boolean;
  /**
   * Rollout overlay for a kpromo layout (phases by region, canonical destination, signing, limits). Default: the
   * layout's own promoflow-overlay.yaml, when there is one.
   */
  overlay?: string;
}

export interface LoadResult {
  spec: Spec;
  format: ManifestFormat;
  /** Empty unless skipInvalid: the errors whose entries were left out. */
  errors: ManifestError[];
  /** Harmless oddities (ignored files, empty dmaps, projects without images). */
  warnings: ManifestError[];
  /** What skipInvalid left out. */
  skipped: Skipped[];
  /** Number of image list entries read (before merging repeated names). */
  imageEntries: number;
}

/** Reads `rel` (a file or a thin-layout directory; '' = the root) from any source (working tree, git revision). */
export async function loadSpecFrom(source: ManifestSource, rel: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const kind = await source.kind(rel);
  const fail = (message: string, expected?: string): never => {
    throw new ManifestLoadError([{ file: source.display(rel), line: 0, column: 0, path: '', message, expected }]);
  };
  let format: ManifestFormat;
  let read: { spec?: Spec; errors: ManifestError[]; warnings: ManifestError[]; skipped: Skipped[]; layout?: ManifestError[]; imageEntries?: number };
  if (kind === 'missing') return fail('no such file or directory', 'a manifest file or a kpromo thin-layout directory');
  if (kind === 'outside') return fail(OUTSIDE, 'a file inside the directory given to promoflow (not a symlink out of it)');
  if (kind === 'dir') {
    const sub = (p: string) => (rel ? `${rel}/${p}` : p);
    if ((await source.kind(sub('manifests'))) === 'dir') {
      format = 'kpromo-thin';
      read = await readThinLayout(rel ? new SubSource(source, rel) : source, path.posix.basename(path.resolve(source.display(rel))));
    } else if ((await source.kind(sub('promoter-manifest.yaml'))) === 'file') {
      format = 'kpromo';
      read = await readKpromoFile(source, sub('promoter-manifest.yaml'));
    } else return fail('is a directory without manifests', 'a thin layout (manifests/<project>/promoter-manifest.yaml) or a promoter-manifest.yaml');
  } else {
    let text: string;
    try {
      text = await source.read(rel);
    } catch (e) {
      return fail(e instanceof SourceError ? e.reason : 'cannot be read');
    }
    const y = parseYaml(source.display(rel), text);
    if (y.errors.length) throw new ManifestLoadError(y.errors);
    if (isOverlayDocument(y.data)) {
      return fail(`is a rollout overlay (kind: ${OVERLAY_KIND}), not a manifest`, `the kpromo manifests, with --overlay ${source.display(rel)} (or the file at the root of a thin layout as ${OVERLAY_FILE})`);
    } else if (isNativeDocument(y.data)) {
      format = 'native';
      read = readNative(y);
    } else if (isKpromoManifest(y.data)) {
      format = 'kpromo';
      read = await readKpromoFile(source, rel);
    } else {
      return fail('is not a manifest', `a promoflow manifest (apiVersion: promoflow.dev/v1alpha1, kind: Promotion) or a kpromo promoter manifest (registries: [...])`);
    }
  }
  const overlay = opts.overlay !== undefined ? await readOverlayFile(opts.overlay) : format === 'kpromo-thin' ? await readLayoutOverlay(source, rel) : undefined;
  if (overlay) {
    if (format === 'native') throw new ManifestLoadError([{ file: overlay.file, line: 0, column: 0, path: '', message: 'is an overlay for kpromo manifests', expected: `phases, signing and limits inside the promoflow manifest ${source.display(rel)}` }]);
    // Never isolated: a broken rollout must not run with some other rollout.
    if (overlay.errors.length) throw new ManifestLoadError(overlay.errors);
    if (read.spec) {
      const o = applyOverlay(read.spec, overlay);
      if (!o.spec) throw new ManifestLoadError(sortErrors(o.errors));
      read.spec = o.spec;
    }
  }
  const layout = sortErrors(read.layout ?? []);
  if (opts.strictLayout && layout.length) throw new ManifestLoadError(sortErrors([...layout, ...read.errors]));
  read.warnings.push(...layout);
  const errors = sortErrors(read.errors);
  if (!read.spec || (errors.length > 0 && !opts.skipInvalid)) {
    if (errors.length === 0) errors.push({ file: source.display(rel), line: 0, column: 0, path: '', message: 'holds nothing to promote' });
    throw new ManifestLoadError(errors);
  }
  return { spec: read.spec, format, errors, warnings: sortErrors(read.warnings), skipped: read.skipped, imageEntries: read.imageEntries ?? read.spec.images.length };
}

/** An overlay named on the command line (a path of the file system, like the manifests' own). */
async function readOverlayFile(file: string): Promise<YamlFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ManifestLoadError([{ file, line: 0, column: 0, path: '', message: code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? 'error'})`, expected: 'a rollout overlay file (kind: KpromoOverlay)' }]);
  }
  return parseYaml(file, text);
}

/** The overlay kept at the root of a thin layout, beside manifests/ and images/ (read from the same source). */
async function readLayoutOverlay(source: ManifestSource, rel: string): Promise<YamlFile | undefined> {
  const at = rel ? `${rel}/${OVERLAY_FILE}` : OVERLAY_FILE;
  if ((await source.kind(at)) !== 'file') return undefined;
  return parseYaml(source.display(at), await source.read(at));
}

/**
 * Loads a manifest file or a kpromo thin-layout directory from the file system. Throws ManifestLoadError (with
 * every error, located) when the input is invalid, unless `skipInvalid` isolates the invalid entries.
 */
export async function loadSpec(p: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const { source, rel } = await fsSourceFor(p);
  return loadSpecFrom(source, rel, opts);
}

/** The file-system source for `p` (a manifest file or a layout directory) and the name to load from it. */
export async function fsSourceFor(p: string): Promise<{ source: ManifestSource; rel: string }> {
  const root = path.resolve(p);
  let isDir = false;
  try {
    isDir = (await new FsSource(path.dirname(root), path.dirname(p)).kind(path.basename(root))) === 'dir';
  } catch {
    isDir = false;
  }
  // The root of reads is the directory itself (thin layout) or the file's directory: nothing above it is reachable.
  return isDir ? { source: new FsSource(root, p), rel: '' } : { source: new FsSource(path.dirname(root), path.dirname(p)), rel: path.basename(root) };
}
