// Before a run starts: every registry the spec names must answer /v2/ (any HTTP status counts: 401 means auth,
// which activities handle). An unreachable registry is one clear line and exit 3, not a run that retries for minutes.
// The probe goes through the OCI client, which alone decides the URL scheme (HTTPS; plain HTTP for loopback and
// registries marked insecure).
import type { Spec } from '../manifest';
import { hostOf } from '../model';
import type { RegistryClient } from '../oci';
import { CliError, EXIT } from './exit-codes';

function reason(e: unknown, timeoutMs: number): string {
  const err = e as Error & { code?: string; cause?: { code?: string } };
  if (err.name === 'TimeoutError' || err.code === 'ABORTED') return `no answer in ${timeoutMs / 1000} s`;
  return err.cause?.code ?? err.code ?? err.message.split('\n')[0]!;
}

export async function preflight(spec: Spec, client: RegistryClient, timeoutMs = 5000): Promise<void> {
  const endpoints = [{ what: 'source.registry', ...spec.source }, ...spec.destinations.map((d) => ({ what: `destination ${d.name}`, ...d }))];
  const seen = new Set<string>();
  const problems: string[] = [];
  await Promise.all(
    endpoints.map(async (e) => {
      const host = hostOf(e.registry);
      if (seen.has(host)) return;
      seen.add(host);
      const signal = AbortSignal.timeout(timeoutMs);
      const expired = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
      try {
        await Promise.race([client.ping(host, signal), expired]);
      } catch (err) {
        problems.push(`registry ${host} (${e.what} in ${spec.files[0] ?? 'the manifest'}) is unreachable (${reason(err, timeoutMs)}): check the address or the network`);
      }
    }),
  );
  if (problems.length) throw new CliError(problems.sort().join('\n'), EXIT.UNAVAILABLE);
}
