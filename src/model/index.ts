// The OCI model: digests, media types, descriptors/manifests/indexes, references, artifact tags and registry
// prefixes. Pure and I/O-free (no node: built-ins), so every folder may use it, workflow code included.
export * from './digest';
export * from './media-types';
export * from './manifest';
export * from './reference';
export * from './artifact-tags';
export * from './registry';
