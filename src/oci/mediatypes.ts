// Manifest media types and the parsing of manifests/indexes into the descriptors a copy must walk.
import { z } from 'zod';
import { OciError } from './errors';

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
/** Always all four: distribution answers 404 for an OCI manifest when its type is missing from Accept. */
export const MANIFEST_ACCEPT = [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST].join(', ');

export function isIndexType(mt: string): boolean {
  return mt === OCI_INDEX || mt === DOCKER_LIST;
}

export const Descriptor = z
  .object({
    mediaType: z.string(),
    digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    size: z.number().int().nonnegative(),
    urls: z.array(z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    artifactType: z.string().optional(),
    platform: z.unknown().optional(),
  })
  .loose();
export type Descriptor = z.infer<typeof Descriptor>;

export const ImageManifest = z
  .object({
    schemaVersion: z.literal(2),
    mediaType: z.string().optional(),
    artifactType: z.string().optional(),
    config: Descriptor,
    layers: z.array(Descriptor),
    subject: Descriptor.optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .loose();
export type ImageManifest = z.infer<typeof ImageManifest>;

export const ImageIndex = z
  .object({
    schemaVersion: z.literal(2),
    mediaType: z.string().optional(),
    artifactType: z.string().optional(),
    manifests: z.array(Descriptor),
    subject: Descriptor.optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .loose();
export type ImageIndex = z.infer<typeof ImageIndex>;

export type ParsedManifest = { kind: 'index'; index: ImageIndex } | { kind: 'image'; manifest: ImageManifest };

/** Parse manifest bytes by shape (media type alone is not trusted: artifacts use many). */
export function parseManifest(bytes: Buffer, mediaType: string, what: string): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new OciError(`${what}: manifest (${mediaType}) is not JSON`, { code: 'MANIFEST_INVALID' });
  }
  const declared = (json as { mediaType?: unknown })?.mediaType;
  const mt = typeof declared === 'string' ? declared : mediaType;
  if (isIndexType(mt) || (json !== null && typeof json === 'object' && 'manifests' in json)) {
    const r = ImageIndex.safeParse(json);
    if (r.success) return { kind: 'index', index: r.data };
    throw new OciError(`${what}: invalid image index: ${r.error.issues[0]?.message ?? ''}`, { code: 'MANIFEST_INVALID' });
  }
  const r = ImageManifest.safeParse(json);
  if (r.success) return { kind: 'image', manifest: r.data };
  if ((json as { schemaVersion?: unknown })?.schemaVersion === 1) throw new OciError(`${what}: Docker schema 1 manifests are not supported`, { code: 'MANIFEST_INVALID' });
  throw new OciError(`${what}: invalid image manifest: ${r.error.issues[0]?.message ?? ''}`, { code: 'MANIFEST_INVALID' });
}

/** Layers that must not be copied (foreign / non-distributable with external URLs), as go-containerregistry does. */
export function isForeignLayer(d: Descriptor): boolean {
  return (d.urls?.length ?? 0) > 0 && /foreign|nondistributable/.test(d.mediaType);
}
