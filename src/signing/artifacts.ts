// The OCI images cosign stores beside a signed digest: `sha256-<hex>.sig` (simple-signing layers) and
// `sha256-<hex>.att` (DSSE layers). Shapes follow what cosign builds with go-containerregistry on an empty
// image with OCI media types: OCI manifest, OCI config whose rootfs lists one diff_id and one (empty) history
// entry per layer, layer annotations as a sorted Go map. Also merging into an existing image without duplicates.
import { ImageManifest, OCI_CONFIG, OCI_MANIFEST, type Descriptor } from '../model';
import { sha256 as sha256Digest } from '../oci';
import { b64, goJson, parseJsonWith, sortedRecord, utf8 } from './encoding';
export const SIMPLE_SIGNING_LAYER = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const DSSE_LAYER = 'application/vnd.dsse.envelope.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
export const CHAIN_ANNOTATION = 'dev.sigstore.cosign/chain';
export const BUNDLE_ANNOTATION = 'dev.sigstore.cosign/bundle';
export const PREDICATE_TYPE_ANNOTATION = 'predicateType';

export interface Blob {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

export interface BuiltManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

/** Everything an OCI client pushes: blobs first, then the manifest under a tag. */
export interface Artifact {
  manifest: BuiltManifest;
  blobs: Blob[];
}

export interface TaggedArtifact extends Artifact {
  /** Tag in the subject's repository, e.g. sha256-<hex>.sig. */
  tag: string;
}

/** One cosign layer before it is placed in a manifest: the blob bytes and its annotations. */
export interface CosignLayer {
  mediaType: string;
  bytes: Buffer;
  annotations: Record<string, string>;
}

export function signatureLayer(payload: Buffer, derSignature: Buffer, extra: Record<string, string> = {}): CosignLayer {
  return { mediaType: SIMPLE_SIGNING_LAYER, bytes: payload, annotations: { ...extra, [SIGNATURE_ANNOTATION]: b64(derSignature) } };
}

export function attestationLayer(envelope: Buffer, predicateType: string): CosignLayer {
  return { mediaType: DSSE_LAYER, bytes: envelope, annotations: { [PREDICATE_TYPE_ANNOTATION]: predicateType, [SIGNATURE_ANNOTATION]: '' } };
}

export function descriptorOf(layer: CosignLayer): Descriptor {
  return { mediaType: layer.mediaType, size: layer.bytes.length, digest: sha256Digest(layer.bytes), annotations: layer.annotations };
}

/** go-containerregistry's empty-image config after appending layers whose diff_id equals their digest (uncompressed). */
export function cosignConfig(layerDigests: string[]): Buffer {
  return utf8(
    goJson({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: layerDigests.map(() => ({ created: '0001-01-01T00:00:00Z' })),
      os: '',
      rootfs: { type: 'layers', diff_ids: layerDigests },
      config: {},
    }),
  );
}

function descriptorJson(d: Descriptor): Record<string, unknown> {
  // Go struct order: mediaType, size, digest, (data, urls), annotations, (platform), artifactType.
  const out: Record<string, unknown> = { mediaType: d.mediaType, size: d.size, digest: d.digest };
  if (d.annotations && Object.keys(d.annotations).length > 0) out.annotations = sortedRecord(d.annotations);
  if (d.artifactType) out.artifactType = d.artifactType;
  return out;
}

export function serializeImageManifest(m: { config: Descriptor; layers: Descriptor[]; subject?: Descriptor; artifactType?: string; annotations?: Record<string, string> }): Buffer {
  const out: Record<string, unknown> = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptorJson(m.config), layers: m.layers.map(descriptorJson) };
  if (m.annotations && Object.keys(m.annotations).length > 0) out.annotations = sortedRecord(m.annotations);
  if (m.subject) out.subject = descriptorJson(m.subject);
  if (m.artifactType) out.artifactType = m.artifactType;
  return utf8(goJson(out));
}

