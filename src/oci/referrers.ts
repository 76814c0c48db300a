// Referrers of a subject digest: the OCI referrers API when the registry has it, else the referrers tag schema
// (`sha256-<hex>` tag holding an OCI index), maintained by read-modify-write serialised per subject in this process
// and re-checked after each write, since distribution offers no conditional PUT to guard against other writers.
import type { RegistryClient } from './client';
import { formatRepository, ImageIndex, isDigest, OCI_INDEX, referrersTag as referrersTagOf, type Descriptor, type Digest, type RepositoryRef } from '../model';
import { sha256 } from './digest';
import { ManifestUnknownError, OciError, ReadMismatchError } from './errors';
import { rereading } from './retry';
import { getManifest, putManifest } from './manifest';
import { parseManifest } from './mediatypes';
import { discard, header, readBody } from './transport';

/** The referrers-schema tag of a subject; a subject that is not a digest is an OciError here (not retryable). */
function referrersTag(subject: string): string {
  if (!isDigest(subject)) throw new OciError(`referrers: subject ${JSON.stringify(subject)} is not a sha256 digest`);
  return referrersTagOf(subject);
}

const support = new WeakMap<RegistryClient, Map<string, boolean>>();

async function viaApi(c: RegistryClient, repo: RepositoryRef, subject: string, artifactType: string | undefined, signal?: AbortSignal): Promise<Descriptor[] | undefined> {
  const known = support.get(c)?.get(repo.registry);
  if (known === false) return undefined;
  const q = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
  const what = `referrers of ${formatRepository(repo)}@${subject}`;
  const remember = (has: boolean): void => {
    if (!support.has(c)) support.set(c, new Map());
    support.get(c)!.set(repo.registry, has);
  };
  // An index garbled or cut off in transit is read again; the same invalid body twice is the registry's answer.
  return rereading(async () => {
    const res = await c.send(repo, { method: 'GET', path: `referrers/${subject}${q}`, headers: { accept: OCI_INDEX }, scopes: [`repository:${repo.repository}:pull`], ...(signal ? { signal } : {}) });
    const ct = header(res, 'content-type')?.split(';')[0]?.trim();
    if (res.status !== 200 || ct !== OCI_INDEX) {
      // 404 (or anything that is not an index) means no referrers API: use the tag schema from now on.
      if (res.status === 404 || res.status === 405 || (res.status === 200 && ct !== OCI_INDEX)) {
        await discard(res);
        remember(false);
        return undefined;
      }
      throw await c.error(res, { what, registry: repo.registry });
    }
    const body = await readBody(res, 4 << 20);
    let idx: ImageIndex;
    try {
      idx = ImageIndex.parse(JSON.parse(body.toString('utf8')));
    } catch {
      throw new ReadMismatchError(`${what}: the registry returned an invalid referrers index`, sha256(body));
    }
    remember(true);
    const filtered = header(res, 'oci-filters-applied')?.includes('artifactType');
    return artifactType && !filtered ? idx.manifests.filter((d) => d.artifactType === artifactType) : idx.manifests;
  }, c.retry, signal);
}

async function readFallback(c: RegistryClient, repo: RepositoryRef, subject: string, signal?: AbortSignal): Promise<Descriptor[]> {
  try {
    const m = await getManifest(c, repo, referrersTag(subject), signal);
    const p = parseManifest(m.bytes, m.mediaType, `${formatRepository(repo)}:${referrersTag(subject)}`);
    return p.kind === 'index' ? p.index.manifests : [];
  } catch (e) {
    if (e instanceof ManifestUnknownError) return [];
    throw e;
  }
}

/** Referrers of `subject` in `repo`, optionally only those of one artifactType. */
export async function listReferrers(c: RegistryClient, repo: RepositoryRef, subject: string, opts: { artifactType?: string; signal?: AbortSignal } = {}): Promise<Descriptor[]> {
  referrersTag(subject);
  const api = await viaApi(c, repo, subject, opts.artifactType, opts.signal);
  if (api) return api;
  const all = await readFallback(c, repo, subject, opts.signal);
  return opts.artifactType ? all.filter((d) => d.artifactType === opts.artifactType) : all;
}

const locks = new Map<string, Promise<unknown>>();

/** Run `fn` after every earlier call with the same key has settled. */
async function serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  locks.set(key, tail);
  try {
    return await run;
  } finally {
    if (locks.get(key) === tail) locks.delete(key);
  }
}

/** The descriptor under which a referrer manifest is listed (artifactType falls back to the config media type). */
export function referrerDescriptor(m: { bytes: Buffer; mediaType: string }): { descriptor: Descriptor; subject: string } {
  const p = parseManifest(m.bytes, m.mediaType, 'referrer');
  const body = p.kind === 'image' ? p.manifest : p.index;
  if (!body.subject) throw new OciError('referrer manifest has no subject');
  const artifactType = body.artifactType ?? (p.kind === 'image' ? p.manifest.config.mediaType : undefined);
  const d: Descriptor = { mediaType: m.mediaType, digest: sha256(m.bytes), size: m.bytes.length };
  if (artifactType) d.artifactType = artifactType;
  if (body.annotations && Object.keys(body.annotations).length) d.annotations = body.annotations;
  return { descriptor: d, subject: body.subject.digest };
}

/**
 * Push a manifest that has a `subject`, and make it discoverable: a registry with the referrers API indexes it
 * itself; otherwise add it to the `sha256-<hex>` fallback index (merge, never duplicate).
 */
export async function pushReferrer(c: RegistryClient, repo: RepositoryRef, m: { bytes: Buffer; mediaType: string }, signal?: AbortSignal): Promise<Digest> {
  const { descriptor, subject } = referrerDescriptor(m);
  const digest = await putManifest(c, repo, descriptor.digest, m, signal);
  const api = await viaApi(c, repo, subject, undefined, signal);
  if (api) return digest;
  await addToFallbackIndex(c, repo, subject, descriptor, signal);
  return digest;
}

export async function addToFallbackIndex(c: RegistryClient, repo: RepositoryRef, subject: string, d: Descriptor, signal?: AbortSignal): Promise<void> {
  const tag = referrersTag(subject);
  await serialised(`${formatRepository(repo)}|${subject}`, async () => {
    // Re-read after writing: another process may have written in between (no If-Match on distribution).
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await readFallback(c, repo, subject, signal);
      if (current.some((x) => x.digest === d.digest)) return;
      const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...current, d] };
      await putManifest(c, repo, tag, { bytes: Buffer.from(JSON.stringify(index)), mediaType: OCI_INDEX }, signal);
      const after = await readFallback(c, repo, subject, signal);
      if (after.some((x) => x.digest === d.digest)) return;
    }
    throw new OciError(`${formatRepository(repo)}:${tag}: the referrers index kept changing under us; retry`, { retryable: true });
  });
}
