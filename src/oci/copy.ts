// Copying an image or index by digest to many destinations. The plan: walk the source tree (children before
// parents), find per destination what is missing (checkpointed keys, a HEAD of the root; blobs are HEADed only above
// HEAD_FIRST_BYTES, smaller ones are checked by the POST that would open their upload, a self-mount), then move each
// missing blob with ONE source read teed to every destination registry that needs an upload (one monolithic PUT
// each), mount it everywhere else within a registry (and from the repository an earlier copy wrote it to, see
// placements.ts), then write manifests (exact bytes, children first by digest) and the root once: by its first tag,
// else by digest; then the other tags.
import { setMaxListeners } from 'node:events';
import type { RegistryClient } from './client';
import { blobExists, fetchBlob } from './blob';
import { limitHint, formatReference, formatRepository, isForeignLayer, type Descriptor, type Digest, type Reference, type RepositoryRef } from '../model';
import { concludeMismatch, DigestMismatchError, LimitExceededError, OciError } from './errors';
import { mapLimit } from './limits';
import { getManifest, headManifest, putManifest, writeManifest } from './manifest';
import { parseManifest } from './mediatypes';
import { backoff, sleep } from './retry';
import { Channel, pump } from './tee';
import { cancelUpload, completeUpload, startUpload } from './upload';

export interface CopyProgress {
  kind: 'blob' | 'manifest';
  digest: string;
  size: number;
  /** registry/repository */
  destination: string;
  skipped: boolean;
}

export interface DestinationResult {
  repo: RepositoryRef;
  tags: string[];
  blobsCopied: number;
  blobsSkipped: number;
  blobsMounted: number;
  bytesCopied: number;
  manifestsWritten: number;
}

export interface CopyResult {
  digest: string;
  destinations: DestinationResult[];
}

export interface CopyOptions {
  onProgress?: (p: CopyProgress) => void;
  signal?: AbortSignal;
  /** `"registry/repository|digest"` keys already checkpointed: skipped without even a HEAD. */
  done?: ReadonlySet<string>;
  /** Called as blob bytes move from the source (so a caller can report liveness only while bytes move). */
  onBytes?: (n: number) => void;
}

interface ManifestNode {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
  size: number;
}

interface SourceTree {
  /** Post-order: every child before the index that lists it; the root last. */
  manifests: ManifestNode[];
  blobs: Map<string, Descriptor>;
}

interface Dest {
  repo: RepositoryRef;
  key: string;
  tags: string[];
  result: DestinationResult;
  needBlobs: Set<string>;
  /** Of needBlobs, those not HEADed (at most headFirstBytes): the opening POST self-mounts to check them. */
  unchecked: Set<string>;
  needManifests: ManifestNode[];
}

/** An open upload session at one destination. */
interface Session {
  d: Dest;
  loc: URL;
}

/**
 * The source tree under `digest`, bounded by the source registry's limits before anything is written: index depth,
 * manifests below the root, and the declared bytes of its blobs (a hostile registry can serve an index chain 10,000
 * deep or an index of thousands of children).
 */
async function walk(c: RegistryClient, src: RepositoryRef, digest: Digest, signal: AbortSignal): Promise<SourceTree> {
  const limits = c.limitsFor(src.registry);
  const root = `${formatRepository(src)}@${digest}`;
  const manifests: ManifestNode[] = [];
  const blobs = new Map<string, Descriptor>();
  const seen = new Set<string>();
  let children = 0;
  let bytes = 0;
  const visit = async (d: Digest, depth: number): Promise<ManifestNode[]> => {
    if (seen.has(d)) return [];
    seen.add(d);
    const m = await getManifest(c, src, d, signal);
    const node: ManifestNode = { digest: m.digest, mediaType: m.mediaType, bytes: m.bytes, size: m.bytes.length };
    const parsed = parseManifest(m.bytes, m.mediaType, `${formatRepository(src)}@${d}`);
    if (parsed.kind === 'image') {
      for (const b of [parsed.manifest.config, ...parsed.manifest.layers]) {
        if (isForeignLayer(b) || blobs.has(b.digest)) continue;
        blobs.set(b.digest, b);
        bytes += b.size;
        if (bytes > limits.maxCopyBytes) throw new LimitExceededError(`copy ${root}: its blobs declare more than ${limits.maxCopyBytes} bytes; ${limitHint(src.registry, 'maxCopyBytes')}`);
      }
      return [node];
    }
    if (depth >= limits.maxIndexDepth) throw new LimitExceededError(`copy ${root}: indexes nested deeper than ${limits.maxIndexDepth} levels; ${limitHint(src.registry, 'maxIndexDepth')}`);
    children += parsed.index.manifests.length;
    if (children > limits.maxIndexChildren) throw new LimitExceededError(`copy ${root}: more than ${limits.maxIndexChildren} manifests below it; ${limitHint(src.registry, 'maxIndexChildren')}`);
    const below = await mapLimit(parsed.index.manifests, 8, (child) => visit(child.digest as Digest, depth + 1));
    return [...below.flat(), node];
  };
  manifests.push(...(await visit(digest, 0)));
  return { manifests, blobs };
}

