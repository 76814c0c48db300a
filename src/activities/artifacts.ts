// The ArtifactStore signing works through, over the worker's OCI client for one repository: a missing tag or
// repository reads as null; bytes are digest-checked and re-read when they arrive wrong or cut off, so a verifier
// only ever judges the stored content; pushes write blobs first, referrers go through the referrers API or tag schema.
import { type RepositoryRef } from '../model';
import { blobExists, fetchBlob, getManifest, listReferrers, OciError, pushBlob, pushReferrer, putManifest, rereading, type RegistryClient } from '../oci';
import type { Artifact, ArtifactStore } from '../signing';

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

async function pushBlobs(client: RegistryClient, repo: RepositoryRef, a: Artifact): Promise<void> {
  for (const b of a.blobs) if (!(await blobExists(client, repo, b.digest))) await pushBlob(client, repo, b.digest, b.bytes.length, b.bytes);
}

export function artifactStore(client: RegistryClient, repo: RepositoryRef): ArtifactStore {
  return {
    manifest: async (tag) => {
      try {
        return (await getManifest(client, repo, tag)).bytes;
      } catch (e) {
        if (e instanceof OciError && (e.status === 404 || e.code === 'MANIFEST_UNKNOWN' || e.code === 'NAME_UNKNOWN')) return null;
        throw e;
      }
    },
    blob: (digest) => rereading(async () => collect(await fetchBlob(client, repo, digest)), client.retry),
    push: async (tag, a) => {
      await pushBlobs(client, repo, a);
      await putManifest(client, repo, tag, { bytes: a.manifest.bytes, mediaType: a.manifest.mediaType });
    },
    pushReferrer: async (a) => {
      await pushBlobs(client, repo, a);
      await pushReferrer(client, repo, { bytes: a.manifest.bytes, mediaType: a.manifest.mediaType });
    },
    referrers: (subject, artifactType) => listReferrers(client, repo, subject, { artifactType }),
  };
}
