// SLSA Verification Summary (VSA v1) of a promotion: what promoflow checked before it promoted a digest (the source
// policy: whose signature, which key or keyless identity and issuer; the input attestations it verified, by digest), under which signing policy it
// signed, and the result. One per digest, written beside the provenance. Pure: times and IDs come from the caller.
import { createHash } from 'node:crypto';
import { assertDigest } from '../model';
import { goJson } from './encoding';
import { statement, subjectForDigest, type Statement } from './intoto';

export const SLSA_VSA_V1 = 'https://slsa.dev/verification_summary/v1';
export const VERIFIER_ID = 'https://promoflow.dev/verifier';
export const PROMOTION_POLICY_URI = 'https://promoflow.dev/policy/promotion/v1';

/**
 * Who must have signed the source: a trusted key (by fingerprint), a keyless identity (the OIDC issuer and the
 * certificate SAN, exactly or as a regular expression), or nobody (no source policy configured).
 */
export type SourcePolicy = { type: 'key'; keyFingerprint: string } | { type: 'keyless'; issuer: string; subject?: string; subjectRegExp?: string } | { type: 'none' };

/** cosign's signature layer (a key-signed source) and a sigstore bundle (a keyless one): what an input attestation is. */
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';

/** How promoflow signs what it promotes: a key (by fingerprint) or a keyless identity and issuer. */
export type SigningPolicy = { type: 'key'; keyFingerprint: string } | { type: 'keyless'; issuer: string; subject?: string; subjectRegExp?: string };

/** What the verification of one digest rested on (no secret: fingerprints, identities, digests). */
export interface VerificationInputs {
  sourcePolicy: SourcePolicy;
  signingPolicy: SigningPolicy;
  /**
   * The source signatures that verified under the source policy: where, and the digest of the .sig layer (media
   * type simple signing, the default) or of the bundle referrer's manifest (a keyless source).
   */
  inputAttestations: Array<{ uri: string; digest: string; mediaType?: string }>;
}

export interface ResourceDescriptorV1 {
  uri?: string;
  digest?: Record<string, string>;
  mediaType?: string;
  annotations?: Record<string, unknown>;
}

export interface VsaV1 {
  verifier: { id: string; version: Record<string, string> };
  timeVerified: string;
  resourceUri: string;
  policy: ResourceDescriptorV1;
  inputAttestations: ResourceDescriptorV1[];
  verificationResult: 'PASSED' | 'FAILED';
  /** SLSA levels verified: none applies to a signature-only source policy (no build provenance is checked). */
  verifiedLevels: string[];
  slsaVersion: string;
}

export interface PromotionVsaInput {
  digest: string;
  sourceRepository: string;
  promoflowVersion: string;
  workflowId: string;
  runId: string;
  /** RFC 3339, from the workflow (deterministic on retry). */
  timeVerified: string;
  verification: VerificationInputs;
  subjectName: string;
}

/** The policy as the VSA names it: its content in annotations, and the digest of that content. */
export function policyDescriptor(v: Pick<VerificationInputs, 'sourcePolicy' | 'signingPolicy'>): ResourceDescriptorV1 {
  const content = { source: v.sourcePolicy, signing: v.signingPolicy };
  return { uri: PROMOTION_POLICY_URI, digest: { sha256: createHash('sha256').update(goJson(content)).digest('hex') }, annotations: content };
}

export function promotionVsa(input: PromotionVsaInput): VsaV1 {
  assertDigest(input.digest, 'VSA digest');
  return {
    verifier: { id: VERIFIER_ID, version: { promoflow: input.promoflowVersion, run: `${input.workflowId}/${input.runId}` } },
    timeVerified: input.timeVerified,
    resourceUri: `${input.sourceRepository}@${input.digest}`,
    policy: policyDescriptor(input.verification),
    inputAttestations: input.verification.inputAttestations.map((a) => {
      assertDigest(a.digest, 'input attestation digest');
      return { uri: a.uri, digest: { sha256: a.digest.slice('sha256:'.length) }, mediaType: a.mediaType ?? SIMPLE_SIGNING_MEDIA_TYPE };
    }),
    verificationResult: 'PASSED',
    verifiedLevels: [],
    slsaVersion: '1.0',
  };
}

export function promotionVsaStatement(input: PromotionVsaInput): Statement<VsaV1> {
  return statement([subjectForDigest(input.subjectName, input.digest)], SLSA_VSA_V1, promotionVsa(input));
}
