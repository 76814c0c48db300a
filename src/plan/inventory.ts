// What the registries hold, as the planner needs it: per repository (`<registry>/<image>`, e.g. the destination's
// registry plus the image name), tags → digest, the digests present, and which digests have a signature and an
// attestation. Pure data; reading registries is someone else's job. Also the JSON form for `plan --inventory`.
import { z } from 'zod';
import { DIGEST_RE, TAG_RE } from '../model';

export interface RepoState {
  tags: ReadonlyMap<string, string>;
  /** Every digest present (tagged or not); tag targets are implicitly present. */
  digests: ReadonlySet<string>;
  /** Digests with a signature; absent = not inspected (then signatures are not planned). */
  signatures?: ReadonlySet<string>;
  /** Digests with an attestation; absent = not inspected. */
  attestations?: ReadonlySet<string>;
}

export interface Inventory {
  /**
   * Keyed by full repository: `repositoryKey(registry, image)`. A destination repository that is absent is empty. A source
   * repository that is absent was not inspected: its digests are assumed present (nothing is reported lost).
   */
  repos: ReadonlyMap<string, RepoState>;
}

export const emptyInventory = (): Inventory => ({ repos: new Map() });

const digest = z.string().regex(DIGEST_RE);
const repoJson = z.strictObject({
  tags: z.record(z.string().regex(TAG_RE), digest).optional(),
  digests: z.array(digest).optional(),
  signatures: z.array(digest).optional(),
  attestations: z.array(digest).optional(),
});
/** `{"repos": {"<registry>/<image>": {"tags": {"v1": "sha256:..."}, "digests": [...], "signatures": [...], "attestations": [...]}}}` */
export const inventoryJsonSchema = z.strictObject({ repos: z.record(z.string().min(1), repoJson) });
export type InventoryJson = z.infer<typeof inventoryJsonSchema>;

export function inventoryFromJson(j: InventoryJson): Inventory {
  const repos = new Map<string, RepoState>();
  for (const [k, r] of Object.entries(j.repos)) {
    const tags = new Map(Object.entries(r.tags ?? {}));
    const state: { -readonly [K in keyof RepoState]: RepoState[K] } = { tags, digests: new Set([...(r.digests ?? []), ...tags.values()]) };
    if (r.signatures) state.signatures = new Set(r.signatures);
    if (r.attestations) state.attestations = new Set(r.attestations);
    repos.set(k, state);
  }
  return { repos };
}

export function inventoryToJson(inv: Inventory): InventoryJson {
  const repos: InventoryJson['repos'] = {};
  for (const [k, r] of inv.repos) {
    const o: InventoryJson['repos'][string] = { tags: Object.fromEntries(r.tags), digests: [...r.digests] };
    if (r.signatures) o.signatures = [...r.signatures];
    if (r.attestations) o.attestations = [...r.attestations];
    repos[k] = o;
  }
  return { repos };
}
