// Manifests at a git revision (not pure: runs git): a ManifestSource over `git ls-tree`/`git show`, and the
// diff-scoped load that plans only what changed between two revisions (see plan/diff.ts for the pure part).
import { execFile } from 'node:child_process';
import { realpath, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { diffScope, splitErrors } from './diff';
import { ManifestLoadError, type ManifestError } from './errors';
import { loadSpec, loadSpecFrom, type LoadOptions, type LoadResult } from './load';
import { confine, MAX_MANIFEST_FILE_BYTES, SourceError, tooLarge, type EntryKind, type ManifestSource } from './source';

const run = promisify(execFile);

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' });
  return stdout;
}

/** The tree of `rev` below `prefix` (repository-relative POSIX path), seen as a root of its own. */
export class GitSource implements ManifestSource {
  private files?: Promise<Set<string>>;
  constructor(private readonly top: string, private readonly rev: string, private readonly prefix: string, private readonly displayBase: string) {}
  display(rel: string): string {
    return rel ? path.join(this.displayBase, rel) : this.displayBase;
  }
  private tree(): Promise<Set<string>> {
    this.files ??= git(this.top, ['ls-tree', '-r', '--name-only', '-z', this.rev, '--', this.prefix || '.']).then(
      (out) => new Set(out.split('\0').filter(Boolean).map((f) => (this.prefix ? f.slice(this.prefix.length + 1) : f))),
    );
    return this.files;
  }
  async kind(rel: string): Promise<EntryKind> {
    const c = confine(rel);
    if (c === undefined) return 'missing';
    const files = await this.tree();
    if (files.has(c)) return 'file';
    if (c === '') return files.size ? 'dir' : 'missing';
    for (const f of files) if (f.startsWith(`${c}/`)) return 'dir';
    return 'missing';
  }
  async list(rel: string): Promise<string[]> {
    const c = confine(rel);
    if (c === undefined) return [];
    const pre = c ? `${c}/` : '';
    const names = new Set<string>();
    for (const f of await this.tree()) if (f.startsWith(pre)) names.add(f.slice(pre.length).split('/')[0]!);
    return [...names].sort();
  }
  async read(rel: string): Promise<string> {
    const c = confine(rel);
    if (c === undefined) throw new SourceError(rel, 'is outside the manifest directory');
    if (!(await this.tree()).has(c)) throw new SourceError(rel, `no such file at ${this.rev}`);
    const object = `${this.rev}:${this.prefix ? `${this.prefix}/${c}` : c}`;
    const size = Number((await git(this.top, ['cat-file', '-s', object])).trim());
    if (size > MAX_MANIFEST_FILE_BYTES) throw new SourceError(rel, tooLarge(size));
    return git(this.top, ['show', object]);
  }
}

/** A ManifestSource for `p` (file or directory, as for loadSpec) at git revision `rev`, plus the name to load. */
export async function gitSourceFor(p: string, rev: string): Promise<{ source: GitSource; rel: string }> {
  const abs = path.resolve(p);
  let isDir = false;
  try {
    isDir = (await stat(abs)).isDirectory();
  } catch {
    isDir = false;
  }
  const rootAbs = isDir ? abs : path.dirname(abs);
  let top: string;
  try {
    top = (await git(rootAbs, ['rev-parse', '--show-toplevel'])).trim();
    await git(top, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  } catch {
    throw new ManifestLoadError([{ file: p, line: 0, column: 0, path: '', value: rev, message: 'is not a revision of a git repository holding this path', expected: 'a commit, branch or tag (e.g. HEAD~1, origin/main)' }]);
  }
  const prefix = path.relative(await realpath(top), await realpath(rootAbs).catch(() => rootAbs)).split(path.sep).join('/');
  return { source: new GitSource(top, rev, prefix, isDir ? p : path.dirname(p)), rel: isDir ? '' : path.basename(abs) };
}

export interface DiffLoadResult extends LoadResult {
  added: number;
  changed: number;
  unchanged: number;
  /** Errors already present at the base revision: reported, never blocking a diff-scoped run. */
  preexisting: ManifestError[];
}

/**
 * Loads `p` at `headRev` (undefined = the working tree) restricted to the digests added or changed since `baseRev`.
 * Only errors the change introduced fail the load (or, with skipInvalid, are isolated and reported).
 */
export async function loadDiffScoped(p: string, baseRev: string, headRev?: string, opts: LoadOptions = {}): Promise<DiffLoadResult> {
  // A revision that does not exist is a usage error, not "everything is new": resolve both before loading.
  const baseSource = await gitSourceFor(p, baseRev);
  const headSource = headRev === undefined ? undefined : await gitSourceFor(p, headRev);
  const loadAt = (at: { source: GitSource; rel: string } | undefined) =>
    at ? loadSpecFrom(at.source, at.rel, { ...opts, skipInvalid: true }) : loadSpec(p, { ...opts, skipInvalid: true });
  let base: LoadResult | undefined;
  let baseErrors: ManifestError[] = [];
  try {
    base = await loadAt(baseSource);
    baseErrors = base.errors;
  } catch (e) {
    if (!(e instanceof ManifestLoadError)) throw e;
    // The base may not have had the manifests at all (or be broken): then everything at head is new.
    baseErrors = e.errors;
  }
  const head = await loadAt(headSource);
  const { introduced, preexisting } = splitErrors(baseErrors, head.errors);
  if (introduced.length && !opts.skipInvalid) throw new ManifestLoadError(introduced);
  const scope = diffScope(base?.spec, head.spec);
  return { ...head, spec: scope.spec, errors: introduced, preexisting, added: scope.added, changed: scope.changed, unchanged: scope.unchanged };
}
