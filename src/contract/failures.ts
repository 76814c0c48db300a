// The failure taxonomy of the whole pipeline, in one place: every failure type an activity raises and every failure
// an edge of the account records, each classed as transient (a fault: retried with backoff while the activity's
// retry budget lasts, never a verdict) or a verdict (retrying cannot change it, so it is final and its message names
// the evidence). Pure data: workflows build their retry policies from it; activities/failures.ts maps errors onto it.

export type FailureClass = 'transient' | 'verdict';

interface FailureInfo {
  class: FailureClass;
  means: string;
}

/** Failure types activities raise (ApplicationFailure.type). */
export const ACTIVITY_FAILURES = {
  RegistryUnavailable: { class: 'transient', means: 'network error, connection refused, reset or cut mid-body, timeout, 5xx or 408' },
  TooManyRequests: { class: 'transient', means: '429: the registry is rate-limiting (its Retry-After is honoured)' },
  ReadMismatch: { class: 'transient', means: 'bytes read did not match their digest once: read again before concluding anything' },
  RegistryError: { class: 'transient', means: 'an error not proven permanent (e.g. not found right after a write); bounded by the retry policy' },
  SourceLost: { class: 'verdict', means: 'the source registry does not hold the digest' },
  DigestMismatch: { class: 'verdict', means: 'the same wrong bytes on re-read (corrupt content), or a registry that stored other bytes than were written' },
  Unauthorized: { class: 'verdict', means: 'the registry refused the credentials (401/403)' },
  TagMove: { class: 'verdict', means: 'a tag at the destination points to another digest and the manifest does not allow moving it' },
  InvalidManifest: { class: 'verdict', means: 'the registry refused the manifest as invalid' },
  InvalidReference: { class: 'verdict', means: 'a reference that is not a valid name, tag or digest' },
  ManifestTooLarge: { class: 'verdict', means: 'a manifest above the size limit' },
  RegistryRefused: { class: 'verdict', means: 'the registry answered the request with a permanent 4xx' },
  SourceUnsigned: { class: 'verdict', means: 'policy refusal: the source digest is not signed by the trusted key' },
  SigningKeyUnavailable: { class: 'verdict', means: 'the worker cannot load the signing key or trust material named by the run' },
  SignatureMissing: { class: 'verdict', means: 'the signing home holds no signature or attestation to replicate' },
} as const satisfies Record<string, FailureInfo>;

/** Failure types the workflows record on edges of the account (EdgeResult.errorType), besides activity failures. */
export const EDGE_FAILURES = {
  SignatureInvalid: { class: 'verdict', means: 'signatures read intact (digest-checked) at the destination do not verify; the message names the manifest and layers judged' },
  NotSigned: { class: 'verdict', means: 'the copy to the signing home failed, so the digest was not signed' },
  SignFailed: { class: 'verdict', means: 'signing at the signing home failed for good (the cause is in the message)' },
  ReplicateFailed: { class: 'verdict', means: 'replicating or verifying signatures failed for good, or its retry budget ran out (the cause is in the message)' },
  VerifyFailed: { class: 'verdict', means: 'the verification gate found the digest missing or a tag elsewhere at the destination' },
  EarlierPhaseFailed: { class: 'verdict', means: 'not rolled out here because it failed in an earlier phase' },
  Aborted: { class: 'verdict', means: 'the run was aborted' },
  Rejected: { class: 'verdict', means: 'rejected at an approval gate' },
} as const satisfies Record<string, FailureInfo>;

export type ActivityFailureType = keyof typeof ACTIVITY_FAILURES;
export type EdgeFailureType = keyof typeof EDGE_FAILURES;

/** Activity failure types that retrying cannot fix: every activity retry policy lists them. */
export const NON_RETRYABLE_FAILURES: string[] = (Object.keys(ACTIVITY_FAILURES) as ActivityFailureType[]).filter((k) => ACTIVITY_FAILURES[k].class === 'verdict');

export function failureClass(type: string): FailureClass | undefined {
  return (ACTIVITY_FAILURES as Record<string, FailureInfo>)[type]?.class ?? (EDGE_FAILURES as Record<string, FailureInfo>)[type]?.class;
}

/**
 * The retry budget of registry work (copy, sign, replicate, verify, inventory, repair): exponential backoff from 1 s
 * to 30 s, 12 attempts (about 4 minutes of waiting, plus the attempts), so a registry restart, a burst of 429s or a
 * few worker crashes in a row never become a failure in the account; a verdict ends it at once.
 */
export const REGISTRY_RETRY = {
  maximumAttempts: 12,
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
};
