// Where the CLI finds Temporal: --temporal-address / --namespace flags, then TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE
// (with optional TEMPORAL_API_KEY and TLS files for a real cluster), then the embedded environment started from
// the state directory. The API key and TLS key are read here and go nowhere but the gRPC connection.
import { readFileSync } from 'node:fs';
import { Connection, Client } from '@temporalio/client';
import { readEnvironmentInfo } from '../dev';
import { CliError, EXIT } from './exit-codes';

export interface TemporalTarget {
  address: string;
  namespace: string;
  uiUrl?: string;
  embedded: boolean;
}

export function resolveTarget(flags: { temporalAddress?: string; namespace?: string; stateDir: string }): TemporalTarget {
  const address = flags.temporalAddress ?? process.env.TEMPORAL_ADDRESS;
  const namespace = flags.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default';
  if (address) return { address, namespace, uiUrl: process.env.TEMPORAL_UI_URL, embedded: false };
  const env = readEnvironmentInfo(flags.stateDir);
  if (env?.temporal) return { ...env.temporal, embedded: true };
  throw new CliError(
    'no Temporal server: set TEMPORAL_ADDRESS (or --temporal-address), or start the embedded one with `promoflow dev up`',
    EXIT.INVALID,
  );
}

/**
 * A client for the target. `ownRetries`: the caller retries unavailability itself (see TemporalSession), so the
 * SDK's built-in gRPC retries (about 20 s of them per call) are off and its window is exact.
 */
export async function connect(target: TemporalTarget, opts: { ownRetries?: boolean } = {}): Promise<Client> {
  const apiKey = process.env.TEMPORAL_API_KEY;
  const certPath = process.env.TEMPORAL_TLS_CERT;
  const keyPath = process.env.TEMPORAL_TLS_KEY;
  let tls: { clientCertPair: { crt: Buffer; key: Buffer } } | boolean | undefined;
  if (certPath && keyPath) tls = { clientCertPair: { crt: readFileSync(certPath), key: readFileSync(keyPath) } };
  else if (apiKey) tls = true;
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: target.address, tls, apiKey, connectTimeout: 5000, ...(opts.ownRetries ? { interceptors: [] } : {}) });
  } catch (e) {
    throw new CliError(`cannot reach Temporal at ${target.address}: ${(e as Error).message.split('\n')[0]}`, EXIT.UNAVAILABLE);
  }
  return new Client({ connection, namespace: target.namespace });
}

export function workflowUiUrl(target: TemporalTarget, workflowId: string): string | undefined {
  if (!target.uiUrl) return undefined;
  return `${target.uiUrl}/namespaces/${encodeURIComponent(target.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
