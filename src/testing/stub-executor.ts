// A registry-free EntryExecutor for orchestration benchmarks and tests: every edge is promoted at once, except at
// destinations named in `failAt` (a non-transient failure) and digests in `lost`. Batch activities around it are
// real (state store reads and writes, heartbeats, accounts), so only the registry work is stubbed. `delayMs`
// keeps each digest busy (tests that abort mid-run).
import type { EntryExecutor, ExecutedEdge } from '../activities';

export function stubExecutor(opts: { failAt?: string[]; lost?: (digest: string) => boolean; delayMs?: number } = {}): EntryExecutor {
  return async (entry, ctx) => {
    if (opts.delayMs) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, opts.delayMs);
        ctx.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
    }
    return entry.dests.map((d): ExecutedEdge => {
      const base = { image: entry.image, digest: entry.digest, destination: d, phase: ctx.phase };
      if (opts.lost?.(entry.digest)) return { ...base, outcome: 'lost', errorType: 'SourceLost', error: `${entry.image}@${entry.digest} is not in the source registry` };
      if (opts.failAt?.includes(d)) return { ...base, outcome: 'failed', errorType: 'Unauthorized', error: `${d}: denied` };
      return { ...base, outcome: 'promoted' };
    });
  };
}