async function* counting(source: AsyncIterable<Uint8Array>, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    onBytes(chunk.length);
    yield chunk;
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new OciError('copy aborted', { code: 'ABORTED' });
}

export async function copyImage(
  c: RegistryClient,
  src: Reference,
  dsts: Array<{ repo: RepositoryRef; tags: string[] }>,
  opts: CopyOptions = {},
): Promise<CopyResult> {
  if (!src.digest) throw new OciError(`copy source ${formatReference(src)} has no digest: promotion is by digest only`);
  const rootDigest = src.digest;
  const srcRepo: RepositoryRef = { registry: src.registry, repository: src.repository };
  // The caller's signal cancels everything in flight. A failure stops new work; blob transfers already in flight
  // finish first (their progress is reported, so a retry resumes from them), then the first error is thrown.
  const ac = new AbortController();
  // Every in-flight request listens on this one signal.
  setMaxListeners(0, ac.signal);
  const onOuterAbort = (): void => ac.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (opts.signal?.aborted) ac.abort(opts.signal.reason);
  const signal = ac.signal;
  const done = opts.done ?? new Set<string>();
  const progress = (p: CopyProgress): void => opts.onProgress?.(p);
  const onBytes = opts.onBytes ?? ((): void => undefined);

  try {
    const tree = await walk(c, srcRepo, rootDigest, signal);
    const root = tree.manifests[tree.manifests.length - 1]!;
    const dests: Dest[] = dsts.map((d) => ({
      repo: d.repo,
      key: formatRepository(d.repo),
      tags: [...d.tags],
      result: { repo: d.repo, tags: [...d.tags], blobsCopied: 0, blobsSkipped: 0, blobsMounted: 0, bytesCopied: 0, manifestsWritten: 0 },
      needBlobs: new Set(),
      unchecked: new Set(),
      needManifests: [],
    }));

    // What each destination lacks.
    await mapLimit(dests, 8, async (d) => {
      const rootThere = done.has(`${d.key}|${root.digest}`) || (await headManifest(c, d.repo, root.digest, signal)) !== undefined;
      if (rootThere) {
        // A registry accepts a manifest only once everything it references is there: nothing below it is missing.
        for (const b of tree.blobs.values()) {
          d.result.blobsSkipped++;
          progress({ kind: 'blob', digest: b.digest, size: b.size, destination: d.key, skipped: true });
        }
        for (const m of tree.manifests) progress({ kind: 'manifest', digest: m.digest, size: m.size, destination: d.key, skipped: true });
        return;
      }
      await mapLimit([...tree.blobs.values()], 8, async (b) => {
        if (done.has(`${d.key}|${b.digest}`)) {
          d.result.blobsSkipped++;
          progress({ kind: 'blob', digest: b.digest, size: b.size, destination: d.key, skipped: true });
        } else if (b.size <= c.headFirstBytes) {
          // No HEAD: the POST that opens its upload checks it (see transferBlob).
          d.needBlobs.add(b.digest);
          d.unchecked.add(b.digest);
        } else if (await blobExists(c, d.repo, b.digest, signal)) {
          d.result.blobsSkipped++;
          progress({ kind: 'blob', digest: b.digest, size: b.size, destination: d.key, skipped: true });
        } else {
          d.needBlobs.add(b.digest);
        }
      });
      const children = tree.manifests.slice(0, -1);
      const present = await mapLimit(children, 8, async (m) => done.has(`${d.key}|${m.digest}`) || (await headManifest(c, d.repo, m.digest, signal)) !== undefined);
      children.forEach((m, i) => {
        if (present[i]) progress({ kind: 'manifest', digest: m.digest, size: m.size, destination: d.key, skipped: true });
        else d.needManifests.push(m);
      });
      d.needManifests.push(root);
    });

    // Blobs: biggest first so the long transfers start early.
    const blobs = [...tree.blobs.values()].filter((b) => dests.some((d) => d.needBlobs.has(b.digest))).sort((a, b) => b.size - a.size);
    await mapLimit(blobs, c.copyConcurrency, (b) =>
      transferBlob(c, srcRepo, b, dests.filter((d) => d.needBlobs.has(b.digest)), signal, progress, onBytes),
    );

    // Manifests, children first (by digest), then the root, then tags; destinations in parallel.
    await mapLimit(dests, 8, async (d) => {
      let tags = d.tags;
      for (const m of d.needManifests) {
        // The root is written once: by its first tag when it has tags (the registry then holds it by digest too),
        // else by digest. Children of an index have no tags: by digest.
        const tag = m === root ? tags[0] : undefined;
        const w = await writeManifest(c, d.repo, tag ?? m.digest, { bytes: m.bytes, mediaType: m.mediaType }, signal);
        if (w.digest !== m.digest) throw new DigestMismatchError(`${d.key}: wrote ${m.digest} but got ${w.digest}`);
        if (tag !== undefined) {
          tags = tags.slice(1);
          // Without the registry's Docker-Content-Digest, ask it once that the manifest is there by digest.
          if (!w.confirmed && (await headManifest(c, d.repo, m.digest, signal))?.digest !== m.digest) {
            throw new DigestMismatchError(`${d.key}: wrote ${m.digest} as tag ${tag}, but the registry does not hold it by that digest`);
          }
        }
        d.result.manifestsWritten++;
        progress({ kind: 'manifest', digest: m.digest, size: m.size, destination: d.key, skipped: false });
      }
      for (const t of tags) await putManifest(c, d.repo, t, { bytes: root.bytes, mediaType: root.mediaType }, signal);
    });
    return { digest: root.digest, destinations: dests.map((d) => d.result) };
  } catch (e) {
    if (!ac.signal.aborted) ac.abort(e);
    if (opts.signal?.aborted && !(e instanceof OciError)) throw abortError(opts.signal);
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
}

/** Cancel sessions that will not be used (best effort: the registry purges abandoned ones eventually). */
async function cancelSessions(c: RegistryClient, sessions: readonly Session[]): Promise<void> {
  await Promise.all(sessions.map((s) => cancelUpload(c, s.d.repo, s.loc)));
}

/**
 * Open an upload session per destination with one POST each, mounting `from` where given (201: mounted, or, from
 * the destination itself, already there; reported through `onMounted`). If any POST fails, the sessions the others
 * opened are cancelled before the first failure is thrown.
 */
async function openSessions(c: RegistryClient, digest: string, items: ReadonlyArray<{ d: Dest; from: RepositoryRef | undefined }>, signal: AbortSignal, onMounted: (d: Dest, from: RepositoryRef) => void): Promise<Session[]> {
  const settled = await Promise.allSettled(items.map(({ d, from }) => startUpload(c, d.repo, { digest, ...(from ? { mountFrom: from } : {}), signal })));
  const out: Session[] = [];
  let failure: { reason: unknown } | undefined;
  settled.forEach((r, i) => {
    const { d, from } = items[i]!;
    if (r.status === 'rejected') failure ??= { reason: r.reason };
    else if (r.value.mounted) onMounted(d, from!);
    else out.push({ d, loc: r.value.location });
  });
  if (failure) {
    await cancelSessions(c, out);
    throw failure.reason;
  }
  return out;
}

/**
 * Move one blob to every destination that lacks it. Destinations on the source registry mount from the source
 * repository; elsewhere one repository per registry receives the upload (all of them from one source read) and the
 * others mount from it. A destination not known to lack the blob (not HEADed, see HEAD_FIRST_BYTES) and with no
 * repository to mount from self-mounts: one POST answers 201 (it is there) or 202 (the session for its upload).
 * Mount refusals and retryable upload failures fall back to further (bounded) tee rounds.
 */
async function transferBlob(c: RegistryClient, src: RepositoryRef, b: Descriptor, dests: Dest[], signal: AbortSignal, progress: (p: CopyProgress) => void, onBytes: (n: number) => void): Promise<void> {
  const onMounted = (d: Dest, from: RepositoryRef): void => {
    if (from.repository === d.repo.repository) d.result.blobsSkipped++;
    else d.result.blobsMounted++;
    progress({ kind: 'blob', digest: b.digest, size: b.size, destination: d.key, skipped: from.repository === d.repo.repository });
  };
  // Open sessions (or mount); returns destinations still needing bytes, with their session.
  const open = (ds: Dest[], from: (d: Dest) => RepositoryRef | undefined): Promise<Session[]> =>
    openSessions(c, b.digest, ds.map((d) => ({ d, from: from(d) ?? (d.unchecked.has(b.digest) ? d.repo : undefined) })), signal, onMounted);

  const byRegistry = new Map<string, Dest[]>();
  for (const d of dests) {
    if (d.repo.registry === src.registry) continue;
    const l = byRegistry.get(d.repo.registry) ?? [];
    l.push(d);
    byRegistry.set(d.repo.registry, l);
  }
  const primaries = [...byRegistry.values()].map((l) => l[0]!);
  const secondaries = [...byRegistry.values()].flatMap((l) => l.slice(1).map((d) => ({ d, from: l[0]!.repo })));

  // A registry that got this blob from an earlier copy (another repository) mounts it from there; one whose
  // transfer another copy has in flight waits for it (after ours, holding no claim) and then mounts.
  const placement = new Map(primaries.map((d) => [d, c.placements.claim(d.repo.registry, b.digest)] as const));
  const busy = primaries.filter((d) => placement.get(d)!.kind === 'busy');
  const fromFirst = (d: Dest): RepositoryRef | undefined => {
    if (d.repo.registry === src.registry) return src;
    const p = placement.get(d);
    return p?.kind === 'known' ? p.from : undefined;
  };
  let wrote = false;
  let sessions: Session[];
  try {
    sessions = await open(
      dests.filter((d) => d.repo.registry === src.registry || (placement.has(d) && !busy.includes(d))),
      fromFirst,
    );
    await teeUpload(c, src, b, sessions, signal, progress, onBytes);
    wrote = true;
  } finally {
    for (const [d, p] of placement) if (p.kind === 'claimed') p.release(wrote ? d.repo : undefined);
  }
  if (busy.length) {
    await Promise.all(busy.map((d) => (placement.get(d) as { settled: Promise<void> }).settled));
    sessions = await open(busy, (d) => c.placements.lookup(d.repo.registry, b.digest));
    await teeUpload(c, src, b, sessions, signal, progress, onBytes);
    for (const d of busy) c.placements.record(d.repo, b.digest);
  }
  // Secondaries mount from their registry's primary, which now has the blob.
  const fromOf = new Map(secondaries.map((s) => [s.d, s.from]));
  sessions = await open(secondaries.map((s) => s.d), (d) => fromOf.get(d));
  await teeUpload(c, src, b, sessions, signal, progress, onBytes);
}

/**
 * Feed the open sessions from one source read; retryable failures get fresh sessions and another round. Every
 * session handed in is either committed or cancelled.
 */
async function teeUpload(c: RegistryClient, src: RepositoryRef, b: Descriptor, initial: Session[], signal: AbortSignal, progress: (p: CopyProgress) => void, onBytes: (n: number) => void): Promise<void> {
  let pending = initial;
  // Wrong source bytes are re-read (a fresh tee round); the same wrong bytes twice are the source's, a verdict.
  const mismatches = new Set<string>();
  for (let attempt = 0; pending.length > 0; attempt++) {
    let slots: Map<string, () => void>;
    try {
      if (signal.aborted) throw abortError(signal);
      // One slot per registry involved (source included), taken together in one order; a destination's is held
      // until its bodies are sent, the source's until the download has started.
      slots = await c.reserveStreams([src.registry, ...pending.map((p) => p.d.repo.registry)], signal);
    } catch (e) {
      await cancelSessions(c, pending);
      throw e;
    }
    const channels = pending.map(() => new Channel());
    const waiting = new Map<string, number>();
    for (const p of pending) waiting.set(p.d.repo.registry, (waiting.get(p.d.repo.registry) ?? 0) + 1);
    const sent = (registry: string): void => {
      const n = (waiting.get(registry) ?? 1) - 1;
      waiting.set(registry, n);
      if (n === 0) slots.get(registry)?.();
    };
    const uploads = pending.map(async ({ d, loc }, i) => {
      const ch = channels[i]!;
      let once = false;
      const onSent = (): void => {
        if (!once) sent(d.repo.registry);
        once = true;
      };
      try {
        // The source stream is verified once, in fetchBlob; a mismatch fails every channel before it ends.
        await completeUpload(c, d.repo, loc, b.digest, b.size, ch, signal, { reserved: true, onSent });
        d.result.blobsCopied++;
        d.result.bytesCopied += b.size;
        progress({ kind: 'blob', digest: b.digest, size: b.size, destination: d.key, skipped: false });
      } finally {
        onSent();
        ch.abandon();
      }
    });
    // An upload may fail while the source is still being read (a stalled destination): its rejection is collected
    // by allSettled below, not an unhandled one meanwhile.
    for (const u of uploads) u.catch(() => undefined);
    let sourceError: unknown;
    try {
      const fetch = async (): Promise<AsyncIterable<Uint8Array>> => {
        const s = await fetchBlob(c, src, b.digest, { size: b.size, signal, reserved: true });
        if (!waiting.has(src.registry)) slots.get(src.registry)?.();
        return s;
      };
      const body = c.blobCache ? await c.blobCache.open(b.digest, b.size, fetch) : await fetch();
      // A cache hit never touched the source: its slot goes back now.
      if (!waiting.has(src.registry)) slots.get(src.registry)?.();
      await pump(counting(body, onBytes), channels);
    } catch (e) {
      sourceError = e;
      for (const ch of channels) ch.fail(e);
    }
    const results = await Promise.allSettled(uploads);
    for (const release of slots.values()) release();
    concludeMismatch(sourceError, mismatches);
    if (sourceError !== undefined && (!(sourceError instanceof OciError) || !sourceError.retryable)) throw sourceError;
    const failed: Array<{ d: Dest; err: unknown }> = [];
    results.forEach((r, i) => {
      if (r.status === 'rejected') failed.push({ d: pending[i]!.d, err: r.reason });
    });
    if (failed.length === 0) return;
    // After a transient source failure (bytes read wrong or cut off), a destination's refusal is that failure's echo:
    // it may have received the whole wrong body before the source's digest check ended the stream (400
    // DIGEST_INVALID). Only uploads fed by a good source read can fail on their own account.
    const fatal = sourceError === undefined ? failed.find((f) => !(f.err instanceof OciError) || !f.err.retryable) : undefined;
    if (fatal || attempt + 1 >= c.retry.maxAttempts) throw (fatal ?? failed[0]!).err;
    await sleep(backoff(attempt, c.retry), signal);
    // Fresh sessions (the failed ones were cancelled), each opened by a self-mount: a PUT whose answer was lost may
    // have committed the blob (201, nothing to send again).
    pending = await openSessions(c, b.digest, failed.map(({ d }) => ({ d, from: d.repo })), signal, (d) => {
      d.result.blobsCopied++;
      d.result.bytesCopied += b.size;
      progress({ kind: 'blob', digest: b.digest, size: b.size, destination: d.key, skipped: false });
    });
  }
}
