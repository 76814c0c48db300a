// Reading what registries hold, in the planner's shape (src/plan/inventory.ts), over the OCI client: used by the
// CLI before planning and by the reconcile activity. Not Temporal code; not pure (it talks to registries).
export { readInventory, readRepoState, reposOfSpec, type RepoQuery } from './registry';
