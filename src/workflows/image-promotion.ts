// ImagePromotion: one image digest, one phase's destinations. Checks the source once, then one copy activity per
// destination in parallel; a failure at one destination never stops the others. When the run signs: sign and
// attest once at the signing home (the digest and, for an index, each child), replicate the signature images to
// the phase's other destinations, and verify them at every destination; a destination whose signatures do not
// verify is failed, never counted as promoted. Returns an outcome per destination. Large runs hand one child a
// batch of image digests, each promoted exactly as a child of its own would be.
import { ActivityFailure, ApplicationFailure, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../contract';
import { REGISTRY_RETRY } from '../contract';
import { edgeLabel } from './format';
import type { DestinationRef, EdgeResult, ImagePromotionInput, ImagePromotionResult } from '../contract';

const { checkSource } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: REGISTRY_RETRY,
});

const COPY_OPTIONS = {
  // Generous overall bound; the heartbeat timeout is what detects a dead worker quickly.
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  retry: REGISTRY_RETRY,
} as const;
const { copyToDestination } = proxyActivities<Activities>(COPY_OPTIONS);

const SIGN_OPTIONS = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '60 seconds',
  retry: REGISTRY_RETRY,
};
const { signAtHome, replicateSignatures, verifySignatures } = proxyActivities<Activities>(SIGN_OPTIONS);

/** A destination's registry work runs on its registry-group task queue when it has one (rate-limited there). */
const onQueue = (d: DestinationRef): { taskQueue?: string } => (d.taskQueue ? { taskQueue: d.taskQueue } : {});

export function failureOf(e: unknown): { type: string; message: string } {
  const cause = e instanceof ActivityFailure ? e.cause : e;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(e) };
}

export async function imagePromotion(input: ImagePromotionInput): Promise<ImagePromotionResult> {
  if (input.batch) {
    const results = await Promise.all(input.batch.map((e) => promoteOne({ ...input, ...e, batch: undefined })));
    return { image: input.item.image, digest: input.item.digest, edges: results.flatMap((r) => r.edges), batch: results };
  }
  return promoteOne(input);
}

async function promoteOne(input: ImagePromotionInput): Promise<ImagePromotionResult> {
  const { item, source, destinations } = input;
  const label = edgeLabel(item.image, item.digest);
  const edge = (destination: string, rest: Partial<EdgeResult> & Pick<EdgeResult, 'status'>): EdgeResult => ({
    image: item.image,
    digest: item.digest,
    destination,
    phase: input.phase,
    tags: item.tags,
    ...rest,
  });
  let children: string[] = [];
  let descriptors: Array<{ digest: string; size: number; mediaType: string }> | undefined;
  // Without signing or a source policy nothing needs the source's children: each copy activity finds a lost
  // source itself, which saves one activity per image (orchestration overhead).
  const needSourceCheck = !!input.signing || !!input.sourceSignedBy || !patched('copy-checks-source-v1');
  if (needSourceCheck) {
    try {
      ({ children, descriptors } = await checkSource.executeWithOptions({ summary: `check source ${label}${input.sourceSignedBy ? ' and its signature' : ''}` }, [
        { image: item.image, digest: item.digest, source, ...(input.sourceSignedBy ? { requireSignedBy: input.sourceSignedBy } : {}) },
      ]));
    } catch (e) {
      const f = failureOf(e);
      const status = f.type === 'SourceLost' ? 'lost' : 'failed';
      return { image: item.image, digest: item.digest, edges: destinations.map((d) => edge(d.name, { status, errorType: f.type, error: f.message })) };
    }
  }
  const edges = await Promise.all(
    destinations.map(async (d) => {
      try {
        const r = await copyToDestination.executeWithOptions({ ...COPY_OPTIONS, ...(input.tuning?.heartbeatSeconds ? { heartbeatTimeout: input.tuning.heartbeatSeconds * 1000 } : {}), ...onQueue(d), summary: `copy ${label} → ${d.name}` }, [
          { image: item.image, digest: item.digest, tags: item.tags, allowTagMove: item.allowTagMove, source, destination: d },
        ]);
        return edge(d.name, { status: r.status, bytesCopied: r.bytesCopied, blobsCopied: r.blobsCopied, manifestsWritten: r.manifestsWritten });
      } catch (e) {
        const f = failureOf(e);
        return edge(d.name, { status: f.type === 'SourceLost' ? 'lost' : 'failed', errorType: f.type, error: f.message });
      }
    }),
  );
  // Versioned with patched(): histories recorded before signing existed replay without these commands.
  if (input.signing && patched('sign-attest-replicate-v1')) await signAndReplicate(input, children, descriptors ?? [], edges);
  return { image: item.image, digest: item.digest, edges };
}

