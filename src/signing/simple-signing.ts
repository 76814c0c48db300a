// The cosign "simple signing" payload: the bytes a legacy .sig layer holds and its signature covers. Written
// byte-for-byte as cosign writes it (sigstore/sigstore pkg/signature/payload, Go encoding/json).
import { z } from 'zod';
import { assertDigest } from '../model';
import { goJson, parseJsonWith, sortedRecord, utf8 } from './encoding';

export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

export interface SimpleSigningInput {
  /** The repository name the signature claims, e.g. registry.k8s.io/pause (configurable: kpromo writes the public name). */
  dockerReference: string;
  /** The signed manifest digest, sha256:<hex>. */
  digest: string;
  /** cosign's `-a key=value` annotations; they go in "optional". */
  annotations?: Record<string, string>;
}

// cosign re-parses docker-reference@digest as a Go name.Digest; reject what it would reject rather than ship it.
const REPO_RE = /^(?:(?:[a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

export function assertDockerReference(ref: string): void {
  if (!REPO_RE.test(ref) || ref.length > 255) throw new Error(`docker-reference must be a repository name without tag or digest, got ${JSON.stringify(ref)}`);
}

export function simpleSigningPayload(input: SimpleSigningInput): Buffer {
  assertDigest(input.digest, 'signed digest');
  assertDockerReference(input.dockerReference);
  const optional = input.annotations && Object.keys(input.annotations).length > 0 ? sortedRecord(input.annotations) : null;
  return utf8(
    goJson({
      critical: {
        identity: { 'docker-reference': input.dockerReference },
        image: { 'docker-manifest-digest': input.digest },
        type: COSIGN_SIGNATURE_TYPE,
      },
      optional,
    }),
  );
}

export const SimpleSigningSchema = z.object({
  critical: z.object({
    identity: z.object({ 'docker-reference': z.string() }),
    image: z.object({ 'docker-manifest-digest': z.string() }),
    type: z.string(),
  }),
  optional: z.record(z.string(), z.unknown()).nullable().optional(),
});

export type SimpleSigning = z.infer<typeof SimpleSigningSchema>;

export function parseSimpleSigningPayload(bytes: Uint8Array): SimpleSigning {
  const payload = parseJsonWith(bytes, SimpleSigningSchema, 'simple signing payload is not JSON', (issues) => `simple signing payload is malformed: ${issues}`);
  if (payload.critical.type !== COSIGN_SIGNATURE_TYPE) throw new Error(`simple signing payload has unknown type ${JSON.stringify(payload.critical.type)}`);
  return payload;
}
