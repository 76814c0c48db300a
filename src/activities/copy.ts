// The copy activities: check that a source digest exists, and copy one image digest to one destination with its
// tags. Each destination is its own activity, so one slow or broken mirror never holds back the others. Progress
// (blobs and manifests done) is heartbeated, so a retry after a worker crash resumes instead of starting over.
import { Context } from '@temporalio/activity';
import { copyImage, headManifest, getManifest, ManifestUnknownError } from '../oci';
import { ImageIndex, repositoryIn } from '../model';
import type { CheckSourceInput, CopyActivityInput, CopyActivityResult, SourceInfo } from '../contract';
import { classify, SourceLostError, TagMoveError } from './failures';
import { requireSourceSignature } from './source-policy';
import type { RegistryScopes } from './credentials';
import { recordAttempt, recordCopy } from './metrics';

interface Heartbeat {
  done: string[];
  /** Blob bytes read from the source by this attempt (progress only; a retry resumes from `done`). */
  bytes?: number;
}

export function copyActivities(deps: { scopes: RegistryScopes; heartbeat?: () => void }) {
  const { scopes } = deps;
  return {
    async checkSource(input: CheckSourceInput): Promise<SourceInfo> {
      try {
        recordAttempt(Context.current());
        const client = scopes.clientFor(input.source);
        const repo = repositoryIn(input.source.registry, input.image);
        const head = await headManifest(client, repo, input.digest);
        if (!head) throw new SourceLostError(`${repo.registry}/${repo.repository}@${input.digest} is not in the source registry`);
        const evidence = input.requireSignedBy ? await requireSourceSignature(client, repo, input.digest, input.requireSignedBy) : undefined;
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
        const dst = repositoryIn(input.destination.registry, input.image);
        // A tag already pointing elsewhere is a tag move: refused before anything is written, unless allowed.
        if (!input.allowTagMove) {
          for (const tag of input.tags) {
            const cur = await headManifest(client, dst, tag);
            if (cur && cur.digest !== input.digest) {
              throw new TagMoveError(
                `tag move refused: ${dst.registry}/${dst.repository}:${tag} points to ${cur.digest}, the manifest asks for ${input.digest} (destination ${input.destination.name}); set allowTagMove on the image to allow it`,
              );
            }
          }
        }
        // Inside a batch the details are the batch's (its cursor), not this copy's: a retried copy there re-checks
        // what the destination has (blobs and manifests present are not sent again).
        const prior = deps.heartbeat ? [] : ((ctx.info.heartbeatDetails as Heartbeat | undefined)?.done ?? []);
        const done = new Set<string>(prior);
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
          result = await copyImage(client, src, [{ repo: dst, tags: input.tags }], {
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
        const wrote = d.blobsCopied + d.blobsMounted + d.manifestsWritten > 0;
        recordCopy(ctx, input.destination.name, d.bytesCopied, d.blobsCopied + d.blobsMounted);
        return { status: wrote ? 'promoted' : 'present', bytesCopied: d.bytesCopied, blobsCopied: d.blobsCopied + d.blobsMounted, manifestsWritten: d.manifestsWritten };
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
