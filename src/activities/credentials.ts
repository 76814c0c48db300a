// Per-run registry scopes on a worker: an activity asks for a client for exactly the endpoints of its input, and
// gets one whose credentials (the operator's bindings, chosen by host and by the name the manifest may give) and
// plain-HTTP allowance come from those endpoints alone. Two runs naming the same host with other credentials or
// another `insecure` never share auth state; runs with identical endpoints share one scope (and its tokens) from a
// small LRU, so a busy worker does not fetch a token per activity.
import { CredentialBindingError, CredentialBindings, type CredentialChoice, type RegistryClient } from '../oci';
import { hostOf, normaliseRegistry } from '../model';
import type { EndpointRef } from '../contract';
import type { RegistryLimitStore } from './registry-limits';

/** Scopes kept for reuse; the least recently used is dropped beyond this. */
const MAX_SCOPES = 64;

export class RegistryScopes {
  private readonly cache = new Map<string, RegistryClient>();

  constructor(
    private readonly base: RegistryClient,
    private readonly bindings: CredentialBindings,
    private readonly limits?: RegistryLimitStore,
    /** The worker refuses a manifest's credential name it cannot honour; the planning CLI reads anonymously instead. */
    private readonly strict = true,
  ) {}

  /** A client for these endpoints only (also registers their manifest limits with the worker's limit store). */
  clientFor(...endpoints: EndpointRef[]): RegistryClient {
    const perHost = new Map<string, { name: string | undefined; insecure: boolean }>();
    for (const e of endpoints) {
      this.limits?.register(e);
      const credentials: unknown = e.credentials;
      if (credentials !== undefined && typeof credentials !== 'string') {
        // A run started before credentials moved to the worker's configuration carries a reference object.
        throw new CredentialBindingError(`${hostOf(e.registry)}: this run carries a manifest credential reference (${JSON.stringify((credentials as { kind?: unknown }).kind ?? 'object')}), which workers no longer resolve; start the run again from a manifest that names a configured credential (credentials: <name>) or none`);
      }
      const host = normaliseRegistry(hostOf(e.registry));
      const prev = perHost.get(host);
      if (prev && prev.name !== undefined && credentials !== undefined && prev.name !== credentials) {
        throw new CredentialBindingError(`${host}: this activity's endpoints name two credentials (${prev.name}, ${credentials}) for one host; one request stream authenticates with one credential: bind one credential with both rights`);
      }
      perHost.set(host, { name: prev?.name ?? credentials, insecure: (prev?.insecure ?? false) || e.insecure === true });
    }
    const choices = new Map<string, CredentialChoice>();
    for (const [host, p] of perHost) choices.set(host, this.bindings.choose(host, p.name, { strict: this.strict }));
    const key = JSON.stringify([...perHost.keys()].sort().map((h) => [h, choices.get(h)!.id, perHost.get(h)!.insecure]));
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const client = this.base.scoped({
      // A host outside the scope (a redirect target, a token realm) gets no credential from here.
      credentials: async (registry) => choices.get(normaliseRegistry(registry))?.source(registry),
      insecure: (registry) => perHost.get(normaliseRegistry(registry))?.insecure ?? false,
    });
    this.cache.set(key, client);
    if (this.cache.size > MAX_SCOPES) this.cache.delete(this.cache.keys().next().value!);
    return client;
  }
}
