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

export class DigestMismatchError extends OciError {
  constructor(message: string, init: OciErrorInit = {}) {
    super(message, { code: 'DIGEST_INVALID', ...init, retryable: false });
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
