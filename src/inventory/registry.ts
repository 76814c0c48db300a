// Reads what registries hold, in the planner's shape (plan/inventory.ts): per repository, the declared tags'
// digests, which declared digests are present, and which carry a cosign signature or attestation (seen in the
// tags list as sha256-<hex>.sig / .att, so they cost no extra request). One tags-list walk per repository, then a
// HEAD per declared tag found and per declared untagged digest not already proven by a tag (none for what the
// listing's gcr.io-style digest map already names: one request per repository there). With `allTags`, every tag is
// resolved (reconciliation needs unexpected tags too).
import { headManifest, iterateTagPages, mapLimit, OciError, type RegistryClient } from '../oci';
import { isArtifactTag, parseCosignTag, repositoryKey, splitRepositoryKey, type RepositoryRef } from '../model';
import type { Spec } from '../manifest';
import type { Inventory, RepoState } from '../plan';

export interface RepoQuery {
  /** `<registry prefix>/<image>` as the planner keys it. */
  key: string;
  repo: RepositoryRef;
  digests: Set<string>;
  tags: Set<string>;
  /**
   * Declared digests with a declared tag here. Such an edge has work whenever one of its tags is missing, whether its
   * digest is there untagged or not (the worker checks that when it promotes), so no HEAD is spent on it at plan time.
   */
  tagged?: Set<string>;
}

/** Every repository a spec touches (sources and destinations), with the digests and tags declared for it. */
export function reposOfSpec(spec: Spec): RepoQuery[] {
  const byKey = new Map<string, RepoQuery>();
  const projects = new Map((spec.projects ?? []).map((p) => [p.name, p]));
  const destByName = new Map(spec.destinations.map((d) => [d.name, d]));
  const add = (registry: string, image: string, digest: string, tags: string[]) => {
    const key = repositoryKey(registry, image);
    let q = byKey.get(key);
    if (!q) byKey.set(key, (q = { key, repo: splitRepositoryKey(key), digests: new Set(), tags: new Set(), tagged: new Set() }));
    q.digests.add(digest);
    for (const t of tags) q.tags.add(t);
    if (tags.length) q.tagged!.add(digest);
  };
  for (const img of spec.images) {
    const project = img.project ? projects.get(img.project) : undefined;
    const source = project?.source ?? spec.source;
    const dests = project ? project.destinations.map((n) => destByName.get(n)!).filter(Boolean) : spec.destinations;
    for (const [digest, tags] of Object.entries(img.dmap)) {
      add(source.registry, img.name, digest, []);
      for (const d of dests) add(d.registry, img.name, digest, tags);
    }
  }
  return [...byKey.values()];
}

/** The tags, and the digest → tags map when the registry's listing carries one (gcr.io, Artifact Registry). */
async function tagsOf(client: RegistryClient, repo: RepositoryRef): Promise<{ tags: string[]; manifest?: Map<string, string[]> }> {
  const tags: string[] = [];
  let manifest: Map<string, string[]> | undefined;
  try {
    for await (const page of iterateTagPages(client, repo)) {
      // One push per tag: spreading a 130,000-element page into push() overflows the call stack.
      for (const t of page.tags) tags.push(t);
      if (page.manifest) for (const [d, ts] of Object.entries(page.manifest)) (manifest ??= new Map()).set(d, ts);
    }
  } catch (e) {
    // A repository that does not exist yet is simply empty.
    if (e instanceof OciError && (e.status === 404 || e.code === 'NAME_UNKNOWN')) return { tags: [] };
    throw e;
  }
  return { tags, ...(manifest ? { manifest } : {}) };
}

/**
 * One repository: the tags list walked once (.sig/.att presence read from it for free), then HEADs in parallel
 * (distribution's tags list carries no digests, so a HEAD per resolved tag is the floor) for the declared tags, or
 * every ordinary tag with `allTags`, and for declared digests no tag proved present.
 */
export async function readRepoState(
  client: RegistryClient,
  q: Pick<RepoQuery, 'repo' | 'digests' | 'tags' | 'tagged'>,
  opts: { allTags?: boolean; concurrency?: number } = {},
): Promise<RepoState & { allTags: string[] }> {
  const { tags: listed, manifest } = await tagsOf(client, q.repo);
  const present = new Set(listed);
  const signatures = new Set<string>();
  const attestations = new Set<string>();
  for (const t of listed) {
    const artifact = parseCosignTag(t);
    if (artifact) (artifact.kind === 'sig' ? signatures : attestations).add(artifact.subject);
  }
  const n = opts.concurrency ?? 16;
  const tags = new Map<string, string>();
  const digests = new Set<string>();
  // The listing's digest map answers for every tag and digest it names: one request for the whole repository
  // (kpromo relies on the same). Only what it does not name is resolved by HEAD below.
  if (manifest) {
    for (const [d, ts] of manifest) {
      digests.add(d);
      for (const t of ts) tags.set(t, d);
    }
  }
  const wanted = (opts.allTags ? listed.filter((t) => !isArtifactTag(t)) : [...q.tags].filter((t) => present.has(t))).filter((t) => !tags.has(t));
  const heads = await mapLimit(wanted, n, (t) => headManifest(client, q.repo, t));
  wanted.forEach((t, i) => {
    const h = heads[i];
    if (!h) return;
    tags.set(t, h.digest);
    digests.add(h.digest);
  });
  const unproven = [...q.digests].filter((d) => !digests.has(d) && !q.tagged?.has(d));
  const found = await mapLimit(unproven, n, (d) => headManifest(client, q.repo, d));
  unproven.forEach((d, i) => {
    if (found[i]) digests.add(d);
  });
  return { tags, digests, signatures, attestations, allTags: listed };
}

export async function readInventory(client: RegistryClient, spec: Spec, opts: { concurrency?: number; allTags?: boolean } = {}): Promise<Inventory> {
  const queries = reposOfSpec(spec);
  // Repositories 32 at a time (most hold one or two declared tags, so their own parallel HEADs add little), each
  // with its own parallel HEADs: the per-registry limit in the client is the bound.
  const states = await mapLimit(queries, 32, (q) => readRepoState(client, q, { allTags: opts.allTags, concurrency: opts.concurrency }));
  return { repos: new Map(queries.map((q, i) => [q.key, states[i]!])) };
}
