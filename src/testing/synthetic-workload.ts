// A synthetic registry.k8s.io-shaped run bundle: P staging projects (kpromo thin layout, each its own source),
// N image digests spread over them (a few images per project, several digests per image, one tag each), D
// destinations in two phases (a canary pair, then the rest). Deterministic for a given size. Registries are
// never contacted: pair it with the stub executor (orchestration benchmarks and bounds tests).
import { createHash } from 'node:crypto';
import type { RunBundle } from '../contract';

export interface WorkloadSize {
  projects: number;
  digests: number;
  destinations: number;
  /** Destinations of the first (canary) phase; 0 = one phase. */
  canary?: number;
}

export function syntheticBundle(size: WorkloadSize, name = 'k8s-shaped'): RunBundle {
  const dests = Array.from({ length: size.destinations }, (_, i) => `region-${String(i + 1).padStart(2, '0')}`);
  const canary = Math.min(size.canary ?? 0, dests.length - 1);
  const phases = canary > 0
    ? [
        { name: 'canary', destinations: dests.slice(0, canary), soakSeconds: 0, verify: false, approval: false },
        { name: 'global', destinations: dests.slice(canary), soakSeconds: 0, verify: false, approval: false },
      ]
    : [{ name: 'global', destinations: dests, soakSeconds: 0, verify: false, approval: false }];
  const projects = Array.from({ length: size.projects }, (_, i) => `project-${String(i + 1).padStart(3, '0')}`);
  const items: RunBundle['items'] = [];
  for (let i = 0; i < size.digests; i++) {
    const project = projects[i % projects.length]!;
    const image = `${project}/image-${Math.floor(i / projects.length) % 12}`;
    items.push({ image, digest: `sha256:${createHash('sha256').update(`${name}/${i}`).digest('hex')}`, tags: [`v1.${i}`], project });
  }
  return {
    version: 1,
    name,
    manifestFiles: ['synthetic'],
    source: { registry: 'staging.invalid' },
    destinations: dests.map((d) => ({ name: d, registry: `${d}.mirror.invalid` })),
    phases,
    projects: projects.map((p) => ({ name: p, source: { registry: `staging.invalid/${p}` }, destinations: dests })),
    items,
  };
}
