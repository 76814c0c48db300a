// Which state store a CLI process uses: PROMOFLOW_STATE_STORE when set (a directory that every worker of the
// cluster and the CLI share: a shared volume), else `store` in the state directory of the embedded environment.
import { join } from 'node:path';
import { stateStoreFrom, type StateStore } from '../state';

export function stateStoreFor(stateDir: string): StateStore {
  return stateStoreFrom(process.env, join(stateDir, 'store'));
}
