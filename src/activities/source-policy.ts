// The source policy: before anything is copied, the staging image must carry a cosign signature that verifies
// with the trusted builder's public key. Unsigned or invalid → SignatureVerificationError (SourceUnsigned,
// never retried), named with the image and digest.
import { readFileSync } from 'node:fs';
import type { RegistryClient, RepositoryRef } from '../oci';
import { requireSignedImage } from '../signing';
import { artifactReader } from './signing';

/** A public key from a reference: file://PATH or env://VAR holding the PEM. */
export function publicKeyFrom(ref: string): string {
  if (ref.startsWith('file://')) {
    try {
      return readFileSync(ref.slice('file://'.length), 'utf8');
    } catch (e) {
      throw new Error(`source policy key ${ref}: cannot read it on the worker (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (ref.startsWith('env://')) {
    const v = process.env[ref.slice('env://'.length)];
    if (!v) throw new Error(`source policy key ${ref}: the variable is not set on the worker`);
    return v;
  }
  throw new Error(`source policy key ${ref}: use file://PATH or env://VAR`);
}

export async function requireSourceSignature(client: RegistryClient, repo: RepositoryRef, digest: string, keyRef: string): Promise<void> {
  await requireSignedImage(artifactReader(client, repo), `${repo.registry}/${repo.repository}`, { publicKey: publicKeyFrom(keyRef), digest });
}
