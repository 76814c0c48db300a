// A registry prefix as manifests write it (`host[:port][/path]`) and what it means: the host that serves the
// registry API and the repository an image name lands in. The one parser of that string (the planner keys
// repositories as `<prefix>/<image>`, activities and the CLI turn those back into host + repository). Also the
// per-registry request limits a manifest may declare.
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

/** Per-registry request limits for one worker process. */
export interface RegistryLimits {
  /** Concurrent requests to this registry from one worker. */
  concurrency?: number;
  /** Requests per second to this registry from one worker. */
  requestsPerSecond?: number;
}
