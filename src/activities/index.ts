// All activities a promoflow worker registers (the contract's Activities), built over shared dependencies.
import type { Activities } from '../contract';
import { createActivityDeps, type ActivityDeps } from './deps';
import { copyActivities } from './copy';
import { verifyActivities } from './verify';
import { reconcileActivities } from './reconcile';
import { signingActivities } from './signing';
import { shardedActivities, type EntryExecutor } from './sharded';
import { registryExecutor } from './promote-entry';
import { reconcileRunActivities, type InventoryReader } from './reconcile-run';

export { createActivityDeps, type ActivityDeps } from './deps';
export { readAccount, type EntryExecutor, type EntryContext, type ExecutedEdge } from './sharded';
export { loadGitHead, readFindings, readRepairs, reconcileBundleFromSpec, reconcilePolicy, type InventoryReader } from './reconcile-run';
// The worker's credential configuration, loaded by the worker before it starts (a bad file stops it).
export { CredentialBindings } from '../oci';
export { artifactStore } from './artifacts';

/** `execute` and `inventory` replace the registry work of batch activities (the benchmarks' stubs). */
export function createActivities(deps: ActivityDeps = createActivityDeps(), opts: { execute?: EntryExecutor; inventory?: InventoryReader } = {}): Activities {
  return {
    ...copyActivities(deps),
    ...verifyActivities(deps),
    ...signingActivities(deps),
    ...reconcileActivities(deps),
    ...shardedActivities({ store: deps.store, execute: opts.execute ?? registryExecutor(deps) }),
    ...reconcileRunActivities(deps, opts.inventory),
  };
}
