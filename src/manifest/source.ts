// Where manifest files come from: a read-only view of one directory tree (the working tree, or a git revision in
// git.ts). Paths are POSIX, relative to the root; nothing outside the root is reachable, symlinks included.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import * as path from 'node:path';

/** `outside`: the path resolves (through a symlink) outside the root: refused, never read, never "missing". */
export type EntryKind = 'file' | 'dir' | 'missing' | 'outside';

/** What an `outside` entry is reported as. */
export const OUTSIDE = 'resolves (through a symlink) outside the manifest directory';

export interface ManifestSource {
  /** How file names appear in errors: `display(rel)`. */
  display(rel: string): string;
  kind(rel: string): Promise<EntryKind>;
  /** Names of the entries of a directory, sorted. */
  list(rel: string): Promise<string[]>;
  /** File text; throws SourceError when missing, unreadable or outside the root. */
  read(rel: string): Promise<string>;
}

/**
 * Largest manifest file read (the largest images.yaml of registry.k8s.io is about 100 KB): a file far beyond it is
 * a mistake or an attack, and YAML parsing costs about 100 times the file size in memory.
 */
export const MAX_MANIFEST_FILE_BYTES = 4 << 20;

export function tooLarge(size: number): string {
  return `is ${size} bytes, above the ${MAX_MANIFEST_FILE_BYTES} byte limit for a manifest file; split it (kpromo thin layout: one images.yaml per project)`;
}

export class SourceError extends Error {
  constructor(readonly rel: string, readonly reason: string) {
    super(`${rel}: ${reason}`);
    this.name = 'SourceError';
  }
}

/** Normalises a relative path; undefined when it climbs out of the root or is absolute. */
export function confine(rel: string): string | undefined {
  if (path.posix.isAbsolute(rel) || path.win32.isAbsolute(rel)) return undefined;
  const n = path.posix.normalize(rel.replace(/\\/g, '/'));
  if (n === '..' || n.startsWith('../')) return undefined;
  return n === '.' ? '' : n.replace(/\/$/, '');
}

/** The file system under `root`; `displayBase` prefixes file names in messages (the path the user typed). */
export class FsSource implements ManifestSource {
  private realRoot: Promise<string>;
  constructor(private readonly root: string, private readonly displayBase: string) {
    this.realRoot = realpath(root).catch(() => path.resolve(root));
  }
  display(rel: string): string {
    return rel ? path.join(this.displayBase, rel) : this.displayBase;
  }
  private async resolve(rel: string): Promise<string> {
    const c = confine(rel);
    if (c === undefined) throw new SourceError(rel, 'is outside the manifest directory');
    const abs = path.join(this.root, c);
    let real: string;
    try {
      real = await realpath(abs);
    } catch {
      return abs; // missing: reported by the caller
    }
    const root = await this.realRoot;
    if (real !== root && !real.startsWith(root + path.sep)) throw new SourceError(rel, OUTSIDE);
    return real;
  }
  async kind(rel: string): Promise<EntryKind> {
    try {
      const s = await stat(await this.resolve(rel));
      return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'missing';
    } catch (e) {
      return e instanceof SourceError && e.reason === OUTSIDE ? 'outside' : 'missing';
    }
  }
  async list(rel: string): Promise<string[]> {
    try {
      return (await readdir(await this.resolve(rel))).sort();
    } catch {
      return [];
    }
  }
  async read(rel: string): Promise<string> {
    const abs = await this.resolve(rel);
    try {
      const size = (await stat(abs)).size;
      if (size > MAX_MANIFEST_FILE_BYTES) throw new SourceError(rel, tooLarge(size));
      return await readFile(abs, 'utf8');
    } catch (e) {
      if (e instanceof SourceError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw new SourceError(rel, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot read (${code ?? 'error'})`);
    }
  }
}

/** A directory inside another source, seen as a root of its own (a thin layout below the repository root). */
export class SubSource implements ManifestSource {
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
