// The names of the typed failures activities raise and workflows branch on (ApplicationFailure.type), written
// once: activities classify errors into them, workflows list them as non-retryable and map them to edge states.

const NON_RETRYABLE = ['SourceLost', 'DigestMismatch', 'Unauthorized', 'TagMove', 'InvalidManifest', 'InvalidReference', 'ManifestTooLarge', 'SourceUnsigned'] as const;
export type NonRetryableFailure = (typeof NON_RETRYABLE)[number];
/** Failures that retrying cannot fix: every activity retry policy lists them (a mutable copy, as the SDK wants). */
export const NON_RETRYABLE_FAILURES: NonRetryableFailure[] = [...NON_RETRYABLE];
/** Every failure type the registry activities raise. */
export type FailureType = NonRetryableFailure | 'RegistryUnavailable' | 'TooManyRequests' | 'RegistryError';

/** Signing activities only: the key reference cannot be read or decrypted; the signature to replicate is missing. */
export const SIGNING_KEY_UNAVAILABLE = 'SigningKeyUnavailable';
export const SIGNATURE_MISSING = 'SignatureMissing';
