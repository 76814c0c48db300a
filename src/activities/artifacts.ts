// The ArtifactStore signing works through, over the worker's OCI client for one repository: a missing tag or
// repository reads as null; bytes are digest-checked and re-read when they arrive wrong or cut off, so a verifier
// only ever judges the stored content; pushes write blobs first, referrers go through the referrers API or tag schema.
import { type RepositoryRef } from '../model';
import { getManifest, headManifest, listReferrers, OciError, pushBlob, pushReferrer, putManifest, readBlob, rereading, type RegistryClient } from '../oci';
import type { Artifact, ArtifactStore } from '../signing';

/**
 * Signature blobs are small: each is pushed with a mount from its own repository first, which checks and opens the
 * upload in one request (201: already there; 202: the session to upload into) instead of a HEAD and then a POST.
 */
async function pushBlobs(client: RegistryClient, repo: RepositoryRef, a: Artifact): Promise<void> {
  for (const b of a.blobs) await pushBlob(client, repo, b.digest, b.bytes.length, b.bytes, { mountFrom: repo });
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
    // Bounded by the registry's maxArtifactBytes (a hostile registry's endless .sig layer is cut off, not read whole),
    // and re-read when the bytes arrive wrong or cut off: a verifier only ever judges the stored content.
    blob: (digest, size) => rereading(() => readBlob(client, repo, digest, size === undefined ? {} : { size }), client.retry),
    digest: async (tag) => (await headManifest(client, repo, tag))?.digest ?? null,
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
