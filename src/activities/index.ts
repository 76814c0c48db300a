// All activities a promoflow worker registers (the contract's Activities), built over shared dependencies.
import type { Activities } from '../contract';
import { createActivityDeps, type ActivityDeps } from './deps';
import { copyActivities } from './copy';
import { verifyActivities } from './verify';
import { reconcileActivities } from './reconcile';
import { signingActivities } from './signing';

export { createActivityDeps, type ActivityDeps } from './deps';
// The worker's credential configuration, loaded by the worker before it starts (a bad file stops it).
export { CredentialBindings } from '../oci';
export { artifactStore } from './artifacts';

export function createActivities(deps: ActivityDeps = createActivityDeps()): Activities {
  return { ...copyActivities(deps), ...verifyActivities(deps), ...signingActivities(deps), ...reconcileActivities(deps) };
}
