// Manifests: loading (native and kpromo formats, plain or thin layout, from a directory or a git revision) into the
// one validated Spec, with located errors. The Spec types are pure; loading reads files.
export type * from './spec';
export { ManifestLoadError, formatError, sortErrors, type ManifestError } from './errors';
export { fsSourceFor, loadSpec, loadSpecFrom, type LoadOptions, type LoadResult, type ManifestFormat, type Skipped } from './load';
export { kpromoReference, type KpromoEdge, type KpromoReference } from './kpromo-reference';
export { GitSource, loadDiffScoped, type DiffLoadResult } from './git';
