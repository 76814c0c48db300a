// The workflow bundle's entry point: every workflow type a promoflow worker runs, and their control surface.
export { promotionRun } from './promotion-run';
export { imagePromotion } from './image-promotion';
export { reconcile, reconcileReportQuery } from './reconcile';
export * from './control';
export { shardedRun } from './sharded-run';
export { promotionShard } from './promotion-shard';
