// Blob upload sessions: POST (optionally a mount, from another repository or from the destination itself as an
// existence check), then one monolithic PUT ?digest= carrying the body (in memory or streamed); relative Location and
// an existing query string (?_state=…) are resolved against the request URL; a session that fails is cancelled with
// DELETE.
import type { RegistryClient } from './client';
import { DigestMismatchError, OciError } from './errors';
import { formatRepository, type RepositoryRef } from '../model';
import { discard, header, type HttpResponse, type RequestBody } from './transport';

export type StartResult = { mounted: true } | { mounted: false; location: URL };

export function uploadScopes(repo: RepositoryRef, mountFrom?: RepositoryRef): string[] {
  const s = [`repository:${repo.repository}:pull,push`];
  if (mountFrom && mountFrom.repository !== repo.repository) s.push(`repository:${mountFrom.repository}:pull`);
  return s;
}

function location(res: HttpResponse, what: string): URL {
  const loc = header(res, 'location');
  if (!loc) throw new OciError(`${what}: registry answered ${res.status} without a Location header`, { retryable: true });
  return new URL(loc, res.url);
}

/** Append `digest=` to a Location that may already carry a query string. */
export function withDigest(u: URL, digest: string): URL {
  const out = new URL(u.href);
  out.search = `${out.search ? `${out.search}&` : '?'}digest=${encodeURIComponent(digest)}`;
  return out;
}

/**
 * Open an upload session, or mount `digest` from `mountFrom` (same registry only) when given. `mountFrom` may be
 * `repo` itself: a self-mount checks and opens in one request (201: the blob is already there; 202: it is not, and
 * the session is open), where a HEAD then a POST would take two.
 */
export async function startUpload(c: RegistryClient, repo: RepositoryRef, opts: { digest?: string; mountFrom?: RepositoryRef; signal?: AbortSignal } = {}): Promise<StartResult> {
  const mount = opts.mountFrom && opts.digest && opts.mountFrom.registry === repo.registry ? opts.mountFrom : undefined;
  const q = mount ? `?mount=${encodeURIComponent(opts.digest!)}&from=${encodeURIComponent(mount.repository)}` : '';
  const what = `POST upload ${formatRepository(repo)}${mount ? ` (mount ${opts.digest} from ${mount.repository})` : ''}`;
  const res = await c.send(repo, { method: 'POST', path: `blobs/uploads/${q}`, scopes: uploadScopes(repo, mount), ...(opts.signal ? { signal: opts.signal } : {}) });
  if (res.status === 201 && mount) {
    await discard(res);
    return { mounted: true };
  }
  if (res.status !== 202) throw await c.error(res, { what, registry: repo.registry });
  await discard(res);
  return { mounted: false, location: location(res, what) };
}

export async function cancelUpload(c: RegistryClient, repo: RepositoryRef, loc: URL): Promise<void> {
  try {
    const res = await c.send(repo, { method: 'DELETE', path: loc, scopes: uploadScopes(repo) });
    await discard(res);
  } catch {
    // Best effort: the registry purges abandoned sessions eventually.
  }
}

/**
 * Bound a streamed body to its declared size: the request carries Content-Length, so a longer body would spill into
 * the next request on the connection and a shorter one would leave the registry waiting. Either fails the body
 * (the PUT is aborted, nothing committed) before a byte beyond `size` or a short end goes out.
 */
async function* exactly(body: AsyncIterable<Uint8Array>, size: number, what: string): AsyncGenerator<Uint8Array> {
  let n = 0;
  for await (const chunk of body) {
    n += chunk.length;
    if (n > size) throw new OciError(`${what}: the body is longer than its declared size ${size}; nothing was committed`);
    yield chunk;
  }
  if (n !== size) throw new OciError(`${what}: the body ended after ${n} of its declared ${size} bytes; nothing was committed`);
}

/**
 * Send the blob into an open session and commit it in the same request: one monolithic `PUT <location>&digest=`
 * with Content-Length (the distribution spec's monolithic push; CNCF distribution, zot and the referrers registry
 * accept it), never PATCH then PUT, which costs a request and a registry-side round trip more per blob. The caller
 * verifies a streamed body (e.g. with `verifying`, which holds its last chunk until the digest is checked); a
 * failing body aborts the PUT before it is complete, so nothing is committed. Cancels the session on error.
 */
export async function completeUpload(
  c: RegistryClient,
  repo: RepositoryRef,
  loc: URL,
  digest: string,
  size: number,
  body: RequestBody,
  signal?: AbortSignal,
  /** `reserved`: the body request rides on a slot the caller holds; `onSent`: called when the body has been sent. */
  opts: { reserved?: boolean; onSent?: () => void } = {},
): Promise<void> {
  const what = `upload ${formatRepository(repo)}@${digest}`;
  try {
    if (Buffer.isBuffer(body) && body.length !== size) throw new OciError(`${what}: ${body.length} bytes in memory, declared size ${size}`);
    const put = await c.send(repo, {
      method: 'PUT',
      path: withDigest(loc, digest),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body: Buffer.isBuffer(body) ? body : exactly(body, size, what),
      scopes: uploadScopes(repo),
      ...(signal ? { signal } : {}),
      ...(opts.reserved ? { reserved: true } : {}),
    });
    opts.onSent?.();
    if (put.status !== 201 && put.status !== 204 && put.status !== 200) throw await c.error(put, { what: `PUT ${what}`, registry: repo.registry });
    await discard(put);
    const got = header(put, 'docker-content-digest');
    if (got && got !== digest) throw new DigestMismatchError(`${what}: the registry committed digest ${got}, not the one uploaded`);
  } catch (e) {
    opts.onSent?.();
    await cancelUpload(c, repo, loc);
    throw e;
  }
}
