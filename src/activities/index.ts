// All activities a promoflow worker registers, built over shared dependencies (one OCI client per worker, so
// connection pools, token caches and per-registry limits are shared by every concurrent activity).
import { RegistryClient } from '../oci';
import { CredentialStore } from './credentials';
import { copyActivities } from './copy';
import { verifyActivities } from './verify';
import { reconcileActivities } from './reconcile';
import { signingActivities } from './signing';

export interface ActivityDeps {
  client: RegistryClient;
  credentials: CredentialStore;
}

export function createActivityDeps(): ActivityDeps {
  const credentials = new CredentialStore();
  const client = new RegistryClient({ credentials: async (registry) => credentials.lookup(registry) });
  return { client, credentials };
}

export function createActivities(deps: ActivityDeps = createActivityDeps()) {
  return { ...copyActivities(deps), ...verifyActivities(deps), ...signingActivities(deps), ...reconcileActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
