// The workflow bundle's entry point: every workflow type a promoflow worker runs.
export { promotionRun, progressQuery } from './promotion-run';
export { imagePromotion } from './image-promotion';
