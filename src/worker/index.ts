// Worker bootstrap: runtime and metrics, the workflow bundle, activities over one shared OCI client, versioning.
export * from './worker';
