// Content digests as names: the one digest grammar (sha256:<64 lower-case hex>) every layer validates against.
// Hashing bytes is I/O-adjacent work and lives in src/oci (digest.ts); this module stays pure so that workflow code
// and the planner can use it.

export type Digest = `sha256:${string}`;

/** The one digest regex of promoflow: sha256 with 64 lower-case hex characters. */
export const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

export class InvalidDigestError extends Error {
  override name = 'InvalidDigestError';
}

export function assertDigest(digest: string, what = 'digest'): asserts digest is Digest {
  if (!isDigest(digest)) throw new InvalidDigestError(`${what} must match sha256:<64 hex>, got ${JSON.stringify(digest)}`);
}

/** The short label people read in reports and the Web UI: `sha256:` and the first 12 hex characters. */
export function shortDigest(digest: string): string {
  return `sha256:${digest.replace(/^sha256:/, '').slice(0, 12)}`;
}

/** The hex part of a sha256 digest. */
export function digestHex(digest: string): string {
  return digest.slice('sha256:'.length);
}
