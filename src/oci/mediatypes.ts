// Parsing manifest bytes read from a registry into the model's manifest or index, with OciErrors a copy can
// classify (MANIFEST_INVALID is not retryable).
import { ImageIndex, ImageManifest, isIndexType, type ParsedManifest } from '../model';
import { OciError } from './errors';

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
