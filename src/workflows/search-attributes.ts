// promoflow's search attributes: what a person filters on in the Temporal Web UI and `temporal workflow list -q`.
// Pure definitions shared by workflows (upsert), the dev environment (registration) and the docs.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SA_IMAGES = defineSearchAttributeKey('PromoflowImages', SearchAttributeType.KEYWORD_LIST);
export const SA_PHASE = defineSearchAttributeKey('PromoflowPhase', SearchAttributeType.KEYWORD);
export const SA_COMMIT = defineSearchAttributeKey('PromoflowCommit', SearchAttributeType.KEYWORD);
export const SA_STATUS = defineSearchAttributeKey('PromoflowStatus', SearchAttributeType.KEYWORD);
export const SA_DRIFT = defineSearchAttributeKey('PromoflowDriftCount', SearchAttributeType.INT);

/** name → the type name the `temporal` CLI expects in `--search-attribute NAME=Type`. */
export const SEARCH_ATTRIBUTES: Record<string, string> = {
  PromoflowImages: 'KeywordList',
  PromoflowPhase: 'Keyword',
  PromoflowCommit: 'Keyword',
  PromoflowStatus: 'Keyword',
  PromoflowDriftCount: 'Int',
};
