// Everything to push for one promoted digest, computed without I/O: a .sig image and a .att image (SLSA provenance
// and, with verification inputs, the VSA) for the digest and, for an index, for each child manifest (as `cosign
// sign --recursive`). The activity pushes blobs,
// then manifests under their tags, merging with what a registry already has (mergeCosignImage).
import { bundleReferrer, COSIGN_SIGN_PREDICATE, cosignSignStatement, serializeBundle, signStatementBundle, toSigstoreSigner } from './bundle';
import { attestationLayer, buildCosignImage, signatureLayer, type Artifact, type CosignLayer, type TaggedArtifact } from './artifacts';
import { INTOTO_PAYLOAD_TYPE, serializeEnvelope, signEnvelope } from './dsse';
import { assertDigest, attestationTag, signatureTag } from '../model';
import { serializeStatement } from './intoto';
import { promotionProvenanceStatement, SLSA_PROVENANCE_V1, type PromotionProvenanceInput } from './slsa-provenance';
import { simpleSigningPayload } from './simple-signing';
import { promotionVsaStatement, SLSA_VSA_V1, type VerificationInputs } from './vsa';
import type { Signer } from './signer';
import type { SubjectDescriptor } from '../model';

export type ProvenanceInputs = Omit<PromotionProvenanceInput, 'digest'> & {
  /** What was verified before promoting: with it, a VSA is written beside the provenance. */
  verification?: VerificationInputs;
};

/** The attestation statements of one digest: its provenance and, when verification inputs are given, its VSA. */
export function attestationStatements(p: ProvenanceInputs, digest: string): Array<[string, Buffer]> {
  const { verification, ...prov } = p;
  const provenance = promotionProvenanceStatement({ ...prov, digest });
  const out: Array<[string, Buffer]> = [[SLSA_PROVENANCE_V1, serializeStatement(provenance)]];
  if (verification) {
    const vsa = promotionVsaStatement({
      digest,
      sourceRepository: p.sourceRepository,
      promoflowVersion: p.promoflowVersion,
      workflowId: p.workflowId,
      runId: p.runId,
      timeVerified: p.finishedOn,
      verification,
      subjectName: provenance.subject[0]!.name!,
    });
    out.push([SLSA_VSA_V1, serializeStatement(vsa)]);
  }
  return out;
}

export interface SignImageInput {
  /** The promoted manifest digest (image or index). */
  digest: string;
  /** For an index: its child manifests' digests; each is signed and attested too. */
  children?: string[];
  signer: Signer;
  /** docker-reference written in the simple signing payload, e.g. registry.k8s.io/pause. */
  dockerReference: string;
  /** cosign -a style annotations (payload "optional"). */
  annotations?: Record<string, string>;
  /** When present, a SLSA v1 provenance attestation is produced for every digest. */
  provenance?: ProvenanceInputs;
  /**
   * When present, also sigstore bundle v0.3 referrers (cosign v3's format): a cosign-sign statement and, with
   * provenance, the SLSA statement. Needs each signed manifest's descriptor (the referrer's subject).
   */
  bundles?: { created: string; subjects: SubjectDescriptor[] };
}

export interface SignedDigest {
  digest: string;
  signature: TaggedArtifact;
  attestation?: TaggedArtifact;
  /** The .att image's layers by predicate type, to merge only those a registry lacks. */
  attestationLayers?: Array<{ predicateType: string; layer: CosignLayer }>;
  /** OCI referrers (push blobs + manifest by digest, then list each for its subject: ArtifactStore.pushReferrer). */
  referrers?: Array<{ predicateType: string; artifact: Artifact }>;
}

export interface SignImageOutput {
  /** Children first, then the top-level digest (push order does not matter, but this mirrors the copy order). */
  digests: SignedDigest[];
}

export async function signDigest(digest: string, input: Omit<SignImageInput, 'digest' | 'children'>): Promise<SignedDigest> {
  assertDigest(digest, 'image digest');
  const payload = simpleSigningPayload({ dockerReference: input.dockerReference, digest, ...(input.annotations ? { annotations: input.annotations } : {}) });
  const sig = await input.signer.sign(payload);
  const signature: TaggedArtifact = { tag: signatureTag(digest), ...buildCosignImage([signatureLayer(payload, sig)]) };
  const out: SignedDigest = { digest, signature };
  const attestations = input.provenance ? attestationStatements(input.provenance, digest) : [];
  if (attestations.length) {
    out.attestationLayers = [];
    for (const [predicateType, st] of attestations) {
      const env = await signEnvelope(INTOTO_PAYLOAD_TYPE, st, input.signer);
      out.attestationLayers.push({ predicateType, layer: attestationLayer(serializeEnvelope(env), predicateType) });
    }
    out.attestation = { tag: attestationTag(digest), ...buildCosignImage(out.attestationLayers.map((l) => l.layer)) };
  }
  if (input.bundles) {
    const subject = input.bundles.subjects.find((s) => s.digest === digest);
    if (!subject) throw new Error(`bundles: no subject descriptor (size, mediaType) for ${digest}`);
    const signer = await toSigstoreSigner(input.signer);
    const statements: Array<[string, Buffer]> = [[COSIGN_SIGN_PREDICATE, cosignSignStatement(digest)]];
    statements.push(...attestations);
    out.referrers = [];
    for (const [predicateType, st] of statements) {
      const bundle = serializeBundle(await signStatementBundle(st, signer));
      out.referrers.push({ predicateType, artifact: bundleReferrer(bundle, predicateType, subject, input.bundles.created) });
    }
  }
  return out;
}

export async function signImage(input: SignImageInput): Promise<SignImageOutput> {
  const { digest, children = [], ...rest } = input;
  const all = [...new Set([...children, digest])];
  const digests: SignedDigest[] = [];
  for (const d of all) digests.push(await signDigest(d, rest));
  return { digests };
}
