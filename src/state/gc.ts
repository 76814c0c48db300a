// Retention of the state store: mark and sweep. Every document reachable from a root (a reference that an open
// run's history names: its input, its continue-as-new state, its activities' results) is kept, following the
// references inside documents (shard lists, account and findings trees, bundles); every other document is removed
// once it is older than the retention age (file modification time, refreshed when a document is written again).
// The age protects what is about to be used (a bundle the CLI stored for a run not started yet) and keeps the
// accounts of ended runs readable (`status --json`) for that long. Temporary files of interrupted writes older
// than the age go too.
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip as gunzipCb } from 'node:zlib';
import { STATE_REF, type StateRef } from './store';

const gunzip = promisify(gunzipCb);
const REF_IN_TEXT = /sha256:[0-9a-f]{64}/g;

export interface GcResult {
  /** Documents reachable from the roots (present in the store). */
  marked: number;
  /** Documents removed (or that would be, with dryRun), and their bytes on disk. */
  removed: number;
  bytesFreed: number;
  /** Unreachable documents kept because they are younger than the retention age. */
  young: number;
  temporaries: number;
}

/** Every `sha256:` reference in a text (a JSON document or a decoded history payload). */
export function refsIn(text: string): StateRef[] {
  return [...new Set(text.match(REF_IN_TEXT) ?? [])] as StateRef[];
}

const pathOf = (dir: string, ref: StateRef) => {
  const hex = ref.slice('sha256:'.length);
  return join(dir, 'sha256', hex.slice(0, 2), `${hex}.json.gz`);
};

export async function collectGarbage(dir: string, opts: { roots: Iterable<string>; olderThanMs: number; now?: number; dryRun?: boolean }): Promise<GcResult> {
  const cutoff = (opts.now ?? Date.now()) - opts.olderThanMs;
  // Mark: breadth-first over documents present in the store (digests of images are not documents and are skipped).
  const marked = new Set<string>();
  const queue = [...opts.roots].filter((r) => STATE_REF.test(r));
  while (queue.length) {
    const ref = queue.pop()! as StateRef;
    if (marked.has(ref)) continue;
    let gz: Buffer;
    try {
      gz = await readFile(pathOf(dir, ref));
    } catch {
      continue;
    }
    marked.add(ref);
    for (const r of refsIn((await gunzip(gz)).toString('utf8'))) if (!marked.has(r)) queue.push(r);
  }
  const out: GcResult = { marked: marked.size, removed: 0, bytesFreed: 0, young: 0, temporaries: 0 };
  const root = join(dir, 'sha256');
  let prefixes: string[];
  try {
    prefixes = await readdir(root);
  } catch {
    return out;
  }
  for (const p of prefixes) {
    for (const name of await readdir(join(root, p)).catch(() => [] as string[])) {
      const file = join(root, p, name);
      const st = await stat(file).catch(() => undefined);
      if (!st?.isFile()) continue;
      const doc = /^([0-9a-f]{64})\.json\.gz$/.exec(name);
      if (doc && marked.has(`sha256:${doc[1]}`)) continue;
      if (st.mtimeMs >= cutoff) {
        if (doc) out.young++;
        continue;
      }
      if (doc) {
        out.removed++;
        out.bytesFreed += st.size;
      } else if (name.endsWith('.tmp')) out.temporaries++;
      else continue;
      if (!opts.dryRun) await rm(file, { force: true });
    }
  }
  return out;
}