/** Build a cosign signature/attestation image from descriptors (existing layers) plus the blobs we own. */
function assemble(layers: Descriptor[], newBlobs: Blob[]): Artifact {
  const config = cosignConfig(layers.map((l) => l.digest));
  const configDesc: Descriptor = { mediaType: OCI_CONFIG, size: config.length, digest: sha256Digest(config) };
  const bytes = serializeImageManifest({ config: configDesc, layers });
  return {
    manifest: { bytes, mediaType: OCI_MANIFEST, digest: sha256Digest(bytes) },
    blobs: [{ digest: configDesc.digest, mediaType: OCI_CONFIG, bytes: config }, ...newBlobs],
  };
}

export function buildCosignImage(layers: CosignLayer[]): Artifact {
  if (layers.length === 0) throw new Error('a cosign image needs at least one layer');
  const unique = dedupe(layers.map((l) => ({ d: descriptorOf(l), l })));
  return assemble(
    unique.map((u) => u.d),
    uniqueBlobs(unique.map((u) => ({ digest: u.d.digest, mediaType: u.l.mediaType, bytes: u.l.bytes }))),
  );
}

function layerKey(d: Descriptor): string {
  return `${d.mediaType}\n${d.digest}\n${JSON.stringify(sortedRecord(d.annotations ?? {}))}`;
}

function dedupe<T extends { d: Descriptor }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const k = layerKey(i.d);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function uniqueBlobs(blobs: Blob[]): Blob[] {
  const seen = new Set<string>();
  return blobs.filter((b) => (seen.has(b.digest) ? false : (seen.add(b.digest), true)));
}

/** Parse a manifest read from a registry (untrusted). */
export function parseImageManifest(bytes: Uint8Array): ImageManifest {
  return parseJsonWith(bytes, ImageManifest, 'manifest is not JSON', (issues) => `not an image manifest: ${issues}`);
}

export interface MergeResult {
  /** Null when the existing image already holds every layer: nothing to push. */
  artifact: Artifact | null;
  added: number;
}

/**
 * Merge our layers into an image a registry already has under the .sig/.att tag. Existing layers are kept in
 * order (their blobs are already there); ours are appended unless an identical layer (same media type, digest
 * and annotations, so same signature) exists. `drop` removes existing layers first (cosign attest --replace).
 */
export function mergeCosignImage(existing: Uint8Array | null, ours: Artifact | CosignLayer[], drop?: (d: Descriptor) => boolean): MergeResult {
  const oursLayers: Array<{ d: Descriptor; blob: Blob | undefined }> = Array.isArray(ours)
    ? ours.map((l) => {
        const d = descriptorOf(l);
        return { d, blob: { digest: d.digest, mediaType: l.mediaType, bytes: l.bytes } };
      })
    : parseImageManifest(ours.manifest.bytes).layers.map((d) => ({ d, blob: ours.blobs.find((b) => b.digest === d.digest) }));
  for (const o of oursLayers) if (!o.blob) throw new Error(`merge: blob ${o.d.digest} of our artifact is missing`);
  if (existing === null) {
    const all = dedupe(oursLayers);
    return { artifact: assemble(all.map((o) => o.d), uniqueBlobs(all.map((o) => o.blob as Blob))), added: all.length };
  }
  const current = parseImageManifest(existing);
  let kept: Descriptor[] = current.layers;
  const before = kept.length;
  if (drop) kept = kept.filter((d) => !drop(d));
  const have = new Set(kept.map(layerKey));
  const additions = dedupe(oursLayers.filter((o) => !have.has(layerKey(o.d))));
  if (additions.length === 0 && kept.length === before) return { artifact: null, added: 0 };
  return {
    artifact: assemble([...kept, ...additions.map((a) => a.d)], uniqueBlobs(additions.map((a) => a.blob as Blob))),
    added: additions.length,
  };
}
