// The default task queue: where clients start workflows and workers poll unless a registry group names its own.
// Here, not in src/worker, so that a CLI command that only starts or queries a run never loads the worker SDK.
export const TASK_QUEUE = 'promoflow';

/** The worker deployment name (Temporal worker versioning) when only a build ID is given: workers and the
 * `deployment` command must agree on it. */
export const DEFAULT_DEPLOYMENT = 'promoflow';
