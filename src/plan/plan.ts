// The planner: a pure function from spec + inventory to the exact list of changes, every (image, digest,
// destination) edge classified and assigned to its rollout phase. No-op edges — 99% of a steady-state run — are
// only counted, never materialised, so planning a million edges stays fast and small. kpromo's semantics where they
// meet (docs/kpromo.md): a digest missing from its source is `lost` (reported, skipped) before any tag move, and a
// promotion another image already makes (same digest, repository and tags) is counted `redundant`, planned once.
import { repositoryKey, type Digest } from '../model';
import type { Destination, ImageSpec, Origin, Phase, PhaseGates, Spec } from '../manifest';
import type { Inventory, RepoState } from './inventory';

export type EdgeKind =
  /** Digest absent at the destination: copy it (and set its tags). */
  | 'copy'
  /** Digest present, some tags missing: set them. */
  | 'tag-only'
  /** Digest and tags present, signature or attestation missing there: replicate them. */
  | 'signatures'
  /** A tag points to another digest at the destination and the image does not allow moving it: refused. */
  | 'tag-move'
  /** The manifests aim two digests at one destination image:tag: refused. */
  | 'overlap'
  /**
   * The source does not hold the digest and the destination lacks something (kpromo's `_LOST_`): reported and
   * skipped, never promoted; it does not block other edges (with `strictLost` it fails the run instead).
   */
  | 'lost';

export interface Edge {
  kind: EdgeKind;
  phase: string;
  /** Destination name (`Spec.destinations[].name`). */
  destination: string;
  project?: string;
  image: string;
  digest: Digest;
  /** Full source repository (`<source registry>/<image>`). */
  source: string;
  /** Full destination repository (`<destination registry>/<image>`). */
  target: string;
  /** Tags to set at the target (copy, tag-only, allowed moves); for refused edges, the tags concerned. */
  tags: readonly string[];
  /** Tags that point elsewhere today (moved when allowed, else the reason for `tag-move`). */
  moves?: Array<{ tag: string; from: string }>;
  /** Signature/attestation to write or replicate at the target. */
  sign?: { signature: boolean; attestation: boolean };
  /** Why a refused or lost edge is so, naming file, image, tag, digests and destination. */
  message?: string;
  origin?: Origin;
}

export interface Counts {
  edges: number;
  copy: number;
  tagOnly: number;
  signatures: number;
  noop: number;
  tagMove: number;
  overlap: number;
  lost: number;
  /**
   * Edges not planned because an earlier image (another project, in manifest order) already aims the same digest
   * at the same destination repository with all of these tags: kpromo's "redundant promotion", planned once.
   */
  redundant: number;
}

export interface PhasePlan {
  name: string;
  destinations: string[];
  soakSeconds: number;
  gates: PhaseGates;
  counts: Counts;
  /** Every edge but no-ops, in manifest order (image, digest, destination). */
  edges: Edge[];
}

export interface LostDigest {
  project?: string;
  image: string;
  digest: Digest;
  source: string;
  origin?: Origin;
}

export interface Plan {
  name: string;
  phases: PhasePlan[];
  counts: Counts;
  /** Each missing source digest once (its edges are in the phases as `lost`). */
  lost: LostDigest[];
}

export const zeroCounts = (): Counts => ({ edges: 0, copy: 0, tagOnly: 0, signatures: 0, noop: 0, tagMove: 0, overlap: 0, lost: 0, redundant: 0 });

/** Changes a run would make (copy, tag, sign). */
export const changeCount = (c: Counts): number => c.copy + c.tagOnly + c.signatures;
/** Refused edges: the manifests ask for something that must not happen. */
export const problemCount = (c: Counts): number => c.tagMove + c.overlap;

const KIND_COUNT: Record<EdgeKind, keyof Counts> = { copy: 'copy', 'tag-only': 'tagOnly', signatures: 'signatures', 'tag-move': 'tagMove', overlap: 'overlap', lost: 'lost' };

/** tag → the distinct digests the manifests aim at it, only for tags with more than one. */
type Conflicts = Map<string, Digest[]>;

