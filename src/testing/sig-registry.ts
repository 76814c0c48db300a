// The signing interop tests' view of one registry, through promoflow's own OCI client and the ArtifactStore the
// signing activities use: push sample images and signature artifacts, read manifests back.
import { artifactStore } from '../activities';
import { buildImage, buildIndex, pushImage, type Platform } from '../dev';
import { RegistryClient } from '../oci';
import type { Artifact, ArtifactStore } from '../signing';

export class SigTestRegistry {
  private readonly client = new RegistryClient();

  constructor(readonly host: string) {}

  reader(repo: string): ArtifactStore {
    return artifactStore(this.client, { registry: this.host, repository: repo });
  }

  getManifest(repo: string, ref: string): Promise<Buffer | null> {
    return this.reader(repo).manifest(ref);
  }

  pushArtifact(repo: string, tag: string, a: Artifact): Promise<void> {
    return this.reader(repo).push(tag, a);
  }

  /** Push a referrer by digest and list it for its subject (referrers API or tag schema). */
  pushReferrer(repo: string, a: Artifact): Promise<void> {
    return this.reader(repo).pushReferrer(a);
  }

  /** A one-layer image whose content is `seed`, tagged; its descriptor. */
  async pushTinyImage(repo: string, tag: string, seed: string, platform: Platform = { os: 'linux', architecture: 'amd64' }): Promise<{ digest: string; size: number; mediaType: string }> {
    const image = buildImage({ seed, platform });
    await pushImage(this.client, { registry: this.host, repository: repo }, image, [tag]);
    return { digest: image.digest, size: image.manifest.length, mediaType: image.mediaType };
  }

  /** A two-platform index, tagged; its digest and the children's. */
  async pushTinyIndex(repo: string, tag: string, seed: string): Promise<{ digest: string; children: string[] }> {
    const index = buildIndex({ seed });
    await pushImage(this.client, { registry: this.host, repository: repo }, index, [tag]);
    return { digest: index.digest, children: index.children.map((c) => c.digest) };
  }
}
