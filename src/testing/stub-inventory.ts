// A registry-free InventoryReader for the reconcile scale benchmark and bounds tests: destinations named in
// `lagging` hold nothing the manifests declare (every declared digest is a missing-image finding, repairable by a
// promotion); every other destination is in sync. The batch activities around it are real (state store, shards,
// findings documents), so only the registry reading is stubbed.
import type { InventoryReader } from '../activities';
import type { DriftItem } from '../plan';

export function stubInventory(opts: { lagging: readonly string[] }): InventoryReader {
  return async (destination, repos, _policy, _key, progress) => {
    const out: DriftItem[] = [];
    for (const r of repos) {
      if (opts.lagging.includes(destination.name)) {
        for (const e of r.entries) out.push({ kind: 'missing-image', destination: r.destination, image: r.image, digest: e.digest, repair: 'promote', ...(e.project ? { project: e.project } : {}), detail: `${r.image}@${e.digest.slice(7, 19)} is missing at ${r.destination}` });
      }
      progress();
    }
    return out;
  };
}
