// Manifest GET/HEAD/PUT of exact bytes. Fetches by digest are verified against the digest; sizes are capped by the
// registry's maxManifestBytes (src/model ResourceLimits).
import { limitHint, formatRepository, isDigest, isTag, MANIFEST_ACCEPT, type Digest, type RepositoryRef } from '../model';
import { sha256 } from './digest';
import type { RegistryClient } from './client';
import { DigestMismatchError, ManifestTooLargeError, OciError, ReadMismatchError } from './errors';
import { repositoryScope } from './auth';
import { discard, header, readBody } from './transport';
import { rereading } from './retry';

export interface ManifestBytes {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

function checkRef(repo: RepositoryRef, tagOrDigest: string): void {
  if (!isDigest(tagOrDigest) && !isTag(tagOrDigest)) throw new OciError(`${formatRepository(repo)}: ${JSON.stringify(tagOrDigest)} is neither a tag nor a sha256 digest`);
}

function sep(tagOrDigest: string): string {
  return isDigest(tagOrDigest) ? '@' : ':';
}

function contentType(v: string | undefined): string | undefined {
  return v?.split(';')[0]?.trim() || undefined;
}

/**
 * The manifest's exact bytes. They are checked against the digest asked for, or for a tag against the registry's
 * Docker-Content-Digest header: bytes that do not match are read again (see rereading), never handed on.
 */
export async function getManifest(c: RegistryClient, repo: RepositoryRef, tagOrDigest: string, signal?: AbortSignal): Promise<ManifestBytes> {
  checkRef(repo, tagOrDigest);
  return rereading(() => readManifest(c, repo, tagOrDigest, signal), c.retry, signal);
}

async function readManifest(c: RegistryClient, repo: RepositoryRef, tagOrDigest: string, signal?: AbortSignal): Promise<ManifestBytes> {
  const what = `GET manifest ${formatRepository(repo)}${sep(tagOrDigest)}${tagOrDigest}`;
  const res = await c.send(repo, { method: 'GET', path: `manifests/${tagOrDigest}`, headers: { accept: MANIFEST_ACCEPT }, scopes: [repositoryScope(repo.repository, 'pull')], ...(signal ? { signal } : {}) });
  if (res.status !== 200) throw await c.error(res, { what, registry: repo.registry, notFound: 'manifest' });
  const max = c.limitsFor(repo.registry).maxManifestBytes;
  const tooLarge = (): Error => new ManifestTooLargeError(`${what}: manifest larger than ${max} bytes; refusing it (a manifest this size is not an image); ${limitHint(repo.registry, 'maxManifestBytes')}`);
  const len = Number(header(res, 'content-length') ?? NaN);
  if (len > max) {
    res.body.destroy();
    throw tooLarge();
  }
  const bytes = await readBody(res, max, tooLarge);
  const digest = sha256(bytes);
  const expected = isDigest(tagOrDigest) ? tagOrDigest : header(res, 'docker-content-digest');
  if (expected && isDigest(expected) && digest !== expected) {
    throw new ReadMismatchError(`${what}: the bytes read have digest ${digest}, expected ${expected}`, digest);
  }
  let mediaType = contentType(header(res, 'content-type'));
  if (!mediaType || mediaType === 'application/json' || mediaType === 'text/plain') {
    try {
      const mt = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType;
      if (typeof mt === 'string') mediaType = mt;
    } catch {
      // left as the server said
    }
  }
  return { bytes, mediaType: mediaType ?? 'application/octet-stream', digest };
}

export async function headManifest(c: RegistryClient, repo: RepositoryRef, tagOrDigest: string, signal?: AbortSignal): Promise<{ digest: string; mediaType: string; size: number } | undefined> {
  checkRef(repo, tagOrDigest);
  const what = `HEAD manifest ${formatRepository(repo)}${sep(tagOrDigest)}${tagOrDigest}`;
  const res = await c.send(repo, { method: 'HEAD', path: `manifests/${tagOrDigest}`, headers: { accept: MANIFEST_ACCEPT }, scopes: [repositoryScope(repo.repository, 'pull')], ...(signal ? { signal } : {}) });
  if (res.status === 404) {
    await discard(res);
    return undefined;
  }
  if (res.status !== 200) throw await c.error(res, { what, registry: repo.registry, notFound: 'manifest' });
  await discard(res);
  const digest = header(res, 'docker-content-digest');
  const mediaType = contentType(header(res, 'content-type'));
  const size = Number(header(res, 'content-length') ?? NaN);
  if (digest && isDigest(digest) && mediaType && Number.isFinite(size)) {
    // A header naming another digest is a claim, not evidence: the GET below reads the bytes (re-read until stable).
    if (!isDigest(tagOrDigest) || digest === tagOrDigest) return { digest, mediaType, size };
  }
  // Some registries omit the digest on HEAD, or name another one: fall back to a GET.
  const m = await getManifest(c, repo, tagOrDigest, signal);
  return { digest: m.digest, mediaType: m.mediaType, size: m.bytes.length };
}

export async function putManifest(c: RegistryClient, repo: RepositoryRef, tagOrDigest: string, m: { bytes: Buffer; mediaType: string }, signal?: AbortSignal): Promise<Digest> {
  return (await writeManifest(c, repo, tagOrDigest, m, signal)).digest;
}

/**
 * putManifest, also telling whether the registry confirmed the digest it stored (Docker-Content-Digest equal to the
 * bytes' digest; a different one throws). A write by tag stores the manifest by digest too; `confirmed` is the
 * registry's word for it, where it gives one.
 */
export async function writeManifest(c: RegistryClient, repo: RepositoryRef, tagOrDigest: string, m: { bytes: Buffer; mediaType: string }, signal?: AbortSignal): Promise<{ digest: Digest; confirmed: boolean }> {
  checkRef(repo, tagOrDigest);
  const digest = sha256(m.bytes);
  const what = `PUT manifest ${formatRepository(repo)}${sep(tagOrDigest)}${tagOrDigest}`;
  if (isDigest(tagOrDigest) && digest !== tagOrDigest) throw new DigestMismatchError(`${what}: the bytes have digest ${digest}; refusing to write them under another digest`);
  const max = c.limitsFor(repo.registry).maxManifestBytes;
  if (m.bytes.length > max) throw new ManifestTooLargeError(`${what}: manifest is ${m.bytes.length} bytes, above the ${max} byte limit; ${limitHint(repo.registry, 'maxManifestBytes')}`);
  const res = await c.send(repo, { method: 'PUT', path: `manifests/${tagOrDigest}`, headers: { 'content-type': m.mediaType }, body: m.bytes, scopes: [repositoryScope(repo.repository, 'pull,push')], ...(signal ? { signal } : {}) });
  if (res.status !== 201 && res.status !== 200 && res.status !== 202) throw await c.error(res, { what, registry: repo.registry });
  await discard(res);
  const got = header(res, 'docker-content-digest');
  if (got && got !== digest) throw new DigestMismatchError(`${what}: the registry stored digest ${got}, expected ${digest}; it rewrote the manifest`);
  return { digest, confirmed: got === digest };
}

export async function deleteManifest(c: RegistryClient, repo: RepositoryRef, digest: string, signal?: AbortSignal): Promise<boolean> {
  const what = `DELETE manifest ${formatRepository(repo)}@${digest}`;
  const res = await c.send(repo, { method: 'DELETE', path: `manifests/${digest}`, scopes: [`repository:${repo.repository}:delete,pull,push`], ...(signal ? { signal } : {}) });
  if (res.status === 404) {
    await discard(res);
    return false;
  }
  if (res.status !== 202 && res.status !== 200) throw await c.error(res, { what, registry: repo.registry });
  await discard(res);
  return true;
}
