// Sharding a phase (pure): the bundle's items × the phase's destinations become shards (a repository group — the
// kpromo project, else the image's first path segment — × a destination group, the destinations sharing one
// registry-group task queue), each cut into batches of at most `batchEdges` edges (one activity each). Only the
// destinations where an item has work are included (no confirm-only copies), and items blocked by an earlier
// phase become skipped records instead of work. Deterministic: the same bundle and blocked set give the same
// shards, so a retried planning activity writes the same references.
import { itemDestinations, type BundleItem, type EdgeRecord, type RunBundle } from '../contract';

export interface ShardEntry {
  image: string;
  digest: string;
  tags: string[];
  allowTagMove?: boolean;
  project?: string;
  /** Destination names (this phase) where this digest has work. */
  dests: string[];
  /**
   * This is the digest's last phase in the run: its attestations (provenance with the whole rollout record, VSA)
   * are written now, and copied to `earlier`, the destinations of its earlier phases.
   */
  final?: true;
  earlier?: string[];
}

export interface ShardDoc {
  phase: string;
  group: string;
  /** Its entries say which phase is their last (`final`): attestations are written there only. */
  staged?: true;
  taskQueue?: string;
  batches: ShardEntry[][];
}

export interface PhaseShards {
  shards: ShardDoc[];
  skipped: EdgeRecord[];
}

export const itemKey = (i: { image: string; digest: string }) => `${i.image}@${i.digest}`;

function repositoryGroup(item: BundleItem): string {
  return item.project ?? item.image.split('/')[0]!;
}

/** Shards for `phaseIndex`; at most `maxShards` (shards grow when a phase would have more), or one per group. */
/**
 * `wholeRepos` (inventory): a repository (image) is never split across batches or shards, since its diff needs every
 * declared tag of it at once (a tag declared in another batch would look unexpected).
 */
export function shardPhase(bundle: RunBundle, phaseIndex: number, blocked: ReadonlySet<string>, opts: { batchEdges: number; shardEdges: number; maxShards: number; wholeRepos?: boolean }): PhaseShards {
  const phase = bundle.phases[phaseIndex]!;
  const projects = new Map((bundle.projects ?? []).map((p) => [p.name, p]));
  const queueOf = new Map(bundle.destinations.map((d) => [d.name, d.taskQueue ?? '']));
  const skipped: EdgeRecord[] = [];
  // group key → entries, in bundle order.
  const groups = new Map<string, ShardEntry[]>();
  let total = 0;
  for (const item of bundle.items) {
    const dests = itemDestinations(item, phase.destinations, projects);
    if (dests.length === 0) continue;
    if (blocked.has(itemKey(item))) {
      for (const d of dests) skipped.push({ image: item.image, digest: item.digest, destination: d, phase: phase.name, outcome: 'skipped', errorType: 'EarlierPhaseFailed', error: 'not promoted here because it failed in an earlier phase' });
      continue;
    }
    const later = bundle.phases.slice(phaseIndex + 1).some((p) => itemDestinations(item, p.destinations, projects).length > 0);
    const earlier = [...new Set(bundle.phases.slice(0, phaseIndex).flatMap((p) => itemDestinations(item, p.destinations, projects)))];
    const finalPart = later ? {} : { final: true as const, ...(earlier.length ? { earlier } : {}) };
    const byQueue = new Map<string, string[]>();
    for (const d of dests) byQueue.set(queueOf.get(d) ?? '', [...(byQueue.get(queueOf.get(d) ?? '') ?? []), d]);
    for (const [queue, qd] of byQueue) {
      const key = `${repositoryGroup(item)}\u0000${queue}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = []));
      g.push({ image: item.image, digest: item.digest, tags: item.tags, ...(item.allowTagMove ? { allowTagMove: true } : {}), ...(item.project ? { project: item.project } : {}), dests: qd, ...finalPart });
      total += qd.length;
    }
  }
  // Each group leaves at most one partial shard, so sizing for (maxShards − groups) full ones keeps the cap
  // (when there are fewer groups than the cap; a shard never mixes groups).
  const shardEdges = Math.max(opts.shardEdges, Math.ceil(total / Math.max(1, opts.maxShards - groups.size)));
  const shards: ShardDoc[] = [];
  for (const key of [...groups.keys()].sort()) {
    const [group, queue] = key.split('\u0000') as [string, string];
    let shard: ShardDoc | undefined;
    let shardSize = 0;
    let batch: ShardEntry[] = [];
    let batchSize = 0;
    const closeBatch = () => {
      if (batch.length) shard!.batches.push(batch);
      batch = [];
      batchSize = 0;
    };
    const entries = groups.get(key)!;
    // Stable: bundle order within an image, images in first-seen order.
    if (opts.wholeRepos) {
      const first = new Map<string, number>();
      entries.forEach((e, i) => first.has(e.image) || first.set(e.image, i));
      entries.sort((a, b) => first.get(a.image)! - first.get(b.image)!);
    }
    let prevImage: string | undefined;
    for (const e of entries) {
      const cut = !opts.wholeRepos || e.image !== prevImage;
      prevImage = e.image;
      if (!shard || (cut && shardSize + e.dests.length > shardEdges)) {
        if (shard) closeBatch();
        shard = { phase: phase.name, group, staged: true, ...(queue ? { taskQueue: queue } : {}), batches: [] };
        shards.push(shard);
        shardSize = 0;
      }
      if (cut && batchSize + e.dests.length > opts.batchEdges && batch.length) closeBatch();
      batch.push(e);
      batchSize += e.dests.length;
      shardSize += e.dests.length;
    }
    closeBatch();
  }
  return { shards, skipped };
}
