// Drift: what the destinations hold against what the manifests declare, as a list of precise findings, each
// classified by whether reconciliation may repair it. Pure (no I/O, no Temporal), so the Reconcile workflow, the
// CLI and unit tests share it. Moved tags and unexpected tags are never repaired unless the manifest's policy says
// so: a person pushed them, and resetting them silently would break whoever depends on them.
import { isArtifactTag, shortDigest as short } from '../model';

/** One digest a destination repository must hold, with its tags. */
export interface DesiredEntry {
  digest: string;
  tags: string[];
  allowTagMove?: boolean;
  project?: string;
}

/** One destination repository (`<destination registry>/<image>`) as the manifests declare it. */
export interface DesiredRepo {
  destination: string;
  image: string;
  entries: DesiredEntry[];
}

/** `valid`: verified with the configured key; `invalid`: present but failed verification; `present`: not verified. */
export type ArtifactState = 'valid' | 'invalid' | 'present';

/** One destination repository as read from the registry (compact: only what the diff needs). */
export interface ObservedRepo {
  destination: string;
  image: string;
  /** Every ordinary tag (cosign and referrers tags excluded) → digest. */
  tags: Record<string, string>;
  /** Declared digests found present (by tag or by digest). */
  digests: string[];
  /** Declared digest → state of its `.sig`; absent = no signature tag. */
  signatures: Record<string, ArtifactState>;
  /** Declared digest → state of its `.att`; absent = no attestation tag. */
  attestations: Record<string, ArtifactState>;
  /** Why the repository could not be read (then nothing else is reported for it). */
  error?: string;
}

export interface DriftPolicy {
  /** The manifests ask for signatures (a signing policy exists). */
  signatures: boolean;
  /** The manifests ask for attestations. */
  attestations: boolean;
  /** Reset tags moved outside promoflow even where the image does not allow tag moves. Default false. */
  resetMovedTags?: boolean;
}

export type DriftKind =
  | 'missing-image'
  | 'missing-tag'
  | 'moved-tag'
  | 'missing-signature'
  | 'invalid-signature'
  | 'missing-attestation'
  | 'invalid-attestation'
  | 'unexpected-tag'
  | 'unreadable';

export const DRIFT_KINDS: readonly DriftKind[] = ['missing-image', 'missing-tag', 'moved-tag', 'missing-signature', 'invalid-signature', 'missing-attestation', 'invalid-attestation', 'unexpected-tag', 'unreadable'];

/** How a finding can be repaired: a promotion (copy/tag), replicating signatures from a healthy peer, or not at all. */
export type Repair = 'promote' | 'signatures' | 'none';

export interface DriftItem {
  kind: DriftKind;
  destination: string;
  image: string;
  digest?: string;
  tag?: string;
  /** For a moved or unexpected tag: the digest it points to now. */
  found?: string;
  repair: Repair;
  project?: string;
  allowTagMove?: boolean;
  detail: string;
}

export interface DriftReport {
  items: DriftItem[];
  counts: Record<DriftKind, number>;
  /** Findings that reconciliation may repair. */
  repairable: number;
  repos: number;
}


export function emptyCounts(): Record<DriftKind, number> {
  return Object.fromEntries(DRIFT_KINDS.map((k) => [k, 0])) as Record<DriftKind, number>;
}

