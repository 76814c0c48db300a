// Error classification at the activity boundary: OCI and domain errors become typed Temporal ApplicationFailures,
// retryable or not, with one-line messages that carry no credentials. The type names are the contract's
// (src/contract/failures.ts); workflows branch on them.
import { ApplicationFailure } from '@temporalio/common';
import type { FailureType } from '../contract';
import { OciError } from '../oci';

export class TagMoveError extends Error {
  override name = 'TagMoveError';
}

export class SourceLostError extends Error {
  override name = 'SourceLostError';
}

function typeOf(e: Error): { type: FailureType; retryable: boolean } {
  switch (e.name) {
    case 'TagMoveError':
      return { type: 'TagMove', retryable: false };
    case 'SourceLostError':
      return { type: 'SourceLost', retryable: false };
    case 'SignatureVerificationError':
      return { type: 'SourceUnsigned', retryable: false };
    case 'DigestMismatchError':
      return { type: 'DigestMismatch', retryable: false };
    case 'UnauthorizedError':
    case 'CredentialBindingError':
      return { type: 'Unauthorized', retryable: false };
    case 'InvalidReferenceError':
      return { type: 'InvalidReference', retryable: false };
    case 'ManifestTooLargeError':
      return { type: 'ManifestTooLarge', retryable: false };
    case 'TooManyRequestsError':
      return { type: 'TooManyRequests', retryable: true };
    case 'RegistryUnavailableError':
      return { type: 'RegistryUnavailable', retryable: true };
  }
  if (e instanceof OciError) {
    if (e.code === 'MANIFEST_INVALID' || e.code === 'MANIFEST_BLOB_UNKNOWN') return { type: 'InvalidManifest', retryable: false };
    return { type: 'RegistryError', retryable: e.retryable };
  }
  // Unknown errors (resets, timeouts surfacing as TypeError from fetch) are worth retrying, within the policy's bound.
  return { type: 'RegistryError', retryable: true };
}

/** Wrap any error thrown by an activity body into a typed ApplicationFailure. */
export function classify(e: unknown): ApplicationFailure {
  if (e instanceof ApplicationFailure) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  const { type, retryable } = typeOf(err);
  const message = err.message.split('\n')[0] ?? type;
  return ApplicationFailure.create({ type, message, nonRetryable: !retryable });
}
