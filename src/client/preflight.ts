// Before a run starts: every registry the spec names must answer /v2/ (any HTTP status counts: 401 means auth,
// which activities handle). An unreachable registry is one clear line and exit 3, not a run that retries for minutes.
import type { Spec } from '../manifest';
import { hostOf, isLoopback } from '../model';
import { CliError, EXIT } from './exit-codes';

export function baseUrl(registryPrefix: string, insecure?: boolean): string {
  const host = hostOf(registryPrefix);
  return `${insecure || isLoopback(host) ? 'http' : 'https'}://${host}`;
}

export async function preflight(spec: Spec, timeoutMs = 5000): Promise<void> {
  const endpoints = [{ what: 'source.registry', ...spec.source }, ...spec.destinations.map((d) => ({ what: `destination ${d.name}`, ...d }))];
  const seen = new Set<string>();
  const problems: string[] = [];
  await Promise.all(
    endpoints.map(async (e) => {
      const url = `${baseUrl(e.registry, e.insecure)}/v2/`;
      if (seen.has(url)) return;
      seen.add(url);
      try {
        const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
        await r.arrayBuffer();
      } catch (err) {
        const c = (err as { cause?: { code?: string; message?: string } }).cause;
        const cause = (err as Error).name === 'TimeoutError' ? `no answer in ${timeoutMs / 1000} s` : (c?.code ?? c?.message ?? (err as Error).message);
        problems.push(`registry ${hostOf(e.registry)} (${e.what} in ${spec.files[0] ?? 'the manifest'}) is unreachable (${cause}): check the address or the network`);
      }
    }),
  );
  if (problems.length) throw new CliError(problems.sort().join('\n'), EXIT.UNAVAILABLE);
}
