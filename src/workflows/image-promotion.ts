// ImagePromotion: one image digest, one phase's destinations. Checks the source once, then one copy activity per
// destination in parallel; a failure at one destination never stops the others. Returns an outcome per destination.
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_FAILURES } from './failure-types';
import { edgeLabel } from './format';
import type { EdgeResult, ImagePromotionInput, ImagePromotionResult } from './types';

const { checkSource } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 8, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: NON_RETRYABLE_FAILURES },
});

const COPY_OPTIONS = {
  // Generous overall bound; the heartbeat timeout is what detects a dead worker quickly.
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 10, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '60s', nonRetryableErrorTypes: NON_RETRYABLE_FAILURES },
} as const;
const { copyToDestination } = proxyActivities<Activities>(COPY_OPTIONS);

export function failureOf(e: unknown): { type: string; message: string } {
  const cause = e instanceof ActivityFailure ? e.cause : e;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(e) };
}

export async function imagePromotion(input: ImagePromotionInput): Promise<ImagePromotionResult> {
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
  try {
    await checkSource.executeWithOptions({ summary: `check source ${label}` }, [{ image: item.image, digest: item.digest, source }]);
  } catch (e) {
    const f = failureOf(e);
    const status = f.type === 'SourceLost' ? 'lost' : 'failed';
    return { image: item.image, digest: item.digest, edges: destinations.map((d) => edge(d.name, { status, errorType: f.type, error: f.message })) };
  }
  const edges = await Promise.all(
    destinations.map(async (d) => {
      try {
        const r = await copyToDestination.executeWithOptions({ ...COPY_OPTIONS, ...(input.tuning?.heartbeatSeconds ? { heartbeatTimeout: input.tuning.heartbeatSeconds * 1000 } : {}), summary: `copy ${label} → ${d.name}` }, [
          { image: item.image, digest: item.digest, tags: item.tags, allowTagMove: item.allowTagMove, source, destination: d },
        ]);
        return edge(d.name, { status: r.status, bytesCopied: r.bytesCopied, blobsCopied: r.blobsCopied, manifestsWritten: r.manifestsWritten });
      } catch (e) {
        const f = failureOf(e);
        return edge(d.name, { status: 'failed', errorType: f.type, error: f.message });
      }
    }),
  );
  return { image: item.image, digest: item.digest, edges };
}