/** Diff one repository. */
export function diffRepo(want: DesiredRepo, seen: ObservedRepo, policy: DriftPolicy): DriftItem[] {
  const at = { destination: want.destination, image: want.image };
  if (seen.error) return [{ kind: 'unreadable', ...at, repair: 'none', detail: `could not read ${want.image} at ${want.destination}: ${seen.error}` }];
  const out: DriftItem[] = [];
  const present = new Set(seen.digests);
  const declaredTags = new Set<string>();
  for (const e of want.entries) {
    const extra = { ...(e.project ? { project: e.project } : {}), ...(e.allowTagMove ? { allowTagMove: true } : {}) };
    for (const t of e.tags) declaredTags.add(t);
    if (!present.has(e.digest)) {
      out.push({ kind: 'missing-image', ...at, digest: e.digest, repair: 'promote', ...extra, detail: `${want.image}@${short(e.digest)} is missing at ${want.destination}` });
      // Its tags: a tag held by another digest is still a move (a promotion would refuse it), otherwise the copy brings it.
      for (const t of e.tags) {
        const cur = seen.tags[t];
        if (cur && cur !== e.digest) out.push(movedTag(at, e, t, cur, policy, extra));
      }
      continue;
    }
    for (const t of e.tags) {
      const cur = seen.tags[t];
      if (cur === undefined) out.push({ kind: 'missing-tag', ...at, digest: e.digest, tag: t, repair: 'promote', ...extra, detail: `tag ${t} (${short(e.digest)}) is missing at ${want.destination}` });
      else if (cur !== e.digest) out.push(movedTag(at, e, t, cur, policy, extra));
    }
    if (policy.signatures) {
      const s = seen.signatures[e.digest];
      if (s === undefined) out.push({ kind: 'missing-signature', ...at, digest: e.digest, repair: 'signatures', ...extra, detail: `${want.image}@${short(e.digest)} has no signature at ${want.destination}` });
      else if (s === 'invalid') out.push({ kind: 'invalid-signature', ...at, digest: e.digest, repair: 'signatures', ...extra, detail: `${want.image}@${short(e.digest)} has no valid signature at ${want.destination}` });
    }
    if (policy.attestations) {
      const a = seen.attestations[e.digest];
      if (a === undefined) out.push({ kind: 'missing-attestation', ...at, digest: e.digest, repair: 'signatures', ...extra, detail: `${want.image}@${short(e.digest)} has no attestation at ${want.destination}` });
      else if (a === 'invalid') out.push({ kind: 'invalid-attestation', ...at, digest: e.digest, repair: 'signatures', ...extra, detail: `${want.image}@${short(e.digest)} has no valid attestation at ${want.destination}` });
    }
  }
  for (const [t, d] of Object.entries(seen.tags).sort(([a], [b]) => a.localeCompare(b))) {
    if (declaredTags.has(t) || isArtifactTag(t)) continue;
    out.push({ kind: 'unexpected-tag', ...at, tag: t, found: d, repair: 'none', detail: `tag ${t} (${short(d)}) at ${want.destination} is in no manifest` });
  }
  return out;
}

function movedTag(at: { destination: string; image: string }, e: DesiredEntry, tag: string, cur: string, policy: DriftPolicy, extra: object): DriftItem {
  const repairable = e.allowTagMove === true || policy.resetMovedTags === true;
  return {
    kind: 'moved-tag',
    ...at,
    digest: e.digest,
    tag,
    found: cur,
    repair: repairable ? 'promote' : 'none',
    ...extra,
    detail: `tag ${tag} at ${at.destination} points to ${short(cur)}, the manifest wants ${short(e.digest)}${repairable ? '' : ' (moved outside promoflow: reported, not reset)'}`,
  };
}

/** Diff every repository; `observed` is matched to `desired` by destination and image (missing = unreadable). */
export function diffDrift(desired: readonly DesiredRepo[], observed: readonly ObservedRepo[], policy: DriftPolicy): DriftReport {
  const seen = new Map(observed.map((o) => [`${o.destination}\u0000${o.image}`, o]));
  const items: DriftItem[] = [];
  for (const want of desired) {
    const o = seen.get(`${want.destination}\u0000${want.image}`) ?? { destination: want.destination, image: want.image, tags: {}, digests: [], signatures: {}, attestations: {}, error: 'not inventoried' };
    items.push(...diffRepo(want, o, policy));
  }
  return summarize(items, desired.length);
}

export function summarize(items: DriftItem[], repos: number): DriftReport {
  const counts = emptyCounts();
  for (const i of items) counts[i.kind]++;
  return { items, counts, repairable: items.filter((i) => i.repair !== 'none').length, repos };
}

/** Merge per-batch reports (the workflow diffs each inventory batch as it arrives). */
export function mergeReports(reports: readonly DriftReport[]): DriftReport {
  return summarize(reports.flatMap((r) => r.items), reports.reduce((n, r) => n + r.repos, 0));
}
