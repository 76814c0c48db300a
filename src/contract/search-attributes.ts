// promoflow's search attributes: what a person filters on in the Temporal Web UI and `temporal workflow list -q`.
// Each key is defined once; the registration list for the dev server and docker-compose derives from the keys.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SA_IMAGES = defineSearchAttributeKey('PromoflowImages', SearchAttributeType.KEYWORD_LIST);
export const SA_PHASE = defineSearchAttributeKey('PromoflowPhase', SearchAttributeType.KEYWORD);
export const SA_COMMIT = defineSearchAttributeKey('PromoflowCommit', SearchAttributeType.KEYWORD);
export const SA_STATUS = defineSearchAttributeKey('PromoflowStatus', SearchAttributeType.KEYWORD);
export const SA_DRIFT = defineSearchAttributeKey('PromoflowDriftCount', SearchAttributeType.INT);

const KEYS: Array<{ name: string; type: SearchAttributeType }> = [SA_IMAGES, SA_PHASE, SA_COMMIT, SA_STATUS, SA_DRIFT];

/** The type names the `temporal` CLI expects in `--search-attribute NAME=Type`. */
const CLI_TYPE: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** name → CLI type name, for registration (`temporal server start-dev --search-attribute`, docker-compose). */
export const SEARCH_ATTRIBUTES: Record<string, string> = Object.fromEntries(KEYS.map((k) => [k.name, CLI_TYPE[k.type]]));
