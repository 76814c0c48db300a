// Tags that name artifacts of a subject digest rather than images: cosign's `sha256-<hex>.sig` / `.att` and the
// OCI referrers tag schema (`sha256-<hex>`). Written here once for the signer, the registry client, the planner
// and the inventory readers.
import { assertDigest, type Digest } from './digest';

function tagBase(digest: string): string {
  assertDigest(digest, 'subject digest');
  return digest.replace(':', '-');
}

export const signatureTag = (digest: string): string => `${tagBase(digest)}.sig`;
export const attestationTag = (digest: string): string => `${tagBase(digest)}.att`;
/** OCI referrers tag schema (fallback when the registry has no referrers API). */
export const referrersTag = (digest: string): string => tagBase(digest);

const ARTIFACT_TAG = /^sha256-([0-9a-f]{64})(?:\.(\w+))?$/;

/** Any cosign (.sig/.att/…) or referrers-schema tag: not an image tag a user declared. */
export const isArtifactTag = (tag: string): boolean => ARTIFACT_TAG.test(tag);

/** The subject digest and kind of a cosign signature or attestation tag; undefined for any other tag. */
export function parseCosignTag(tag: string): { subject: Digest; kind: 'sig' | 'att' } | undefined {
  const m = ARTIFACT_TAG.exec(tag);
  if (!m || (m[2] !== 'sig' && m[2] !== 'att')) return undefined;
  return { subject: `sha256:${m[1]}`, kind: m[2] };
}
