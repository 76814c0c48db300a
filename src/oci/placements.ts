// Where this client last wrote each blob, per registry: a later copy of the same blob to another repository of
// that registry mounts it from there (one POST) instead of sending its bytes again, as `docker push` does with its
// blob info cache (images sharing a base layer upload it once per registry, not once per repository). The registry
// authorises every mount with the request's own credentials (pull on the repository mounted from), and a refused
// or stale mount is an ordinary upload session, so a wrong hint costs one request, never correctness. A transfer
// in flight elsewhere is reported busy (not awaited here): the caller waits only after releasing its own claims,
// so two copies never wait on each other.
import type { RepositoryRef } from '../model';

export type Placement =
  | { kind: 'known'; from: RepositoryRef }
  | { kind: 'claimed'; release(wroteTo?: RepositoryRef): void }
  | { kind: 'busy'; settled: Promise<void> };

const MAX_ENTRIES = 50_000;

export class BlobPlacements {
  /** `registry|digest` → a repository holding it; insertion order is LRU order. */
  private readonly known = new Map<string, RepositoryRef>();
  private readonly inflight = new Map<string, Promise<void>>();

  /** A repository of `registry` known to hold `digest`, else a claim to transfer it, else the transfer in flight. */
  claim(registry: string, digest: string): Placement {
    const key = `${registry}|${digest}`;
    const from = this.known.get(key);
    if (from) {
      this.known.delete(key);
      this.known.set(key, from);
      return { kind: 'known', from };
    }
    const busy = this.inflight.get(key);
    if (busy) return { kind: 'busy', settled: busy };
    let settle!: () => void;
    this.inflight.set(key, new Promise<void>((r) => (settle = r)));
    let released = false;
    return {
      kind: 'claimed',
      release: (wroteTo) => {
        if (released) return;
        released = true;
        if (wroteTo) this.record(wroteTo, digest);
        this.inflight.delete(key);
        settle();
      },
    };
  }

  /** A repository of `registry` known to hold `digest` (no claim). */
  lookup(registry: string, digest: string): RepositoryRef | undefined {
    return this.known.get(`${registry}|${digest}`);
  }

  record(repo: RepositoryRef, digest: string): void {
    const key = `${repo.registry}|${digest}`;
    this.known.delete(key);
    this.known.set(key, { registry: repo.registry, repository: repo.repository });
    if (this.known.size > MAX_ENTRIES) this.known.delete(this.known.keys().next().value!);
  }
}
