// The source policy: before anything is copied, the staging image must carry a cosign signature that verifies
// with the trusted builder's public key. Unsigned or invalid → SignatureVerificationError (SourceUnsigned,
// never retried), named with the image and digest.
import type { RegistryClient } from '../oci';
import { type RepositoryRef } from '../model';
import { requireSignedImage } from '../signing';
import { artifactStore } from './artifacts';
import { readKeyRef } from './key-refs';

export async function requireSourceSignature(client: RegistryClient, repo: RepositoryRef, digest: string, keyRef: string): Promise<void> {
  await requireSignedImage(artifactStore(client, repo), `${repo.registry}/${repo.repository}`, { publicKey: readKeyRef(keyRef, 'source policy key'), digest });
}
