// Dual-running with kpromo: the tag edges promoflow plans (one per destination repository, digest and tag, or one
// tagless) against the edges kpromo computes for the same tree (manifest/kpromo-reference.ts), as two sets, and
// every difference grouped by image digest and manifest so a maintainer sees at once why the tools disagree.
import type { KpromoEdge } from '../manifest';
import { normalizeRegistryPrefix } from '../model';
import type { Plan } from './plan';

const keyOf = (repo: string, digest: string, tag: string) => `${repo}@${digest}:${tag}`;

/** A run of differing edges that share image, digest and manifest (typically one per destination). */
export interface ParityGroup {
  image: string;
  digest: string;
  file: string;
  /** Destination repositories (`<registry>/<image>`), with the tags that differ there. */
  edges: number;
  destinations: number;
  tags: string[];
}

export interface ParityReport {
  kpromo: number;
  promoflow: number;
  same: number;
  onlyKpromo: ParityGroup[];
  onlyPromoflow: ParityGroup[];
  onlyKpromoEdges: number;
  onlyPromoflowEdges: number;
}

interface Flat {
  repo: string;
  image: string;
  digest: string;
  tag: string;
  file: string;
}

function group(edges: Flat[]): ParityGroup[] {
  const by = new Map<string, { g: ParityGroup; repos: Set<string>; tags: Set<string> }>();
  for (const e of edges) {
    const k = `${e.file}|${e.image}|${e.digest}`;
    let x = by.get(k);
    if (!x) by.set(k, (x = { g: { image: e.image, digest: e.digest, file: e.file, edges: 0, destinations: 0, tags: [] }, repos: new Set(), tags: new Set() }));
    x.g.edges++;
    x.repos.add(e.repo);
    x.tags.add(e.tag);
  }
  return [...by.values()].map(({ g, repos, tags }) => ({ ...g, destinations: repos.size, tags: [...tags].sort() })).sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.image < b.image ? -1 : a.image > b.image ? 1 : a.digest < b.digest ? -1 : 1));
}

/**
 * Compares kpromo's edges with the plan's. The plan must be made against an empty inventory (every edge has work),
 * so that it lists every edge: refused and lost edges are left out, as kpromo stops on overlaps.
 */
export function compareWithKpromo(kpromo: readonly KpromoEdge[], plan: Plan): ParityReport {
  // Registries compare as promoflow reads them (normalised).
  const kpromoKeys = new Map<string, KpromoEdge>();
  for (const e of kpromo) kpromoKeys.set(keyOf(`${normalizeRegistryPrefix(e.registry)}/${e.image}`, e.digest, e.tag), e);
  const onlyPromoflow: Flat[] = [];
  const planned = new Set<string>();
  for (const ph of plan.phases) {
    for (const e of ph.edges) {
      if (e.kind !== 'copy' && e.kind !== 'tag-only' && e.kind !== 'signatures') continue;
      for (const tag of e.tags.length ? e.tags : ['']) {
        const k = keyOf(e.target, e.digest, tag);
        if (planned.has(k)) continue;
        planned.add(k);
        if (!kpromoKeys.has(k)) onlyPromoflow.push({ repo: e.target, image: e.image, digest: e.digest, tag, file: e.origin?.file ?? '' });
      }
    }
  }
  const onlyKpromo: Flat[] = [];
  for (const [k, e] of kpromoKeys) if (!planned.has(k)) onlyKpromo.push({ repo: `${normalizeRegistryPrefix(e.registry)}/${e.image}`, image: e.image, digest: e.digest, tag: e.tag, file: e.file });
  return {
    kpromo: kpromoKeys.size,
    promoflow: planned.size,
    same: kpromoKeys.size - onlyKpromo.length,
    onlyKpromo: group(onlyKpromo),
    onlyPromoflow: group(onlyPromoflow),
    onlyKpromoEdges: onlyKpromo.length,
    onlyPromoflowEdges: onlyPromoflow.length,
  };
}
