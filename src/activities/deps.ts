// The dependencies every activity of one worker shares: one OCI client (so connection pools, token caches and
// per-registry limits are shared by every concurrent activity), the credential store and the limit store.
import { join } from 'node:path';
import { RegistryClient, type BlobCacheOptions, type RegistryClientTuning } from '../oci';
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
 * A bounded, content-addressed blob cache private to this process (a fresh 0700 directory under
 * PROMOFLOW_BLOB_CACHE_DIR or the temp directory), so that the per-destination copy activities of one image read each
 * source blob once, not once per destination. PROMOFLOW_BLOB_CACHE_BYTES sets the bound (default 2 GiB; 0 turns it
 * off).
 */
function blobCacheOptions(): BlobCacheOptions | undefined {
  const raw = process.env.PROMOFLOW_BLOB_CACHE_BYTES;
  const maxBytes = raw === undefined || raw === '' ? undefined : Number(raw);
  if (maxBytes !== undefined && (!Number.isFinite(maxBytes) || maxBytes <= 0)) return undefined;
  const parent = process.env.PROMOFLOW_BLOB_CACHE_DIR;
  return { ...(parent ? { parent } : {}), ...(maxBytes !== undefined ? { maxBytes } : {}) };
}

/** The default store of a process: PROMOFLOW_STATE_STORE, else `store` in the embedded environment's state directory. */
export const DEFAULT_STATE_STORE = join('.promoflow', 'store');

/** The worker's shared dependencies; `tuning` (tests, benchmarks) adjusts the OCI client beyond its defaults. */
export function createActivityDeps(opts: { store?: StateStore; tuning?: RegistryClientTuning } = {}): ActivityDeps {
  const limits = new RegistryLimitStore();
  const credentials = new CredentialStore(limits);
  const cacheOptions = blobCacheOptions();
  const client = new RegistryClient(
    { credentials: async (registry) => credentials.lookup(registry), limits: (registry) => limits.lookup(registry), insecure: (registry) => credentials.insecure(registry) },
    { ...(cacheOptions ? { blobCache: cacheOptions } : {}), ...opts.tuning },
  );
  const cache = client.blobCache;
  if (cache) process.once('exit', () => cache.close());
  return { client, credentials, limits, keys: new KeyRing(readKeyRef, () => process.env.COSIGN_PASSWORD), store: opts.store ?? stateStoreFrom(process.env, DEFAULT_STATE_STORE) };
}