function conflictsOf(images: readonly ImageSpec[]): Conflicts | undefined {
  let seen: Map<string, Digest> | undefined;
  let out: Conflicts | undefined;
  for (const img of images) {
    for (const d in img.dmap) {
      for (const t of img.dmap[d as Digest]!) {
        seen ??= new Map();
        const prev = seen.get(t);
        if (prev === undefined) seen.set(t, d as Digest);
        else if (prev !== d) {
          out ??= new Map();
          const list = out.get(t) ?? [prev];
          if (!list.includes(d as Digest)) list.push(d as Digest);
          out.set(t, list);
        }
      }
    }
  }
  return out;
}

interface Target {
  dest: Destination;
  phase: number;
}

/** Plans `spec` against `inventory`. Pure: same inputs, same plan. */
export function plan(spec: Spec, inventory: Inventory): Plan {
  const phases: PhasePlan[] = spec.phases.map((p: Phase) => ({ name: p.name, destinations: [...p.destinations], soakSeconds: p.soakSeconds, gates: { ...p.gates }, counts: zeroCounts(), edges: [] }));
  const phaseOf = new Map<string, number>();
  spec.phases.forEach((p, i) => p.destinations.forEach((d) => phaseOf.set(d, i)));
  const destByName = new Map(spec.destinations.map((d) => [d.name, d]));
  // A destination in no phase still gets planned, in a trailing phase, rather than silently left behind.
  const unphased = spec.destinations.filter((d) => !phaseOf.has(d.name));
  if (unphased.length) {
    unphased.forEach((d) => phaseOf.set(d.name, phases.length));
    phases.push({ name: 'unphased', destinations: unphased.map((d) => d.name), soakSeconds: 0, gates: { verify: true, approval: false }, counts: zeroCounts(), edges: [] });
  }
  const allTargets: Target[] = spec.destinations.map((d) => ({ dest: d, phase: phaseOf.get(d.name)! }));
  const projects = new Map((spec.projects ?? []).map((p) => [p.name, { source: p.source.registry, targets: p.destinations.flatMap((n) => (destByName.has(n) ? [{ dest: destByName.get(n)!, phase: phaseOf.get(n)! }] : [])) }]));
  const sourceOf = (img: ImageSpec) => (img.project !== undefined ? projects.get(img.project)?.source : undefined) ?? spec.source.registry;
  const targetsOf = (img: ImageSpec) => (img.project !== undefined ? projects.get(img.project)?.targets : undefined) ?? allTargets;

  // Overlap: group images by target repository; a group's conflicts are computed once per distinct image set.
  const byRepo = new Map<string, number[]>();
  spec.images.forEach((img, i) => {
    for (const t of targetsOf(img)) {
      const k = repositoryKey(t.dest.registry, img.name);
      const g = byRepo.get(k);
      if (g) {
        if (g[g.length - 1] !== i) g.push(i);
      } else byRepo.set(k, [i]);
    }
  });
  const groupConflicts = new Map<string, Conflicts | undefined>();
  const conflictAt = (img: number, repo: string): Conflicts | undefined => {
    const g = byRepo.get(repo)!;
    const key = g.length === 1 ? String(img) : g.join(',');
    if (!groupConflicts.has(key)) groupConflicts.set(key, conflictsOf(g.map((i) => spec.images[i]!)));
    return groupConflicts.get(key);
  };

  const claims = new Map<string, { image: number; tags: Set<string> }>();
  const signing = spec.signing;
  const total = zeroCounts();
  const lost: LostDigest[] = [];
  const fileOf = (img: ImageSpec) => img.origin?.file ?? spec.files[0] ?? '(manifest)';

  spec.images.forEach((img, imgIdx) => {
    const srcRegistry = sourceOf(img);
    const source = repositoryKey(srcRegistry, img.name);
    const srcState = inventory.repos.get(source);
    const targets = targetsOf(img);
    const states: Array<RepoState | undefined> = [];
    const conflicts: Array<Conflicts | undefined> = [];
    const repos: string[] = [];
    for (const t of targets) {
      const repo = repositoryKey(t.dest.registry, img.name);
      repos.push(repo);
      states.push(inventory.repos.get(repo));
      conflicts.push(conflictAt(imgIdx, repo));
    }
    for (const d in img.dmap) {
      const digest = d as Digest;
      const tags = img.dmap[digest]!;
      const isLost = srcState !== undefined && !srcState.digests.has(digest);
      let lostReported = false;
      for (let j = 0; j < targets.length; j++) {
        const t = targets[j]!;
        const state = states[j];
        const present = state !== undefined && state.digests.has(digest);
        let missing = 0;
        let moved = 0;
        if (state === undefined) missing = tags.length;
        else
          for (const tag of tags) {
            const at = state.tags.get(tag);
            if (at !== digest) {
              missing++;
              if (at !== undefined) moved++;
            }
          }
        const conf = conflicts[j];
        let overlapping = false;
        if (conf) for (const tag of tags) if (conf.has(tag)) overlapping = true;
        const needSig = signing !== undefined && present && state!.signatures !== undefined && !state!.signatures.has(digest);
        const needAtt = signing !== undefined && signing.attest && present && state!.attestations !== undefined && !state!.attestations.has(digest);
        const counts = phases[t.phase]!.counts;
        counts.edges++;
        total.edges++;
        // Redundant promotion (kpromo keeps one of them): an earlier image already aims this digest at this
        // repository with every one of these tags. Only repositories shared by several images can have one.
        if (!overlapping && byRepo.get(repos[j]!)!.length > 1) {
          const key = `${repos[j]}@${digest}`;
          const claim = claims.get(key);
          if (!claim) claims.set(key, { image: imgIdx, tags: new Set(tags) });
          else if (claim.image !== imgIdx) {
            if (tags.every((tag) => claim.tags.has(tag))) {
              counts.redundant++;
              total.redundant++;
              continue;
            }
            for (const tag of tags) claim.tags.add(tag);
          }
        }
        if (present && missing === 0 && !overlapping && !needSig && !needAtt) {
          counts.noop++;
          total.noop++;
          continue;
        }
        // Slow path: a real change or problem; allocation is fine here (at most a few % of edges).
        const edge: Edge = { kind: 'copy', phase: phases[t.phase]!.name, destination: t.dest.name, image: img.name, digest, source, target: repos[j]!, tags };
        if (img.project !== undefined) edge.project = img.project;
        if (img.origin) edge.origin = img.origin;
        const moves = moved ? tags.flatMap((tag) => {
          const from = state!.tags.get(tag);
          return from !== undefined && from !== digest ? [{ tag, from }] : [];
        }) : undefined;
        if (moves) edge.moves = moves;
        if (overlapping) {
          edge.kind = 'overlap';
          const parts = tags.filter((tag) => conf!.has(tag)).map((tag) => `tag ${tag} is aimed at ${conf!.get(tag)!.join(' and ')}`);
          edge.tags = tags.filter((tag) => conf!.has(tag));
          edge.message = `${fileOf(img)}: image ${img.name}: ${parts.join('; ')} at ${t.dest.name} (${repos[j]}): overlap refused`;
        } else if (isLost && (!present || missing > 0)) {
          // Before tag moves, as kpromo does: nothing can be copied or tagged from a source that lacks the digest.
          edge.kind = 'lost';
          edge.message = `${fileOf(img)}: image ${img.name}: ${digest} is not in the source ${source}${present ? ` (already at ${t.dest.name}, tags missing)` : ''}`;
          if (!lostReported) {
            lostReported = true;
            const l: LostDigest = { image: img.name, digest, source };
            if (img.project !== undefined) l.project = img.project;
            if (img.origin) l.origin = img.origin;
            lost.push(l);
          }
        } else if (moves && !img.allowTagMove) {
          edge.kind = 'tag-move';
          edge.tags = moves.map((m) => m.tag);
          edge.message = `${fileOf(img)}: image ${img.name}: ${moves.map((m) => `tag ${m.tag} points to ${m.from}`).join(', ')} at ${t.dest.name} (${repos[j]}), the manifest wants ${digest}: tag move refused (allowTagMove: true allows it)`;
        } else if (!present) {
          edge.kind = 'copy';
        } else if (missing > 0) {
          edge.kind = 'tag-only';
          edge.tags = tags.filter((tag) => state!.tags.get(tag) !== digest);
        } else {
          edge.kind = 'signatures';
        }
        if (signing !== undefined && (edge.kind === 'copy' || edge.kind === 'tag-only' || edge.kind === 'signatures')) {
          edge.sign = { signature: !present || needSig, attestation: signing.attest && (!present || needAtt) };
        }
        const key = KIND_COUNT[edge.kind];
        counts[key]++;
        total[key]++;
        phases[t.phase]!.edges.push(edge);
      }
    }
  });
  return { name: spec.name, phases, counts: total, lost };
}