async function signAndReplicate(input: ImagePromotionInput, children: string[], subjects: Array<{ digest: string; size: number; mediaType: string }>, edges: EdgeResult[]): Promise<void> {
  const signing = input.signing!;
  const { item } = input;
  const label = edgeLabel(item.image, item.digest);
  const digests = [...children, item.digest];
  const ok = (e: EdgeResult) => e.status === 'promoted' || e.status === 'present';
  const fail = (e: EdgeResult, type: string, message: string) => Object.assign(e, { status: 'failed', errorType: type, error: message });
  const ref = { ...(signing.key ? { key: signing.key } : {}), ...(signing.keyless ? { keyless: signing.keyless } : {}), attest: signing.attest, dockerReference: signing.dockerReference, ...(signing.bundles ? { bundles: true } : {}) };
  // Sign where the home is in this phase (normally the first); later phases find the signatures there already.
  const homeEdge = edges.find((e) => e.destination === signing.home.name);
  if (homeEdge) {
    if (!ok(homeEdge)) {
      for (const e of edges.filter(ok)) fail(e, 'NotSigned', `not signed: the copy to the signing home ${signing.home.name} failed`);
      return;
    }
    try {
      const run = signing.run;
      await signAtHome.executeWithOptions({ summary: `sign${signing.attest ? ' + attest' : ''} ${label} at ${signing.home.name}` }, [
        {
          image: item.image,
          digest: item.digest,
          children,
          ...(signing.bundles ? { subjects } : {}),
          home: signing.home,
          signing: ref,
          provenance: {
            sourceRepository: `${input.source.registry}/${item.image}`,
            destinations: run.allDestinations.map((d) => `${d}/${item.image}`),
            manifestPath: run.manifestPath,
            ...(run.commit ? { gitCommit: run.commit } : {}),
            workflowId: run.workflowId,
            runId: run.runId,
            namespace: run.namespace,
            startedOn: run.startedOn,
            finishedOn: new Date().toISOString(),
          },
        },
      ]);
    } catch (e) {
      const f = failureOf(e);
      for (const x of edges.filter(ok)) fail(x, 'SignFailed', `signing at ${signing.home.name} failed: ${f.type}: ${f.message}`);
      return;
    }
  }
  await Promise.all(
    edges.filter(ok).map(async (e) => {
      const dest = input.destinations.find((d) => d.name === e.destination)!;
      try {
        if (dest.name !== signing.home.name) {
          await replicateSignatures.executeWithOptions({ ...SIGN_OPTIONS, ...onQueue(dest), summary: `replicate signatures ${label} → ${dest.name}` }, [
            { image: item.image, digests, attest: signing.attest, ...(signing.bundles ? { bundles: true } : {}), ...(signing.keyless ? { keyless: true } : {}), from: signing.home, to: dest },
          ]);
        }
        const problems = await verifySignatures.executeWithOptions({ ...SIGN_OPTIONS, ...onQueue(dest), summary: `verify signatures ${label} at ${dest.name}` }, [{ image: item.image, digests, destination: dest, signing: ref }]);
        if (problems.length) fail(e, 'SignatureInvalid', problems.map((p) => `${p.digest.slice(0, 19)}: ${p.problem}`).join('; '));
        else e.signature = 'verified';
      } catch (err) {
        const f = failureOf(err);
        fail(e, f.type === 'SignatureMissing' ? 'SignatureMissing' : 'ReplicateFailed', f.type === 'SignatureMissing' ? f.message : `${f.type}: ${f.message}`);
      }
    }),
  );
}
