// The dependencies every activity of one worker shares: one OCI client (connection pools, per-registry limits and
// the blob cache shared by every concurrent activity) under per-run scopes (credentials, `insecure` and auth state
// per run's endpoints), the limit store and the key ring.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CredentialBindings, RegistryClient } from '../oci';
import { KeyRing } from '../signing';
import { RegistryScopes } from './credentials';
import { readKeyRef } from './key-refs';
import { RegistryLimitStore } from './registry-limits';

export interface ActivityDeps {
  /** Per-run clients: each activity gets one for exactly its input's endpoints. */
  scopes: RegistryScopes;
  /** Per-registry limits from the manifests, filled as activities ask `scopes` for their clients. */
  limits?: RegistryLimitStore;
  /** Signing keys and trusted roots by reference, loaded once per worker. */
  keys: KeyRing;
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

/**
 * The worker's dependencies: one OCI client (pools, limits, blob cache) under per-run scopes, with the operator's
 * credential bindings (`strict`: a credential a manifest names must exist here and be bound to the host).
 */
export function createActivityDeps(opts: { bindings?: CredentialBindings; strict?: boolean } = {}): ActivityDeps {
  const limits = new RegistryLimitStore();
  const cache = blobCacheOptions();
  const client = new RegistryClient({ limits: (registry) => limits.lookup(registry) }, cache ? { blobCache: cache } : {});
  return {
    scopes: new RegistryScopes(client, opts.bindings ?? CredentialBindings.load(), limits, opts.strict ?? true),
    limits,
    keys: new KeyRing(readKeyRef, () => process.env.COSIGN_PASSWORD),
  };
}
