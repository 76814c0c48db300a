// The copy activities: check that a source digest exists, and copy one image digest to one destination with its
// tags. Each destination is its own activity, so one slow or broken mirror never holds back the others. Progress
// (blobs and manifests done) is heartbeated, so a retry after a worker crash resumes instead of starting over.
// Batch activities copy one digest to many destinations at once (copyToDestinations): one source read for all.
import { Context } from '@temporalio/activity';
import { copyImage, headManifest, getManifest, ManifestUnknownError, type DestinationResult, type RegistryClient } from '../oci';
import { formatRepository, ImageIndex, repositoryIn, type RepositoryRef } from '../model';
import type { CheckSourceInput, CopyActivityInput, CopyActivityResult, DestinationRef, SourceInfo } from '../contract';
import { classify, SourceLostError, TagMoveError } from './failures';
import { requireSourceSignature } from './source-policy';
import type { RegistryScopes } from './credentials';
import { recordAttempt, recordCopy } from './metrics';
import type { KeyRing } from '../signing';

interface Heartbeat {
  done: string[];
  /** Blob bytes read from the source by this attempt (progress only; a retry resumes from `done`). */
  bytes?: number;
}

/** Where a copy went: its outcome or the (classified) failure of that destination alone. */
export type DestinationCopy = { ok: true; result: CopyActivityResult } | { ok: false; error: unknown };

const resultOf = (d: DestinationResult): CopyActivityResult => ({
  status: d.blobsCopied + d.blobsMounted + d.manifestsWritten > 0 ? 'promoted' : 'present',
  bytesCopied: d.bytesCopied,
  blobsCopied: d.blobsCopied + d.blobsMounted,
  manifestsWritten: d.manifestsWritten,
});

/**
 * A tag already pointing elsewhere is a tag move: refused before anything is written, unless allowed. Returns what
 * the HEADs found in place (the tags already pointing at the digest), so the copy neither HEADs the digest again
 * when every tag proves it nor rewrites those tags.
 */
async function refuseTagMove(client: RegistryClient, input: Omit<CopyActivityInput, 'destination'>, destination: DestinationRef): Promise<Placed> {
  const dst = repositoryIn(destination.registry, input.image);
  if (input.allowTagMove) return { repo: dst, tags: input.tags, done: [] };
  const have = new Set<string>();
  for (const tag of input.tags) {
    const cur = await headManifest(client, dst, tag);
    if (cur && cur.digest !== input.digest) {
      throw new TagMoveError(
        `tag move refused: ${dst.registry}/${dst.repository}:${tag} points to ${cur.digest}, the manifest asks for ${input.digest} (destination ${destination.name}); set allowTagMove on the image to allow it`,
      );
    }
    if (cur) have.add(tag);
  }
  return { repo: dst, tags: input.tags.filter((t) => !have.has(t)), done: have.size > 0 ? [`${formatRepository(dst)}|${input.digest}`] : [] };
}

/** One destination as the copy sees it after the tag check: the tags still to write, and copy keys proven done. */
interface Placed {
  repo: RepositoryRef;
  tags: string[];
  done: string[];
}

