// The run bundle: a promotion's desired state as the CLI stores it in the state store, content-addressed, for the
// shardedRun workflow to refer to by `sha256:` reference (so the run input stays a few hundred bytes whatever the
// manifests hold). It is read by planning and batch activities on any worker, so it is validated with zod there.
import { z } from 'zod';
import type { KeylessPolicy, SourceSigner } from '../manifest';
import type { RegistryLimits } from '../model';
import type { DestinationRef, EndpointRef, PhaseRef, ProjectRef, RunSigning } from './runs';

const limits = z.custom<RegistryLimits>((v) => typeof v === 'object' && v !== null, 'registry limits');
const keyless = z.custom<KeylessPolicy>((v) => typeof v === 'object' && v !== null, 'a keyless policy');
/** A key reference, or a keyless identity (checked where it is used: the source-policy activity). */
const sourceSignedBy = z.union([z.string(), z.strictObject({ keyless: z.custom<NonNullable<SourceSigner['keyless']>>((v) => typeof v === 'object' && v !== null && typeof (v as { issuer?: unknown }).issuer === 'string', 'a keyless identity {issuer, subject | subjectRegExp}') })]);

const endpoint = z.object({
  registry: z.string().min(1),
  insecure: z.boolean().optional(),
  /** The name of a credential binding in the worker's configuration (never a secret). */
  credentials: z.string().min(1).optional(),
  limits: limits.optional(),
}) satisfies z.ZodType<EndpointRef>;

const destination = endpoint.extend({ name: z.string().min(1), taskQueue: z.string().optional() }) satisfies z.ZodType<DestinationRef>;

const phase = z.object({
  name: z.string().min(1),
  destinations: z.array(z.string()),
  soakSeconds: z.number().nonnegative(),
  verify: z.boolean(),
  approval: z.boolean(),
}) satisfies z.ZodType<PhaseRef>;

const project = z.object({ name: z.string(), source: endpoint, destinations: z.array(z.string()) }) satisfies z.ZodType<ProjectRef>;

const signing = z.object({
  key: z.string().optional(),
  keyless: keyless.optional(),
  attest: z.boolean(),
  dockerReference: z.string(),
  home: destination,
  bundles: z.boolean().optional(),
}) satisfies z.ZodType<RunSigning>;

export const bundleItem = z.object({
  image: z.string().min(1),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  tags: z.array(z.string()),
  allowTagMove: z.boolean().optional(),
  project: z.string().optional(),
  /** Destinations where this digest has work (copy, tags or signatures); absent: every destination it goes to. */
  work: z.array(z.string()).optional(),
});
export type BundleItem = z.infer<typeof bundleItem>;

export const runBundle = z.object({
  version: z.literal(1),
  name: z.string().min(1),
  manifestFiles: z.array(z.string()),
  commit: z.string().optional(),
  source: endpoint,
  destinations: z.array(destination).min(1),
  phases: z.array(phase).min(1),
  projects: z.array(project).optional(),
  signing: signing.optional(),
  sourceSignedBy: sourceSignedBy.optional(),
  items: z.array(bundleItem),
});
export type RunBundle = z.infer<typeof runBundle>;

/** The destinations an item goes to in a phase: the phase's, within its project, where it has work. */
export function itemDestinations(item: BundleItem, phaseDestinations: readonly string[], projects: ReadonlyMap<string, ProjectRef>): string[] {
  const p = item.project ? projects.get(item.project) : undefined;
  return phaseDestinations.filter((d) => (!item.project || (p?.destinations.includes(d) ?? false)) && (!item.work || item.work.includes(d)));
}

export function edgeCount(bundle: RunBundle): number {
  const projects = new Map((bundle.projects ?? []).map((p) => [p.name, p]));
  let n = 0;
  for (const ph of bundle.phases) for (const it of bundle.items) n += itemDestinations(it, ph.destinations, projects).length;
  return n;
}
