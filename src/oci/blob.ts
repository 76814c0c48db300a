// Blob existence, streaming download with incremental digest verification, and push (mount/streamed/monolithic).
import type { RegistryClient } from './client';
import { sha256, verifying } from './digest';
import { DigestMismatchError, LimitExceededError, OciError } from './errors';
import { limitHint, formatRepository, isDigest, type RepositoryRef } from '../model';
import { withRetry } from './retry';
import { discard, header, type RequestBody } from './transport';
import { completeUpload, startUpload } from './upload';

function checkDigest(repo: RepositoryRef, digest: string): void {
  if (!isDigest(digest)) throw new OciError(`${formatRepository(repo)}: blob digest ${JSON.stringify(digest)} is not sha256:<64 hex>`);
}

export async function blobExists(c: RegistryClient, repo: RepositoryRef, digest: string, signal?: AbortSignal): Promise<boolean> {
  checkDigest(repo, digest);
  const res = await c.send(repo, { method: 'HEAD', path: `blobs/${digest}`, scopes: [`repository:${repo.repository}:pull`], ...(signal ? { signal } : {}) });
  await discard(res);
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw await c.error(res, { what: `HEAD blob ${formatRepository(repo)}@${digest}`, registry: repo.registry, notFound: 'blob' });
}

/** Stream a blob; the iterable throws DigestMismatchError after the last chunk if the content is not `digest`. */
export async function fetchBlob(c: RegistryClient, repo: RepositoryRef, digest: string, opts: { size?: number; signal?: AbortSignal; reserved?: boolean } = {}): Promise<AsyncIterable<Uint8Array>> {
  checkDigest(repo, digest);
  const what = `GET blob ${formatRepository(repo)}@${digest}`;
  const res = await c.send(repo, { method: 'GET', path: `blobs/${digest}`, scopes: [`repository:${repo.repository}:pull`], ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.reserved ? { reserved: true } : {}) });
  if (res.status !== 200) throw await c.error(res, { what, registry: repo.registry, notFound: 'blob' });
  return verifying(res.body, digest, what, opts.size);
}

/**
 * A small blob (a signature or attestation layer) read into memory, verified, and bounded by the registry's
 * maxArtifactBytes and by its declared `size` when known: an endless or oversized layer is refused after at most
 * that many bytes, never read whole.
 */
export async function readBlob(c: RegistryClient, repo: RepositoryRef, digest: string, opts: { size?: number; signal?: AbortSignal } = {}): Promise<Buffer> {
  checkDigest(repo, digest);
  const what = `GET blob ${formatRepository(repo)}@${digest}`;
  const max = c.limitsFor(repo.registry).maxArtifactBytes;
  const tooLarge = (): LimitExceededError => new LimitExceededError(`${what}: larger than ${max} bytes, too large for a signature or attestation layer; ${limitHint(repo.registry, 'maxArtifactBytes')}`);
  if (opts.size !== undefined && opts.size > max) throw tooLarge();
  const res = await c.send(repo, { method: 'GET', path: `blobs/${digest}`, scopes: [`repository:${repo.repository}:pull`], ...(opts.signal ? { signal: opts.signal } : {}) });
  if (res.status !== 200) throw await c.error(res, { what, registry: repo.registry, notFound: 'blob' });
  if (Number(header(res, 'content-length') ?? NaN) > max) {
    res.body.destroy();
    throw tooLarge();
  }
  const parts: Buffer[] = [];
  let n = 0;
  try {
    // verifying() stops at the declared size (DigestMismatchError) before the limit matters.
    for await (const chunk of verifying(res.body, digest, what, opts.size)) {
      n += chunk.length;
      if (n > max) throw tooLarge();
      // Response chunks are Buffers already: keep them, never a second copy.
      parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    }
  } finally {
    res.body.destroy();
  }
  return Buffer.concat(parts);
}

export async function pushBlob(c: RegistryClient, repo: RepositoryRef, digest: string, size: number, body: RequestBody, opts: { mountFrom?: RepositoryRef; signal?: AbortSignal } = {}): Promise<void> {
  checkDigest(repo, digest);
  const what = `push blob ${formatRepository(repo)}@${digest}`;
  if (Buffer.isBuffer(body)) {
    const got = sha256(body);
    if (got !== digest) throw new DigestMismatchError(`${what}: the bytes have digest ${got}; refusing to upload them`);
    if (body.length !== size) throw new DigestMismatchError(`${what}: ${body.length} bytes, declared size ${size}`);
  }
  const sig = opts.signal ? { signal: opts.signal } : {};
  const once = async (): Promise<void> => {
    const s = await startUpload(c, repo, { digest, ...(opts.mountFrom ? { mountFrom: opts.mountFrom } : {}), ...sig });
    if (s.mounted) return;
    const stream = Buffer.isBuffer(body) ? body : verifying(body, digest, what, size);
    await completeUpload(c, repo, s.location, digest, size, stream, opts.signal);
  };
  // An in-memory body can be sent again; a stream is consumed by the first attempt.
  if (Buffer.isBuffer(body)) await withRetry(once, c.retry, opts.signal);
  else await once();
}
