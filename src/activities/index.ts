// All activities a promoflow worker registers, built over shared dependencies (one OCI client per worker, so
// connection pools, token caches and per-registry limits are shared by every concurrent activity).
import { RegistryClient } from '../oci';
import { CredentialStore } from './credentials';
import { RegistryLimitStore } from './registry-limits';
import { copyActivities } from './copy';
import { verifyActivities } from './verify';
import { reconcileActivities } from './reconcile';
import { signingActivities } from './signing';

export interface ActivityDeps {
  client: RegistryClient;
  credentials: CredentialStore;
  /** Per-registry limits from the manifests, filled as endpoints are registered with `credentials`. */
  limits?: RegistryLimitStore;
}

export function createActivityDeps(): ActivityDeps {
  const limits = new RegistryLimitStore();
  const credentials = new CredentialStore(limits);
  const client = new RegistryClient({ credentials: async (registry) => credentials.lookup(registry), limits: (registry) => limits.lookup(registry) });
  return { client, credentials, limits };
}

export function createActivities(deps: ActivityDeps = createActivityDeps()) {
  return { ...copyActivities(deps), ...verifyActivities(deps), ...signingActivities(deps), ...reconcileActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
