// Diff-scoped runs (kpromo's Prow diff / --manifest-diff-since): keep only the digests added or changed between two
// revisions of the manifests, and tell new errors from old ones, so one bad old entry cannot block a new promotion.
// Pure: both revisions arrive already loaded (git.ts reads them).
import type { Digest } from '../model';
import type { ManifestError } from './errors';
import type { ImageSpec, Spec } from './spec';

export interface DiffScope {
  /** The head spec restricted to added/changed digests (images left with none are dropped). */
  spec: Spec;
  added: number;
  changed: number;
  unchanged: number;
}

const imageKey = (img: ImageSpec) => `${img.project ?? ''}\u0000${img.name}`;

/** Destinations per project (or '' for a single-source spec), to notice a newly added mirror. */
function destinationsByProject(spec: Spec): Map<string, Set<string>> {
  const m = new Map<string, Set<string>>();
  const regOf = new Map(spec.destinations.map((d) => [d.name, d.registry]));
  if (spec.projects) for (const p of spec.projects) m.set(p.name, new Set(p.destinations.map((n) => regOf.get(n) ?? n)));
  m.set('', new Set(spec.destinations.map((d) => d.registry)));
  return m;
}

/**
 * Digests of `head` that are new, or whose tags gained an entry, relative to `base` (undefined = nothing before).
 * A project (or single-source spec) that gained a destination keeps all its digests: the new mirror needs them.
 */
export function diffScope(base: Spec | undefined, head: Spec): DiffScope {
  const before = new Map<string, Record<Digest, string[]>>();
  for (const img of base?.images ?? []) {
    const prev = before.get(imageKey(img));
    before.set(imageKey(img), prev ? { ...prev, ...img.dmap } : img.dmap);
  }
  const baseDests = base ? destinationsByProject(base) : new Map<string, Set<string>>();
  const headDests = destinationsByProject(head);
  const grown = new Set<string>();
  for (const [p, dests] of headDests) {
    const old = baseDests.get(p);
    if (base && old && [...dests].some((d) => !old.has(d))) grown.add(p);
  }
  let added = 0;
  let changed = 0;
  let unchanged = 0;
  const images: ImageSpec[] = [];
  for (const img of head.images) {
    const old = before.get(imageKey(img));
    const all = grown.has(img.project ?? '');
    const dmap: Record<Digest, string[]> = {};
    for (const d in img.dmap) {
      const tags = img.dmap[d as Digest]!;
      const prev = old?.[d as Digest];
      if (!prev) {
        added++;
        dmap[d as Digest] = tags;
      } else if (tags.some((t) => !prev.includes(t))) {
        changed++;
        dmap[d as Digest] = tags;
      } else {
        unchanged++;
        if (all) dmap[d as Digest] = tags;
      }
    }
    if (Object.keys(dmap).length) images.push({ ...img, dmap });
  }
  return { spec: { ...head, images }, added, changed, unchanged };
}

/** Line numbers shift between revisions: an error is "the same" when file, path shape, value and message match. */
const errorKey = (e: ManifestError) => `${e.file}\u0000${e.path.replace(/\[\d+\]/g, '[]')}\u0000${JSON.stringify(e.value) ?? ''}\u0000${e.message}`;

/** Splits head's errors into those the change introduced and those already present at base. */
export function splitErrors(base: readonly ManifestError[], head: readonly ManifestError[]): { introduced: ManifestError[]; preexisting: ManifestError[] } {
  const old = new Set(base.map(errorKey));
  const introduced: ManifestError[] = [];
  const preexisting: ManifestError[] = [];
  for (const e of head) (old.has(errorKey(e)) ? preexisting : introduced).push(e);
  return { introduced, preexisting };
}
