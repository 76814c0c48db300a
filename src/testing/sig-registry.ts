// Minimal fetch-based OCI pusher/reader for the signing interop tests, independent of src/oci so those tests
// stand alone: monolithic blob upload, manifest put/get, and tiny single- and multi-platform images.
import { createHash } from 'node:crypto';
import { referrersTag } from '../model';
import type { Artifact } from '../signing';
import { mergeReferrersIndex } from '../signing/bundle';
import type { ArtifactReader } from '../signing/verify';

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export class SigTestRegistry {
  constructor(readonly host: string) {}

  private url(repo: string, rest: string): string {
    return `http://${this.host}/v2/${repo}/${rest}`;
  }

  async pushBlob(repo: string, bytes: Buffer, digest = sha(bytes)): Promise<string> {
    const head = await fetch(this.url(repo, `blobs/${digest}`), { method: 'HEAD' });
    if (head.ok) return digest;
    const start = await fetch(this.url(repo, 'blobs/uploads/'), { method: 'POST' });
    await start.arrayBuffer();
    if (start.status !== 202) throw new Error(`upload start ${repo}: HTTP ${start.status}`);
    const loc = new URL(start.headers.get('location') ?? '', this.url(repo, 'blobs/uploads/'));
    loc.searchParams.set('digest', digest);
    const put = await fetch(loc, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    await put.arrayBuffer();
    if (put.status !== 201) throw new Error(`upload ${repo} ${digest}: HTTP ${put.status}`);
    return digest;
  }

  async putManifest(repo: string, ref: string, bytes: Buffer, mediaType: string): Promise<string> {
    const r = await fetch(this.url(repo, `manifests/${ref}`), { method: 'PUT', body: bytes, headers: { 'content-type': mediaType } });
    const text = await r.text();
    if (r.status !== 201) throw new Error(`put manifest ${repo}:${ref}: HTTP ${r.status} ${text}`);
    return sha(bytes);
  }

  async getManifest(repo: string, ref: string): Promise<Buffer | null> {
    const r = await fetch(this.url(repo, `manifests/${ref}`), { headers: { accept: ACCEPT } });
    const body = Buffer.from(await r.arrayBuffer());
    if (r.status === 404) return null;
    if (!r.ok) throw new Error(`get manifest ${repo}:${ref}: HTTP ${r.status}`);
    return body;
  }

  async getBlob(repo: string, digest: string): Promise<Buffer> {
    const r = await fetch(this.url(repo, `blobs/${digest}`));
    const body = Buffer.from(await r.arrayBuffer());
    if (!r.ok) throw new Error(`get blob ${repo}@${digest}: HTTP ${r.status}`);
    return body;
  }

  async pushArtifact(repo: string, tag: string, a: Artifact): Promise<void> {
    for (const b of a.blobs) await this.pushBlob(repo, b.bytes, b.digest);
    await this.putManifest(repo, tag, a.manifest.bytes, a.manifest.mediaType);
  }

  /** Push a referrer by digest and list it in the referrers tag schema index (test-only: no locking). */
  async pushReferrer(repo: string, subjectDigest: string, a: Artifact, annotations?: Record<string, string>): Promise<void> {
    for (const b of a.blobs) await this.pushBlob(repo, b.bytes, b.digest);
    await this.putManifest(repo, a.manifest.digest, a.manifest.bytes, a.manifest.mediaType);
    const tag = referrersTag(subjectDigest);
    const index = mergeReferrersIndex(await this.getManifest(repo, tag), a, undefined, annotations);
    if (index) await this.putManifest(repo, tag, index.bytes, index.mediaType);
  }

  reader(repo: string): ArtifactReader {
    return { manifest: (tag) => this.getManifest(repo, tag), blob: (d) => this.getBlob(repo, d) };
  }

  /** A one-layer image whose content is `seed`; returns its manifest digest. */
  async pushTinyImage(repo: string, tag: string, seed: string, platform = { os: 'linux', architecture: 'amd64' }): Promise<{ digest: string; size: number; mediaType: string }> {
    const layer = Buffer.from(seed);
    const config = Buffer.from(JSON.stringify({ architecture: platform.architecture, os: platform.os, rootfs: { type: 'layers', diff_ids: [sha(layer)] }, config: {} }));
    await this.pushBlob(repo, layer);
    await this.pushBlob(repo, config);
    const mt = 'application/vnd.oci.image.manifest.v1+json';
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: mt,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config.length, digest: sha(config) },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', size: layer.length, digest: sha(layer) }],
      }),
    );
    const digest = await this.putManifest(repo, tag, manifest, mt);
    return { digest, size: manifest.length, mediaType: mt };
  }

  /** A two-platform index; returns its digest and the children's. */
  async pushTinyIndex(repo: string, tag: string, seed: string): Promise<{ digest: string; children: string[] }> {
    const plats = [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }];
    const kids = [];
    for (const p of plats) kids.push({ ...(await this.pushTinyImage(repo, `${tag}-${p.architecture}`, `${seed}-${p.architecture}`, p)), platform: p });
    const mt = 'application/vnd.oci.image.index.v1+json';
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: mt, manifests: kids.map((k) => ({ mediaType: k.mediaType, size: k.size, digest: k.digest, platform: k.platform })) }));
    const digest = await this.putManifest(repo, tag, index, mt);
    return { digest, children: kids.map((k) => k.digest) };
  }
}
