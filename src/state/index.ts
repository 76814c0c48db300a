// The state store: content-addressed documents (run bundles, shard work sets, accounts) shared by every worker and
// the CLI, referred to from Temporal history by `sha256:` reference.
export * from './store';
export * from './gc';
