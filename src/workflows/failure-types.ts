// Names of the typed failures activities raise (see src/activities/failures.ts). Pure, so workflows can set
// retry policies and branch on them without importing activity code.
export const NON_RETRYABLE_FAILURES = ['SourceLost', 'DigestMismatch', 'Unauthorized', 'TagMove', 'InvalidManifest', 'InvalidReference', 'ManifestTooLarge', 'SourceUnsigned'];
