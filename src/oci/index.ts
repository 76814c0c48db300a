// Public surface of the OCI client.
export * from './errors';
export * from './client';
export * from './manifest';
export * from './blob';
export * from './copy';
export * from './digest';
export * from './mediatypes';
export * from './tags';
export * from './catalog';
export { BlobCache, DEFAULT_CACHE_BYTES, type BlobCacheOptions } from './cache';
export * from './referrers';
export * from './credentials';
export * from './credential-bindings';
export { cancelUpload, completeUpload, startUpload, type StartResult } from './upload';
export { mergeScopes, parseChallenge, type Credential, type CredentialSource } from './auth';
export { parseRetryAfter } from './response';
export { rereading, withRetry, type RetryPolicy } from './retry';
export { mapLimit, Semaphore } from './limits';
