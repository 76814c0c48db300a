// Entry point for reading manifests into a Spec: detects the format (native file, kpromo promoter manifest, kpromo
// thin layout directory), applies strict-or-isolating policy, and turns every problem into located errors.
import * as path from 'node:path';
import { ManifestLoadError, sortErrors, type ManifestError } from './errors';
import type { Skipped } from './images';
import { isKpromoManifest, readKpromoFile, readThinLayout } from './kpromo';
import { isNativeDocument, readNative } from './native';
import { FsSource, OUTSIDE, SourceError, type ManifestSource } from './source';
import type { Spec } from './spec';
import { parseYaml } from './yamldoc';

export { ManifestLoadError, formatError, type ManifestError } from './errors';
export type { Skipped } from './images';

export type ManifestFormat = 'native' | 'kpromo' | 'kpromo-thin';

export interface LoadOptions {
  /**
   * Isolate invalid entries instead of failing: each is reported in `errors` and left out of the spec (the smallest
   * unit: a digest entry, an image entry, a duplicate destination, a project). Default false: any error throws.
   */
  skipInvalid?: boolean;
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
  let read: { spec?: Spec; errors: ManifestError[]; warnings: ManifestError[]; skipped: Skipped[]; imageEntries?: number };
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
    if (isNativeDocument(y.data)) {
      format = 'native';
      read = readNative(y);
    } else if (isKpromoManifest(y.data)) {
      format = 'kpromo';
      read = await readKpromoFile(source, rel);
    } else {
      return fail('is not a manifest', `a promoflow manifest (apiVersion: promoflow.dev/v1alpha1, kind: Promotion) or a kpromo promoter manifest (registries: [...])`);
    }
  }
  const errors = sortErrors(read.errors);
  if (!read.spec || (errors.length > 0 && !opts.skipInvalid)) {
    if (errors.length === 0) errors.push({ file: source.display(rel), line: 0, column: 0, path: '', message: 'holds nothing to promote' });
    throw new ManifestLoadError(errors);
  }
  return { spec: read.spec, format, errors, warnings: sortErrors(read.warnings), skipped: read.skipped, imageEntries: read.imageEntries ?? read.spec.images.length };
}

/** A directory inside another source, seen as a root of its own (a thin layout below the repository root). */
class SubSource implements ManifestSource {
  constructor(private readonly inner: ManifestSource, private readonly prefix: string) {}
  private p(rel: string) {
    return rel ? `${this.prefix}/${rel}` : this.prefix;
  }
  display(rel: string) {
    return this.inner.display(this.p(rel));
  }
  kind(rel: string) {
    return this.inner.kind(this.p(rel));
  }
  list(rel: string) {
    return this.inner.list(this.p(rel));
  }
  read(rel: string) {
    if (rel.startsWith('..')) return Promise.reject(new SourceError(rel, 'is outside the manifest directory'));
    return this.inner.read(this.p(rel));
  }
}

/**
 * Loads a manifest file or a kpromo thin-layout directory from the file system. Throws ManifestLoadError (with
 * every error, located) when the input is invalid, unless `skipInvalid` isolates the invalid entries.
 */
export async function loadSpec(p: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const root = path.resolve(p);
  let isDir = false;
  try {
    isDir = (await new FsSource(path.dirname(root), path.dirname(p)).kind(path.basename(root))) === 'dir';
  } catch {
    isDir = false;
  }
  // The root of reads is the directory itself (thin layout) or the file's directory: nothing above it is reachable.
  const source = isDir ? new FsSource(root, p) : new FsSource(path.dirname(root), path.dirname(p));
  return loadSpecFrom(source, isDir ? '' : path.basename(root), opts);
}
