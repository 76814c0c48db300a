// Descriptors, image manifests and image indexes as zod schemas: the one shape of OCI content that the registry
// client walks and signing reads and writes. Schemas are loose (unknown fields survive a parse) because content we
// copy must round-trip; validation of where bytes came from is the caller's.
import { z } from 'zod';
import { DIGEST_RE } from './digest';

export const Descriptor = z
  .object({
    mediaType: z.string(),
    digest: z.string().regex(DIGEST_RE),
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

/** The three fields that identify content (a signature's subject, a referrer's subject). */
export interface SubjectDescriptor {
  digest: string;
  size: number;
  mediaType: string;
}

export type ParsedManifest = { kind: 'index'; index: ImageIndex } | { kind: 'image'; manifest: ImageManifest };

/** Layers that must not be copied (foreign / non-distributable with external URLs), as go-containerregistry does. */
export function isForeignLayer(d: Descriptor): boolean {
  return (d.urls?.length ?? 0) > 0 && /foreign|nondistributable/.test(d.mediaType);
}
