// Typed errors of the OCI client. Callers (activities) classify retryability from `retryable` alone, so every
// failure that leaves this module is one of these. Messages name registry/repository/digest and the next step, and
// are built only from values that never carry credentials.

export interface OciErrorInit {
  status?: number;
  code?: string;
  retryable?: boolean;
  cause?: unknown;
}

export class OciError extends Error {
  status?: number;
  /** OCI distribution error code, e.g. MANIFEST_UNKNOWN, BLOB_UNKNOWN, DENIED. */
  code?: string;
  retryable: boolean;

  constructor(message: string, init: OciErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    if (init.status !== undefined) this.status = init.status;
    if (init.code !== undefined) this.code = init.code;
    this.retryable = init.retryable ?? false;
  }
}

/**
 * A verdict on content: bytes that are stably not what their digest names (the same wrong bytes on every re-read,
 * or a registry that stored something other than what was written). Never retried.
 */
export class DigestMismatchError extends OciError {
  constructor(message: string, init: OciErrorInit = {}) {
    super(message, { code: 'DIGEST_INVALID', ...init, retryable: false });
  }
}

/**
 * Bytes read did not match their digest (or declared size) once: a flipped bit or a cut in transit until a re-read
 * proves otherwise, so it is transient. `got` is the digest actually read; callers that re-read compare it across
 * attempts (see withRetry): the same wrong digest twice is the stored content, a DigestMismatchError.
 */
export class ReadMismatchError extends OciError {
  readonly got: string;
  constructor(message: string, got: string, init: OciErrorInit = {}) {
    super(message, { code: 'DIGEST_INVALID', ...init, retryable: true });
    this.got = got;
  }
}

export class ManifestUnknownError extends OciError {
  constructor(message: string, init: OciErrorInit = {}) {
    super(message, { status: 404, code: 'MANIFEST_UNKNOWN', ...init, retryable: false });
  }
}

export class BlobUnknownError extends OciError {
  constructor(message: string, init: OciErrorInit = {}) {
    super(message, { status: 404, code: 'BLOB_UNKNOWN', ...init, retryable: false });
  }
}

export class UnauthorizedError extends OciError {
  constructor(message: string, init: OciErrorInit = {}) {
    super(message, { ...init, retryable: false });
  }
}

export class ManifestTooLargeError extends OciError {
  constructor(message: string, init: OciErrorInit = {}) {
    super(message, { code: 'SIZE_INVALID', ...init, retryable: false });
  }
}

/** A registry asked more of this client than its limits allow (limits.ts): tags, index width or depth, bytes. */
export class LimitExceededError extends OciError {
  constructor(message: string, init: OciErrorInit = {}) {
    super(message, { code: 'LIMIT_EXCEEDED', ...init, retryable: false });
  }
}

export class RegistryUnavailableError extends OciError {
  constructor(message: string, init: OciErrorInit = {}) {
    super(message, { ...init, retryable: true });
  }
}

export class TooManyRequestsError extends OciError {
  /** Milliseconds the registry asked us to wait (Retry-After), when it said. */
  retryAfterMs?: number;
  constructor(message: string, init: OciErrorInit & { retryAfterMs?: number } = {}) {
    super(message, { status: 429, code: 'TOOMANYREQUESTS', ...init, retryable: true });
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
  }
}

/**
 * Re-read before concluding: call with every failure of a re-read loop. A ReadMismatchError whose wrong digest was
 * already seen is the stored content, not a transit fault: that turns it into the verdict, naming the evidence.
 */
export function concludeMismatch(e: unknown, seen: Set<string>): void {
  if (!(e instanceof ReadMismatchError)) return;
  if (seen.has(e.got)) {
    throw new DigestMismatchError(`${e.message.replace(/; nothing was committed$/, '')}, and the same again on a re-read: the registry holds these bytes (corrupt content, not a transit fault)`, { cause: e });
  }
  seen.add(e.got);
}

/** Failures of one read that a fresh read may not have: wrong bytes in transit, a body cut off midway. */
export function isRereadable(e: unknown): boolean {
  return e instanceof ReadMismatchError || (e instanceof OciError && e.code === 'BODY_INTERRUPTED');
}
