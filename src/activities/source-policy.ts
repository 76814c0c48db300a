// The source policy: before anything is copied, the staging image must carry a cosign signature that verifies
// with the trusted builder's public key. Unsigned or invalid → SignatureVerificationError (SourceUnsigned,
// never retried), named with the image and digest.
import type { RegistryClient } from '../oci';
import { type RepositoryRef } from '../model';
import { signatureTag } from '../model';
import { loadPublicKey, publicKeyFingerprint, requireSignedImage } from '../signing';
import type { SourceEvidence } from '../contract';
import { artifactStore } from './artifacts';
import { readKeyRef } from './key-refs';

/** Checks the source signature; returns what the VSA names: the key's fingerprint and the layers that verified. */
export async function requireSourceSignature(client: RegistryClient, repo: RepositoryRef, digest: string, keyRef: string): Promise<SourceEvidence> {
  const publicKey = loadPublicKey(readKeyRef(keyRef, 'source policy key'));
  const name = `${repo.registry}/${repo.repository}`;
  const v = await requireSignedImage(artifactStore(client, repo), name, { publicKey, digest });
  return { keyFingerprint: publicKeyFingerprint(publicKey), signatures: v.verified.map((layer) => ({ uri: `${name}:${signatureTag(digest)}`, digest: layer })) };
}
