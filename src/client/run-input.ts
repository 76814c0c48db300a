// Spec → PromotionRun input, and the run's readable, content-derived workflow ID (promote/<name>/<hash>), so that
// re-running the same CI job attaches to the promotion already in flight instead of starting a second one.
import { createHash } from 'node:crypto';
import type { Spec } from '../manifest/spec';
import type { PromotionRunInput } from '../workflows/types';

export function runInputFromSpec(spec: Spec, opts: { commit?: string; concurrency?: number } = {}): PromotionRunInput {
  return {
    name: spec.name,
    manifestFiles: spec.files,
    commit: opts.commit,
    source: { registry: spec.source.registry, insecure: spec.source.insecure, credentials: spec.source.credentials },
    destinations: spec.destinations.map((d) => ({ name: d.name, registry: d.registry, insecure: d.insecure, credentials: d.credentials })),
    phases: spec.phases.map((p) => ({ name: p.name, destinations: p.destinations, soakSeconds: p.soakSeconds, verify: p.gates.verify, approval: p.gates.approval })),
    items: spec.images.flatMap((img) =>
      Object.entries(img.dmap).map(([digest, tags]) => ({ image: img.name, digest, tags: [...tags].sort(), allowTagMove: img.allowTagMove })),
    ),
    concurrency: opts.concurrency,
  };
}

export function workflowIdFor(input: PromotionRunInput): string {
  const { manifestFiles: _files, ...content } = input;
  const hash = createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 12);
  const name = input.name.replace(/[^A-Za-z0-9._-]+/g, '-');
  return `promote/${name}/${input.commit ? `${input.commit.slice(0, 12)}-` : ''}${hash}`;
}
