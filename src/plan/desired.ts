// The desired state of each destination, derived from the manifests' images: which repositories a destination
// must hold and, in each, which digests with which tags. Pure; shared by the Reconcile workflow (to batch its
// inventory activities) and the CLI.
import type { DesiredRepo } from './drift';

/** One image of the manifests, in the compact form a Reconcile input carries. */
export interface DesiredImage {
  image: string;
  /** digest → tags ([] = untagged). */
  dmap: Record<string, string[]>;
  allowTagMove?: boolean;
  /** kpromo thin layout: the project whose destinations apply; absent = every destination. */
  project?: string;
}

/** Every repository `destination` must hold. `projectDestinations` maps a project to its destination names. */
export function desiredFor(destination: string, images: readonly DesiredImage[], projectDestinations: ReadonlyMap<string, readonly string[]>): DesiredRepo[] {
  const byImage = new Map<string, DesiredRepo>();
  for (const img of images) {
    if (img.project !== undefined && !(projectDestinations.get(img.project) ?? []).includes(destination)) continue;
    let repo = byImage.get(img.image);
    if (!repo) byImage.set(img.image, (repo = { destination, image: img.image, entries: [] }));
    for (const [digest, tags] of Object.entries(img.dmap)) {
      repo.entries.push({ digest, tags: [...tags].sort(), ...(img.allowTagMove ? { allowTagMove: true } : {}), ...(img.project ? { project: img.project } : {}) });
    }
  }
  return [...byImage.values()];
}

/** Split into batches of at most `size` repositories (one inventory activity each). */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
