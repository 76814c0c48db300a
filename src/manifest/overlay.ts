// The rollout overlay for the kpromo layout: a promoflow file kept beside the k8s.io manifests (never an edit of
// them, which kpromo must keep reading) that says what kpromo's format cannot: phases grouping destinations by
// region (canary region → rest of the world) with soak and gates, the canonical destination that signs, the
// signing policy, and per-registry limits. Applied to the Spec that the kpromo reader built.
import { z } from 'zod';
import type { ManifestError } from './errors';
import { regionOf } from './kpromo';
import { durationSchema, findInlineSecrets, parseDuration, says, zodErrors } from './rules';
import { gatesSchema, limitsSchema, nameSchema, signingPolicyOf, signingSchema } from './native';
import type { Phase, Spec } from './spec';
import { pathString, type YamlFile } from './yamldoc';

export const OVERLAY_KIND = 'KpromoOverlay';
/** Found automatically at the root of a thin layout (kpromo reads only manifests/ and images/ there). */
export const OVERLAY_FILE = 'promoflow-overlay.yaml';

/** `*` matches within one path segment; a pattern also matches everything below it (`host/a` matches `host/a/b`). */
const glob = z.string().min(1).regex(/^[a-z0-9.*:_/-]+$/, says('is not a registry pattern', 'lowercase host[/path] with * for any part of a segment'));

const phaseSchema = z.strictObject({
  name: nameSchema,
  regions: z.array(z.string().regex(/^(\*|[a-z0-9-]+)$/, says('is not a region', 'a region like us-central1, eu, or * for every destination not placed yet'))).optional().describe('destinations whose host names a region (us-central1-docker.pkg.dev, eu.gcr.io, ...)'),
  registries: z.array(glob).optional().describe('destinations by registry pattern'),
  soak: durationSchema.optional(),
  gates: gatesSchema.optional(),
});

const overlaySchema = z.strictObject({
  apiVersion: z.literal('promoflow.dev/v1alpha1'),
  kind: z.literal(OVERLAY_KIND),
  metadata: z.strictObject({ name: nameSchema.optional(), description: z.string().optional() }).optional(),
  phases: z.array(phaseSchema).min(1),
  canonical: glob.optional().describe('registry prefix of the signing home: in each project, the destination under it is canonical'),
  signing: signingSchema.optional(),
  limits: z.array(z.strictObject({ host: glob, ...limitsSchema.shape })).optional().describe('per-registry limits, by host pattern, for sources and destinations'),
});

function matcher(pattern: string, prefix: boolean): RegExp {
  const body = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
  return new RegExp(`^${body}${prefix ? '(/.*)?' : ''}$`);
}

export function isOverlayDocument(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { kind?: unknown }).kind === OVERLAY_KIND;
}

/** Applies the overlay in `y` to `spec` (a kpromo spec); errors are located in the overlay file. */
export function applyOverlay(spec: Spec, y: YamlFile): { spec?: Spec; errors: ManifestError[] } {
  const errors: ManifestError[] = [...findInlineSecrets(y, y.data)];
  const err = (p: (string | number)[], value: unknown, message: string, expected?: string) => errors.push({ file: y.file, ...y.locate(p), path: pathString(p), value, message, expected });
  const r = overlaySchema.safeParse(y.data);
  if (!r.success) return { errors: [...errors, ...zodErrors(y, r.error.issues, y.data)] };
  const o = r.data;
  const placed = new Map<string, string>();
  const phases: Phase[] = o.phases.map((p, i) => {
    if (!p.regions && !p.registries) err(['phases', i], undefined, 'selects no destinations', 'regions: [...] and/or registries: [...]');
    const patterns = (p.registries ?? []).map((g) => matcher(g, true));
    const regions = new Set(p.regions ?? []);
    const dests: string[] = [];
    for (const d of spec.destinations) {
      if (placed.has(d.name)) continue;
      const region = d.region ?? regionOf(d.registry);
      if (regions.has('*') || (region !== undefined && regions.has(region)) || patterns.some((m) => m.test(d.registry))) {
        placed.set(d.name, p.name);
        dests.push(d.name);
      }
    }
    if (dests.length === 0) err(['phases', i], p.name, 'matches no destination of the manifests', 'regions or registries that the promoter manifests name (or remove the phase)');
    return { name: p.name, destinations: dests, soakSeconds: p.soak ? parseDuration(p.soak)! : 0, gates: { verify: p.gates?.verify ?? true, approval: p.gates?.approval ?? false } };
  });
  const names = new Set<string>();
  o.phases.forEach((p, i) => (names.has(p.name) ? err(['phases', i, 'name'], p.name, 'is used twice', 'unique phase names') : names.add(p.name)));
  const unplaced = spec.destinations.filter((d) => !placed.has(d.name));
  if (unplaced.length) {
    err(['phases'], unplaced[0]!.registry, `and ${unplaced.length - 1} other destination(s) are in no phase`, 'a last phase with regions: ["*"] for every destination not placed yet');
  }
  const destinations = spec.destinations.map((d) => ({ ...d }));
  if (o.canonical) {
    const m = matcher(o.canonical, true);
    let n = 0;
    for (const d of destinations) {
      if (!m.test(d.registry)) continue;
      d.canonical = true;
      n++;
    }
    if (n === 0) err(['canonical'], o.canonical, 'matches no destination', 'the registry prefix of the signing home, e.g. us-central1-docker.pkg.dev/k8s-artifacts-prod/images');
  }
  const limited = (o.limits ?? []).map((l) => ({ m: matcher(l.host, false), limits: { ...(l.concurrency ? { concurrency: l.concurrency } : {}), ...(l.requestsPerSecond ? { requestsPerSecond: l.requestsPerSecond } : {}) } }));
  const limitsFor = (registry: string) => limited.find((l) => l.m.test(registry.split('/')[0]!))?.limits;
  for (const d of destinations) {
    const l = limitsFor(d.registry);
    if (l) d.limits = l;
  }
  const projects = spec.projects?.map((p) => {
    const l = limitsFor(p.source.registry);
    return l ? { ...p, source: { ...p.source, limits: l } } : p;
  });
  const out: Spec = { ...spec, destinations, phases, files: [...spec.files, y.file] };
  if (projects) out.projects = projects;
  if (o.metadata?.name) out.name = o.metadata.name;
  if (o.signing) out.signing = signingPolicyOf(o.signing, o.canonical !== undefined, (message, expected, sub = [], value) => err(['signing', ...sub], value, message, expected));
  return errors.length ? { errors } : { spec: out, errors };
}
