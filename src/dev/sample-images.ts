// Sample OCI images built in-process with no network, for the demo, tests and benchmarks: ustar layers gzipped
// (deterministically, so the same inputs give the same digests), configs whose rootfs.diff_ids are the sha256 of
// the uncompressed tars, image manifests, and multi-platform indexes. pushImage() writes one to a registry.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_LAYER_GZIP, OCI_MANIFEST, type Digest, type RepositoryRef } from '../model';
import { blobExists, pushBlob, putManifest, sha256, type RegistryClient } from '../oci';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Blob {
  digest: Digest;
  size: number;
  mediaType: string;
  bytes: Buffer;
}

export interface BuiltImage {
  digest: Digest;
  mediaType: string;
  manifest: Buffer;
  /** Config and layers (for an index: every child's blobs, deduplicated). */
  blobs: Blob[];
  /** For an index: its platform manifests, pushed before it. */
  children: BuiltImage[];
  platform?: Platform;
}

function blob(bytes: Buffer, mediaType: string): Blob {
  return { digest: sha256(bytes), size: bytes.length, mediaType, bytes };
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** A ustar archive of regular files (mode 0644, uid/gid 0, mtime 0). */
export function tar(files: Record<string, Buffer | string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    if (Buffer.byteLength(name) > 100) throw new Error(`tar: file name longer than 100 bytes: ${name}`);
    const h = Buffer.alloc(512);
    h.write(name, 0, 100, 'utf8');
    h.write(octal(0o644, 8), 100);
    h.write(octal(0, 8), 108);
    h.write(octal(0, 8), 116);
    h.write(octal(data.length, 12), 124);
    h.write(octal(0, 12), 136);
    h.write('        ', 148); // checksum field counts as spaces while summing
    h.write('0', 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const byte of h) sum += byte;
    h.write(octal(sum, 7) + ' ', 148);
    parts.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export interface ImageOptions {
  platform?: Platform;
  /** Distinguishes otherwise identical images (different seeds → different digests). */
  seed?: string;
  /** Number of layers (default 1). */
  layers?: number;
  /** Random, incompressible bytes per layer in addition to a small text file (default 0). */
  layerBytes?: number;
  /** Store layers as plain tar (cheaper to build for large benchmark images). */
  uncompressed?: boolean;
}

export function buildImage(opts: ImageOptions = {}): BuiltImage {
  const platform = opts.platform ?? { os: 'linux', architecture: 'amd64' };
  const seed = opts.seed ?? 'promoflow';
  const layers: Blob[] = [];
  const diffIds: string[] = [];
  for (let i = 0; i < (opts.layers ?? 1); i++) {
    const files: Record<string, Buffer | string> = {
      [`layer${i}/hello.txt`]: `promoflow test image ${seed} layer ${i} ${platform.os}/${platform.architecture}\n`,
    };
    if (opts.layerBytes) files[`layer${i}/random.bin`] = randomBytes(opts.layerBytes);
    const t = tar(files);
    diffIds.push(sha256(t));
    layers.push(opts.uncompressed ? blob(t, OCI_LAYER) : blob(gzipSync(t), OCI_LAYER_GZIP));
  }
  const config = blob(
    Buffer.from(
      JSON.stringify({
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Labels: { 'dev.promoflow.seed': seed } },
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: diffIds.map(() => ({ created_by: 'promoflow image-builder' })),
      }),
    ),
    OCI_CONFIG,
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
  return { digest: sha256(manifest), mediaType: OCI_MANIFEST, manifest, blobs: [config, ...layers], children: [], platform };
}

export const DEFAULT_PLATFORMS: Platform[] = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
];

export function buildIndex(opts: Omit<ImageOptions, 'platform'> & { platforms?: Platform[] } = {}): BuiltImage {
  const children = (opts.platforms ?? DEFAULT_PLATFORMS).map((platform) => buildImage({ ...opts, platform }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: children.map((c) => ({ mediaType: c.mediaType, digest: c.digest, size: c.manifest.length, platform: c.platform })),
    }),
  );
  const blobs = new Map<string, Blob>();
  for (const c of children) for (const b of c.blobs) blobs.set(b.digest, b);
  return { digest: sha256(manifest), mediaType: OCI_INDEX, manifest, blobs: [...blobs.values()], children };
}

/** Push an image or index (blobs, then children, then the manifest by digest, then tags). */
export async function pushImage(client: RegistryClient, repo: RepositoryRef, image: BuiltImage, tags: string[] = []): Promise<Digest> {
  for (const b of image.blobs) {
    if (!(await blobExists(client, repo, b.digest))) await pushBlob(client, repo, b.digest, b.size, b.bytes);
  }
  for (const c of image.children) await putManifest(client, repo, c.digest, { bytes: c.manifest, mediaType: c.mediaType });
  await putManifest(client, repo, image.digest, { bytes: image.manifest, mediaType: image.mediaType });
  for (const t of tags) await putManifest(client, repo, t, { bytes: image.manifest, mediaType: image.mediaType });
  return image.digest;
}
