// Blob upload sessions: POST (optionally a cross-repository mount), streamed PATCH then PUT ?digest=, or one
// monolithic PUT for small in-memory blobs; relative Location and an existing query string (?_state=…) are resolved
// against the request URL; a session that fails is cancelled with DELETE.
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

/** Open an upload session, or mount `digest` from `mountFrom` (same registry only) when given. */
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
 * Send the blob into an open session and commit it with PUT ?digest=. The caller verifies a streamed body
 * (e.g. with `verifying`), whose failure aborts the PATCH so the commit never happens. Cancels the session on error.
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
  const sig = signal ? { signal } : {};
  const reserved = opts.reserved ? { reserved: true } : {};
  try {
    let put: HttpResponse;
    if (Buffer.isBuffer(body) && body.length <= c.monolithicMaxBytes) {
      put = await c.send(repo, { method: 'PUT', path: withDigest(loc, digest), headers: { 'content-type': 'application/octet-stream' }, body, scopes: uploadScopes(repo), ...sig, ...reserved });
      opts.onSent?.();
    } else {
      const patch = await c.send(repo, {
        method: 'PATCH',
        path: loc,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size), ...(size > 0 ? { 'content-range': `0-${size - 1}` } : {}) },
        body,
        scopes: uploadScopes(repo),
        ...sig,
        ...reserved,
      });
      opts.onSent?.();
      if (patch.status !== 202 && patch.status !== 204) throw await c.error(patch, { what: `PATCH ${what}`, registry: repo.registry });
      await discard(patch);
      const next = header(patch, 'location') ? location(patch, what) : loc;
      put = await c.send(repo, { method: 'PUT', path: withDigest(next, digest), scopes: uploadScopes(repo), ...sig });
    }
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
