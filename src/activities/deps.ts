// The dependencies every activity of one worker shares: one OCI client (connection pools, per-registry limits and
// the blob cache shared by every concurrent activity) under per-run scopes (credentials, `insecure` and auth state
// per run's endpoints), the limit store, the key ring and the state store.
import { join } from 'node:path';
import { CredentialBindings, RegistryClient, type BlobCacheOptions, type RegistryClientTuning } from '../oci';
import { KeyRing, trustRootConfigFromEnv, TufTrustRoot } from '../signing';
import { RegistryScopes } from './credentials';
import { readKeyRef } from './key-refs';
import { RegistryLimitStore } from './registry-limits';
import { stateStoreFrom, type StateStore } from '../state';

export interface ActivityDeps {
  /** Per-run clients: each activity gets one for exactly its input's endpoints. */
  scopes: RegistryScopes;
  /** Per-registry limits from the manifests, filled as activities ask `scopes` for their clients. */
  limits?: RegistryLimitStore;
  /** Signing keys and trusted roots by reference, loaded once per worker. */
  keys: KeyRing;
  /** The state store every worker and the CLI share (run bundles, shard work sets, accounts). */
  store: StateStore;
  /**
   * Inside a batch activity: the batch's heartbeat. The copy, verify and signing steps call it to stay alive instead
   * of heartbeating details of their own, which would overwrite the batch's progress reference (its resume cursor).
   */
  heartbeat?: () => void;
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

/**
 * The worker's dependencies: one OCI client (pools, limits, blob cache) under per-run scopes, with the operator's
 * credential bindings (`strict`: a credential a manifest names must exist here and be bound to the host); `tuning`
 * (tests, benchmarks) adjusts the OCI client beyond its defaults; `trustRoot` replaces the sigstore trust root the
 * worker's environment configures (PROMOFLOW_TUF_*, PROMOFLOW_TRUSTED_ROOT).
 */
export function createActivityDeps(opts: { bindings?: CredentialBindings; strict?: boolean; store?: StateStore; tuning?: RegistryClientTuning; trustRoot?: TufTrustRoot } = {}): ActivityDeps {
  const limits = new RegistryLimitStore();
  const cacheOptions = blobCacheOptions();
  const client = new RegistryClient({ limits: (registry) => limits.lookup(registry) }, { ...(cacheOptions ? { blobCache: cacheOptions } : {}), ...opts.tuning });
  const cache = client.blobCache;
  if (cache) process.once('exit', () => cache.close());
  return {
    scopes: new RegistryScopes(client, opts.bindings ?? CredentialBindings.load(), limits, opts.strict ?? true),
    limits,
    keys: new KeyRing(readKeyRef, () => process.env.COSIGN_PASSWORD, opts.trustRoot ?? new TufTrustRoot(trustRootConfigFromEnv(process.env), (line) => console.warn(line))),
    store: opts.store ?? stateStoreFrom(process.env, DEFAULT_STATE_STORE),
  };
}
