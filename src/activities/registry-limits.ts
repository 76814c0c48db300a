// Per-registry limits (requests and resources) inside one worker, from the manifests' `limits` (carried as references in workflow
// inputs, like credentials). Registered by every activity before it touches a registry and read by the worker's one
// shared OCI client, so a limit holds across all concurrent activities of the worker. Across workers, Temporal's
// task-queue rate limit does the job (README: "Rate limits across workers").
import type { RegistryLimits } from '../model';
import type { EndpointRef } from '../contract';
import { hostOf } from '../model';

/**
 * The stricter of two limits, field by field: two manifests naming one registry never loosen each other (the lower
 * of every rate, count and size; the higher minimum throughput).
 */
export function stricter(a: RegistryLimits | undefined, b: RegistryLimits): RegistryLimits {
  const out: RegistryLimits = {};
  for (const k of new Set([...Object.keys(a ?? {}), ...Object.keys(b)]) as Set<keyof RegistryLimits>) {
    const [x, y] = [a?.[k], b[k]];
    const v = x === undefined ? y : y === undefined ? x : k === 'minBytesPerSecond' ? Math.max(x, y) : Math.min(x, y);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export class RegistryLimitStore {
  private readonly byHost = new Map<string, RegistryLimits>();

  register(endpoint: EndpointRef): void {
    if (endpoint.limits) {
      const host = hostOf(endpoint.registry);
      this.byHost.set(host, stricter(this.byHost.get(host), endpoint.limits));
    }
  }

  /**
   * The OCI client reads a registry's limits at its first request and keeps them for the worker's lifetime:
   * a limit first registered after traffic to that registry began applies from the next worker start.
   */
  lookup(host: string): RegistryLimits | undefined {
    return this.byHost.get(host);
  }
}