export function copyActivities(deps: { scopes: RegistryScopes; heartbeat?: () => void; keys?: KeyRing }) {
  const { scopes } = deps;
  return {
    async checkSource(input: CheckSourceInput): Promise<SourceInfo> {
      try {
        recordAttempt(Context.current());
        const client = scopes.clientFor(input.source);
        const repo = repositoryIn(input.source.registry, input.image);
        const head = await headManifest(client, repo, input.digest);
        if (!head) throw new SourceLostError(`${repo.registry}/${repo.repository}@${input.digest} is not in the source registry`);
        const evidence = input.requireSignedBy ? await requireSourceSignature(client, repo, input.digest, input.requireSignedBy, deps.keys) : undefined;
        const m = await getManifest(client, repo, input.digest);
        // The children of an index (an image manifest has none); copyImage rejects a malformed manifest itself.
        const index = ImageIndex.safeParse(JSON.parse(m.bytes.toString('utf8')));
        const children = index.success ? index.data.manifests : [];
        return {
          mediaType: m.mediaType,
          children: children.map((c) => c.digest),
          descriptors: [{ digest: input.digest, size: m.bytes.length, mediaType: m.mediaType }, ...children.map((c) => ({ digest: c.digest, size: c.size, mediaType: c.mediaType }))],
          ...(evidence ? { sourceEvidence: evidence } : {}),
        };
      } catch (e) {
        throw classify(e);
      }
    },

    async copyToDestination(input: CopyActivityInput): Promise<CopyActivityResult> {
      const ctx = Context.current();
      recordAttempt(ctx);
      try {
        const client = scopes.clientFor(input.source, input.destination);
        const src = { ...repositoryIn(input.source.registry, input.image), digest: input.digest as `sha256:${string}` };
        const placed = await refuseTagMove(client, input, input.destination);
        // Inside a batch the details are the batch's (its cursor), not this copy's: a retried copy there re-checks
        // what the destination has (blobs and manifests present are not sent again).
        const prior = deps.heartbeat ? [] : ((ctx.info.heartbeatDetails as Heartbeat | undefined)?.done ?? []);
        const done = new Set<string>([...prior, ...placed.done]);
        // Progress events come per blob; a single large blob still needs a pulse, or it would look like a dead worker.
        // The pulse beats only when bytes moved since the last one: a stalled transfer stops heartbeating, so
        // Temporal's heartbeat timeout ends the attempt instead of a timer keeping a dead transfer alive.
        let moved = 0;
        let reported = 0;
        const beat = () => {
          reported = moved;
          if (deps.heartbeat) deps.heartbeat();
          else ctx.heartbeat({ done: [...done], bytes: moved } satisfies Heartbeat);
        };
        const pulse = setInterval(() => moved !== reported && beat(), Math.min(5000, Math.max(100, (ctx.info.heartbeatTimeoutMs ?? 15_000) / 3)));
        let result;
        try {
          result = await copyImage(client, src, [{ repo: placed.repo, tags: placed.tags }], {
            done,
            signal: ctx.cancellationSignal,
            onBytes: (n) => (moved += n),
            onProgress: (p) => {
              done.add(`${p.destination}|${p.digest}`);
              beat();
            },
          });
        } finally {
          clearInterval(pulse);
        }
        const d = result.destinations[0]!;
        recordCopy(ctx, input.destination.name, d.bytesCopied, d.blobsCopied + d.blobsMounted);
        return resultOf(d);
      } catch (e) {
        // Runs without signing or a source policy skip checkSource: an unknown manifest is then a lost source
        // when the source really lacks the digest (one HEAD, on the error path only).
        if (e instanceof ManifestUnknownError) {
          const repo = repositoryIn(input.source.registry, input.image);
          if (!(await (async () => headManifest(scopes.clientFor(input.source), repo, input.digest))().catch(() => 'unknown'))) {
            throw classify(new SourceLostError(`${repo.registry}/${repo.repository}@${input.digest} is not in the source registry`));
          }
        }
        throw classify(e);
      }
    },
  };
}

/**
 * One digest to many destinations inside a batch activity: one copyImage for all of them, so the source tree
 * is read once, each blob is read once and teed to every destination (mounted within a registry), and nothing
 * is HEADed per destination twice. A destination refusing a tag move is settled first and left out. If the
 * shared copy fails, each remaining destination is copied on its own (copyToDestination), so one broken
 * destination never fails the others; those copies find what the shared one already wrote.
 */
export function copyToDestinations(deps: { scopes: RegistryScopes; heartbeat?: () => void }) {
  const { scopes } = deps;
  const activities = copyActivities(deps);
  return async (input: Omit<CopyActivityInput, 'destination'> & { destinations: DestinationRef[]; signal?: AbortSignal }): Promise<DestinationCopy[]> => {
    const ctx = Context.current();
    const out: DestinationCopy[] = new Array<DestinationCopy>(input.destinations.length);
    const single = async (i: number): Promise<void> => {
      try {
        out[i] = { ok: true, result: await activities.copyToDestination({ image: input.image, digest: input.digest, tags: input.tags, allowTagMove: input.allowTagMove, source: input.source, destination: input.destinations[i]! }) };
      } catch (e) {
        out[i] = { ok: false, error: e };
      }
    };
    if (input.destinations.length < 2) {
      await Promise.all(input.destinations.map((_, i) => single(i)));
      return out;
    }
    let client: RegistryClient;
    try {
      client = scopes.clientFor(input.source, ...input.destinations);
    } catch (e) {
      return input.destinations.map(() => ({ ok: false, error: classify(e) }));
    }
    const go: number[] = [];
    const placed = new Map<number, Placed>();
    await Promise.all(
      input.destinations.map(async (d, i) => {
        try {
          placed.set(i, await refuseTagMove(client, input, d));
          go.push(i);
        } catch (e) {
          out[i] = { ok: false, error: classify(e) };
        }
      }),
    );
    go.sort((a, b) => a - b);
    try {
      recordAttempt(ctx);
      const src = { ...repositoryIn(input.source.registry, input.image), digest: input.digest as `sha256:${string}` };
      const dsts = go.map((i) => placed.get(i)!);
      const r = await copyImage(client, src, dsts.map((p) => ({ repo: p.repo, tags: p.tags })), { signal: input.signal ?? ctx.cancellationSignal, done: new Set(dsts.flatMap((p) => p.done)) });
      r.destinations.forEach((d, k) => {
        recordCopy(ctx, input.destinations[go[k]!]!.name, d.bytesCopied, d.blobsCopied + d.blobsMounted);
        out[go[k]!] = { ok: true, result: resultOf(d) };
      });
    } catch (e) {
      // Cancelled: every destination of the shared copy is accounted with the cancellation, as its own copy would be.
      if ((input.signal ?? ctx.cancellationSignal).aborted) for (const i of go) out[i] = { ok: false, error: classify(e) };
      else await Promise.all(go.map(single));
    }
    return out;
  };
}
