// Spec + Plan → PromotionRun input, and the run's readable, content-derived workflow ID (promote/<name>/<hash>),
// so that re-running the same CI job attaches to the promotion already in flight instead of starting a second one.
// Only image digests with something to do (copy, tags, signatures; a lost source only when asked to fail on it) go
// into the run: in a steady state that is a small fraction of the manifests, which keeps payloads and histories small.
import { createHash } from 'node:crypto';
import type { RegistryEndpoint, Spec } from '../manifest';
import type { Plan } from '../plan';
import type { PromotionItem, PromotionRunInput, RunSigning } from '../contract';
import { CliError, EXIT } from './exit-codes';
import { runSigningOf, sourceSignedByOf, type RunBundle } from '../contract';

const ACTIONABLE = new Set(['copy', 'tag-only', 'signatures']);
/** With strictLost the run also carries lost digests, so that its account reports them and it ends failed. */
const ACTIONABLE_STRICT = new Set([...ACTIONABLE, 'lost']);

/** Only set when declared: an absent key keeps the run input (and so the workflow ID) unchanged. */
const limitsOf = (e: RegistryEndpoint) => (e.limits ? { limits: e.limits } : {});

export function runInputFromSpec(spec: Spec, opts: { commit?: string; concurrency?: number; plan?: Plan; strictLost?: boolean } = {}): PromotionRunInput {
  let wanted: Set<string> | undefined;
  if (opts.plan) {
    wanted = new Set();
    const actionable = opts.strictLost ? ACTIONABLE_STRICT : ACTIONABLE;
    for (const ph of opts.plan.phases) for (const e of ph.edges) if (actionable.has(e.kind)) wanted.add(`${e.project ?? ''}|${e.image}|${e.digest}`);
  }
  const items: PromotionItem[] = [];
  for (const img of spec.images) {
    for (const [digest, tags] of Object.entries(img.dmap)) {
      if (wanted && !wanted.has(`${img.project ?? ''}|${img.name}|${digest}`)) continue;
      items.push({ image: img.name, digest, tags: [...tags].sort(), ...(img.allowTagMove ? { allowTagMove: true } : {}), ...(img.project ? { project: img.project } : {}) });
    }
  }
  return {
    name: spec.name,
    manifestFiles: spec.files,
    commit: opts.commit,
    source: { registry: spec.source.registry, insecure: spec.source.insecure, credentials: spec.source.credentials, ...limitsOf(spec.source) },
    destinations: spec.destinations.map((d) => ({ name: d.name, registry: d.registry, insecure: d.insecure, credentials: d.credentials, ...limitsOf(d), ...(d.taskQueue ? { taskQueue: d.taskQueue } : {}) })),
    phases: spec.phases.map((p) => ({ name: p.name, destinations: p.destinations, soakSeconds: p.soakSeconds, verify: p.gates.verify, approval: p.gates.approval })),
    items,
    ...(spec.projects?.length ? { projects: spec.projects.map((p) => ({ name: p.name, source: { registry: p.source.registry, insecure: p.source.insecure, credentials: p.source.credentials, ...limitsOf(p.source) }, destinations: p.destinations })) } : {}),
    ...promotionPolicy(spec),
    concurrency: opts.concurrency,
  };
}

/**
 * The one policy every path that promotes carries (promote, reconcile --repair, scheduled repair): the source
 * policy (the staging signature that must verify before a copy) and the signing settings. Tag moves are refused by
 * the copy activity itself unless an item allows them. A keyless policy without `trustedRoot` verifies against the
 * instance's trust root the worker obtains through TUF. `forRepair`: repairs of a keyless policy that names no
 * trusted root leave signing out, as before TUF (signature drift is then reported and repaired only by copies that
 * verify with --public-key), so that a repair never signs anew with the public-good instance unasked.
 */
export function promotionPolicy(spec: Spec, opts: { forRepair?: boolean } = {}): Pick<PromotionRunInput, 'signing' | 'sourceSignedBy'> {
  const signing = spec.signing && !(opts.forRepair && spec.signing.keyless && !spec.signing.keyless.trustedRoot) ? runSigning(spec) : undefined;
  return {
    ...(signing ? { signing } : {}),
    ...(spec.sourcePolicy ? { sourceSignedBy: sourceSignedByOf(spec)! } : {}),
  };
}

/** The run's signing settings: the key reference as written, and the signing home (the canonical destination). */
export function runSigning(spec: Spec): RunSigning {
  const policy = spec.signing!;
  if (!policy.formats.includes('cosign-tag') && policy.key) {
    throw new CliError(`${spec.files[0] ?? 'manifest'}: signing.formats: [${policy.formats.join(', ')}] — key-based signing always writes cosign-tag signatures; list cosign-tag, optionally with bundle-referrer`, EXIT.INVALID);
  }
  return runSigningOf(spec)!;
}

export function workflowIdFor(input: PromotionRunInput): string {
  const { manifestFiles: _files, ...content } = input;
  const hash = createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 12);
  const name = input.name.replace(/[^A-Za-z0-9._-]+/g, '-');
  return `promote/${name}/${input.commit ? `${input.commit.slice(0, 12)}-` : ''}${hash}`;
}

/** Temporal refuses payloads over 2 MB; stay well below with room for the result. */
export const MAX_INPUT_BYTES = 1_500_000;

/**
 * Spec + Plan → the run bundle of a sharded promotion: the same endpoints, phases and signing as a PromotionRun
 * input, and each digest with the destinations where it has work (so nothing is sent where it is complete).
 */
export function runBundleFromSpec(spec: Spec, plan: Plan, opts: { commit?: string; strictLost?: boolean } = {}): RunBundle {
  const actionable = opts.strictLost ? ACTIONABLE_STRICT : ACTIONABLE;
  const work = new Map<string, Set<string>>();
  for (const ph of plan.phases) {
    for (const e of ph.edges) {
      if (!actionable.has(e.kind)) continue;
      const k = `${e.project ?? ''}|${e.image}|${e.digest}`;
      let s = work.get(k);
      if (!s) work.set(k, (s = new Set()));
      s.add(e.destination);
    }
  }
  const { items, concurrency: _c, checkpoint: _cp, tuning: _t, batchSize: _b, ...rest } = runInputFromSpec(spec, { commit: opts.commit, plan, strictLost: opts.strictLost });
  return {
    version: 1,
    ...rest,
    items: items.map((i) => ({ ...i, work: [...(work.get(`${i.project ?? ''}|${i.image}|${i.digest}`) ?? [])].sort() })),
  };
}
