// Where scripts/setup.sh caches the tools it builds (Temporal CLI fallback, cosign, crane, the referrers registry):
// PROMOFLOW_TOOLS_DIR, else $XDG_CACHE_HOME/promoflow/tools, else ~/.cache/promoflow/tools; binaries in bin/.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function toolsDir(): string {
  return process.env.PROMOFLOW_TOOLS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'promoflow', 'tools');
}

export function toolsBin(): string {
  return join(toolsDir(), 'bin');
}
