// A registry prefix as manifests write it (`host[:port][/path]`) and what it means: the host that serves the
// registry API and the repository an image name lands in. The one parser of that string (the planner keys
// repositories as `<prefix>/<image>`, activities and the CLI turn those back into host + repository). Also the
// per-registry limits a manifest may declare, and their defaults.
import type { RepositoryRef } from './reference';

/** Host of a registry prefix: everything before the first slash (`host[:port]`). */
export function hostOf(registryPrefix: string): string {
  const i = registryPrefix.indexOf('/');
  return i < 0 ? registryPrefix : registryPrefix.slice(0, i);
}

/** A prefix made canonical: no trailing `/`, the host in lower case (host names are case-insensitive). */
export function normalizeRegistryPrefix(raw: string): string {
  const { host, path } = parseRegistryPrefix(raw.replace(/\/+$/, ''));
  return path ? `${host.toLowerCase()}/${path}` : host.toLowerCase();
}

/** The prefix split: host and the (possibly empty) repository path below it. */
export function parseRegistryPrefix(registryPrefix: string): { host: string; path: string } {
  const i = registryPrefix.indexOf('/');
  return i < 0 ? { host: registryPrefix, path: '' } : { host: registryPrefix.slice(0, i), path: registryPrefix.slice(i + 1) };
}

/** The repository an image name lands in under a prefix: `host/path` + `name` → {host, path/name}. */
export function repositoryIn(registryPrefix: string, image: string): RepositoryRef {
  const { host, path } = parseRegistryPrefix(registryPrefix);
  return { registry: host, repository: [path, image].filter(Boolean).join('/') };
}

/** The full repository an image lands in under a prefix, as one string (`<prefix>/<image>`): the planner's key. */
export const repositoryKey = (registryPrefix: string, image: string): string => `${registryPrefix}/${image}`;

/** A full repository key (`<prefix>/<image>`, as the planner writes it) back into host + repository. */
export function splitRepositoryKey(full: string): RepositoryRef {
  const { host, path } = parseRegistryPrefix(full);
  return { registry: host, repository: path };
}

/**
 * What one registry may make a worker hold or wait for. Enforced by the OCI client (src/oci); a hostile registry's
 * cost to a worker is bounded by these.
 */
export interface ResourceLimits {
  /** Largest manifest or index accepted, in bytes. */
  maxManifestBytes: number;
  /** Most manifests below one copied root (index children at every level together). */
  maxIndexChildren: number;
  /** Deepest index nesting below the root (an index of images is depth 1). */
  maxIndexDepth: number;
  /** Most bytes (config and layers, as declared) one image copy may move. */
  maxCopyBytes: number;
  /** Most tags listed for one repository. */
  maxTags: number;
  /** Largest signature or attestation layer read into memory, in bytes. */
  maxArtifactBytes: number;
  /** Slowest transfer accepted while a body moves, in bytes per second averaged over the throughput window. */
  minBytesPerSecond: number;
}

/** Per-registry limits for one worker process, as a manifest declares them: request limits and resource limits. */
export interface RegistryLimits extends Partial<ResourceLimits> {
  /** Concurrent requests to this registry from one worker. */
  concurrency?: number;
  /** Requests per second to this registry from one worker. */
  requestsPerSecond?: number;
}

/**
 * Defaults: registry.k8s.io images are at most a few GiB, indexes list tens of platforms, its busiest repositories
 * hold thousands of tags, signature layers are a few KiB and provenance attestations well under a MiB. Each default leaves an
 * order of magnitude of room while keeping a hostile registry's cost to a worker bounded.
 */
export const DEFAULT_LIMITS: Readonly<ResourceLimits> = {
  maxManifestBytes: 4 << 20,
  maxIndexChildren: 1024,
  maxIndexDepth: 8,
  maxCopyBytes: 64 * 2 ** 30,
  maxTags: 250_000,
  maxArtifactBytes: 16 << 20,
  minBytesPerSecond: 1024,
};

/** The resource limits in force for a registry: its configured ones over the defaults. */
export function resourceLimits(configured: RegistryLimits | undefined): ResourceLimits {
  const out = { ...DEFAULT_LIMITS };
  for (const k of Object.keys(out) as Array<keyof ResourceLimits>) {
    const v = configured?.[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** How to change a limit, for error messages. */
export function limitHint(registry: string, field: keyof ResourceLimits, verb: 'raise' | 'lower' = 'raise'): string {
  return `${verb} limits.${field} of registry ${registry} in the manifest if this is expected`;
}
