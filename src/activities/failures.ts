// Error classification at the activity boundary: every error an activity body throws becomes a typed Temporal
// ApplicationFailure of the taxonomy in src/contract/failures.ts, transient (retryable) or a verdict (not), with a
// one-line message that carries no credentials. Workflows branch on these type names.
import { ApplicationFailure } from '@temporalio/common';
import { ACTIVITY_FAILURES, type ActivityFailureType } from '../contract';
import { OciError } from '../oci';

export class TagMoveError extends Error {
  override name = 'TagMoveError';
}

export class SourceLostError extends Error {
  override name = 'SourceLostError';
}

/** Errors of the layers below, by name (a name, not a class, so that no layer's error class has to be imported here). */
const BY_NAME: Record<string, ActivityFailureType> = {
  TagMoveError: 'TagMove',
  SourceLostError: 'SourceLost',
  SignatureVerificationError: 'SourceUnsigned',
  DigestMismatchError: 'DigestMismatch',
  ReadMismatchError: 'ReadMismatch',
  UnauthorizedError: 'Unauthorized',
  // A manifest naming a credential its registry's host is not bound to: the operator's configuration decides.
  CredentialBindingError: 'Unauthorized',
  InvalidReferenceError: 'InvalidReference',
  ManifestTooLargeError: 'ManifestTooLarge',
  TooManyRequestsError: 'TooManyRequests',
  RegistryUnavailableError: 'RegistryUnavailable',
  KeyRefError: 'SigningKeyUnavailable',
  KeyReferenceError: 'SigningKeyUnavailable',
  // The worker's trust-root settings are wrong; an unreachable TUF repository (TrustRootUnavailableError) is transient.
  TrustRootConfigError: 'SigningKeyUnavailable',
  SignatureMissingError: 'SignatureMissing',
  KeyDecryptionError: 'SigningKeyUnavailable',
  KeyFormatError: 'SigningKeyUnavailable',
};

export function failureTypeOf(e: Error): ActivityFailureType {
  const named = BY_NAME[e.name];
  if (named) return named;
  if (e instanceof OciError) {
    if (e.code === 'MANIFEST_INVALID' || e.code === 'MANIFEST_BLOB_UNKNOWN') return 'InvalidManifest';
    // A manifest or blob not found where we expected it (a registry's replication lag after a write), a cancelled
    // request: worth another attempt within the budget. Any other 4xx is the registry's final answer.
    if (e.retryable || e.status === 404 || e.code === 'ABORTED') return 'RegistryError';
    return 'RegistryRefused';
  }
  // Unknown errors (resets or timeouts from a library, a bug) are worth retrying, within the policy's bound.
  return 'RegistryError';
}

/** Wrap any error thrown by an activity body into a typed ApplicationFailure. */
export function classify(e: unknown): ApplicationFailure {
  if (e instanceof ApplicationFailure) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  const type = failureTypeOf(err);
  const message = err.message.split('\n')[0] ?? type;
  return ApplicationFailure.create({ type, message, nonRetryable: ACTIVITY_FAILURES[type].class === 'verdict' });
}
