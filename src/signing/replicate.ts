// Replication of signature/attestation images to mirrors, and the "already signed?" check that keeps re-runs from
// adding duplicates (ECDSA signatures are randomised: signing twice gives two different layers). Registry access
// is through an ArtifactReader passed in; the results are pure plans for the activity to push.
import { mergeCosignImage, parseImageManifest, type Artifact, type Blob } from './artifacts';
import { OCI_MANIFEST } from '../model';
import { sha256 as sha256Digest } from '../oci';
import { verifyImageAttestations, verifyImageSignatures, type ArtifactReader, type PublicKeyInput } from './verify';

/** Read a .sig/.att image with every blob (digest-checked), or null when the tag does not exist. */
export async function readCosignImage(reader: ArtifactReader, tag: string): Promise<Artifact | null> {
  const bytes = await reader.manifest(tag);
  if (bytes === null) return null;
  const m = parseImageManifest(bytes);
  const blobs: Blob[] = [];
  for (const d of [m.config, ...m.layers]) {
    const b = await reader.blob(d.digest, d.size);
    if (sha256Digest(b) !== d.digest) throw new Error(`${tag}: blob ${d.digest} does not match its digest`);
    blobs.push({ digest: d.digest, mediaType: d.mediaType, bytes: b });
  }
  return { manifest: { bytes, mediaType: m.mediaType ?? OCI_MANIFEST, digest: sha256Digest(bytes) }, blobs };
}

/**
 * What to push to one mirror under `tag`: the source image byte-for-byte when the mirror has nothing, the merge
 * when it has other layers, or null when it already holds every source layer.
 */
export async function planMirrorPush(source: Artifact, mirror: ArtifactReader, tag: string): Promise<Artifact | null> {
  const existing = await mirror.manifest(tag);
  if (existing === null) return source;
  if (sha256Digest(existing) === source.manifest.digest) return null;
  return mergeCosignImage(existing, source).artifact;
}

export interface SigningNeeds {
  signature: boolean;
  attestation: boolean;
}

/** Before signing at the source: skip what a valid signature/attestation by this key already covers. */
export async function signingNeeds(reader: ArtifactReader, check: { publicKey: PublicKeyInput; digest: string; dockerReference?: string; predicateType: string }): Promise<SigningNeeds> {
  const sig = await verifyImageSignatures(reader, { publicKey: check.publicKey, digest: check.digest, ...(check.dockerReference ? { dockerReference: check.dockerReference } : {}) });
  const att = await verifyImageAttestations(reader, { publicKey: check.publicKey, digest: check.digest, predicateType: check.predicateType });
  return { signature: !sig.ok, attestation: !att.ok };
}
