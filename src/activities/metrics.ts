// promoflow's activity-side metrics: bytes and blobs copied per destination, and activity retries, through the
// activity context's metric meter (exported by the worker's Prometheus endpoint), which already tags every sample
// with namespace, taskQueue and activityType. Extra tags stay low cardinality.
import type { Context } from '@temporalio/activity';

export const METRIC_BYTES_COPIED = 'promoflow_bytes_copied';
export const METRIC_BLOBS_COPIED = 'promoflow_blobs_copied';
export const METRIC_RETRIES = 'promoflow_activity_retries';

/** Count a retry (any attempt after the first) of the current activity. */
export function recordAttempt(ctx: Context): void {
  if (ctx.info.attempt > 1) ctx.metricMeter.createCounter(METRIC_RETRIES, 'attempts', 'activity attempts after the first').add(1);
}

export function recordCopy(ctx: Context, destination: string, bytes: number, blobs: number): void {
  ctx.metricMeter.createCounter(METRIC_BYTES_COPIED, 'bytes', 'bytes uploaded to destination registries').add(bytes, { destination });
  ctx.metricMeter.createCounter(METRIC_BLOBS_COPIED, 'blobs', 'blobs copied or mounted at destination registries').add(blobs, { destination });
}
