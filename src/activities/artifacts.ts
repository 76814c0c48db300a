// Registry I/O for signature artifacts, shared by signing, source policy and reconciliation: an ArtifactReader over
// the OCI client (a missing tag or repository reads as null), and pushing a .sig/.att image or a bundle referrer.
import { blobExists, fetchBlob, getManifest, OciError, pushBlob, putManifest, type RegistryClient } from '../oci';
import { type RepositoryRef } from '../model';
import { pushReferrer } from '../oci/referrers';
import type { Artifact, ArtifactReader } from '../signing';

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

export function artifactReader(client: RegistryClient, repo: RepositoryRef): ArtifactReader {
  return {
    manifest: async (tag) => {
      try {
        return (await getManifest(client, repo, tag)).bytes;
      } catch (e) {
        if (e instanceof OciError && (e.status === 404 || e.code === 'MANIFEST_UNKNOWN' || e.code === 'NAME_UNKNOWN')) return null;
        throw e;
      }
    },
    blob: async (digest) => collect(await fetchBlob(client, repo, digest)),
  };
}

async function pushBlobs(client: RegistryClient, repo: RepositoryRef, a: Artifact): Promise<void> {
  for (const b of a.blobs) if (!(await blobExists(client, repo, b.digest))) await pushBlob(client, repo, b.digest, b.bytes.length, b.bytes);
}

/** A .sig/.att image under its tag: blobs first, then the manifest. */
export async function pushArtifact(client: RegistryClient, repo: RepositoryRef, tag: string, a: Artifact): Promise<void> {
  await pushBlobs(client, repo, a);
  await putManifest(client, repo, tag, { bytes: a.manifest.bytes, mediaType: a.manifest.mediaType });
}

/** A bundle referrer: its blobs, then the manifest by digest, then the referrers index (serialised per subject). */
export async function pushReferrerArtifact(client: RegistryClient, repo: RepositoryRef, a: Artifact): Promise<void> {
  await pushBlobs(client, repo, a);
  await pushReferrer(client, repo, { bytes: a.manifest.bytes, mediaType: a.manifest.mediaType });
}
