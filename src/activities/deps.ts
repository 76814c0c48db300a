// The dependencies every activity of one worker shares: one OCI client (so connection pools, token caches and
// per-registry limits are shared by every concurrent activity), the credential store and the limit store.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryClient } from '../oci';
import { KeyRing } from '../signing';
import { CredentialStore } from './credentials';
import { readKeyRef } from './key-refs';
import { RegistryLimitStore } from './registry-limits';
import { stateStoreFrom, type StateStore } from '../state';

export interface ActivityDeps {
  client: RegistryClient;
  credentials: CredentialStore;
  /** Per-registry limits from the manifests, filled as endpoints are registered with `credentials`. */
  limits?: RegistryLimitStore;
  /** Signing keys and trusted roots by reference, loaded once per worker. */
  keys: KeyRing;
  /** The state store every worker and the CLI share (run bundles, shard work sets, accounts). */
  store: StateStore;
}

/**
 * A bounded, content-addressed blob cache private to this process, so that the per-destination copy activities of
 * one image read each source blob once, not once per destination. PROMOFLOW_BLOB_CACHE_BYTES sets the bound
 * (default 1 GiB; 0 turns it off).
 */
function blobCacheOptions(): { dir: string; maxBytes: number } | undefined {
  const maxBytes = Number(process.env.PROMOFLOW_BLOB_CACHE_BYTES ?? 1 << 30);
  if (!Number.isFinite(maxBytes) || maxBytes <= 0) return undefined;
  const dir = join(process.env.PROMOFLOW_BLOB_CACHE_DIR ?? tmpdir(), `promoflow-blobs-${process.pid}`);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return { dir, maxBytes };
}

/** The default store of a process: PROMOFLOW_STATE_STORE, else `store` in the embedded environment's state directory. */
export const DEFAULT_STATE_STORE = join('.promoflow', 'store');

export function createActivityDeps(opts: { store?: StateStore } = {}): ActivityDeps {
  const limits = new RegistryLimitStore();
  const credentials = new CredentialStore(limits);
  const cache = blobCacheOptions();
  const client = new RegistryClient(
    { credentials: async (registry) => credentials.lookup(registry), limits: (registry) => limits.lookup(registry), insecure: (registry) => credentials.insecure(registry) },
    cache ? { blobCache: cache } : {},
  );
  return { client, credentials, limits, keys: new KeyRing(readKeyRef, () => process.env.COSIGN_PASSWORD), store: opts.store ?? stateStoreFrom(process.env, DEFAULT_STATE_STORE) };
}
