// The workflow bundle's entry point: every workflow type a promoflow worker runs, and their control surface.
export { promotionRun } from './promotion-run';
export { imagePromotion } from './image-promotion';
export { reconcile, reconcileReportQuery } from './reconcile';
// The control surface lives in the contract (clients use it without loading workflow code); re-exported for callers
// that name a workflow and its handles together.
export { progressQuery, approveUpdate, rejectUpdate, pauseUpdate, resumeUpdate, abortUpdate, runProgressQuery } from '../contract';
export { shardedRun } from './sharded-run';
export { promotionShard } from './promotion-shard';
export { reconcileRun } from './reconcile-run';
