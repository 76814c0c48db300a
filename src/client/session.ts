// A CLI session attached to Temporal (promote, watch, status, reconcile) that outlives a Temporal restart or a
// network blip: every call is retried with backoff while Temporal is unavailable, on a fresh connection when the
// old one does not recover, for a bounded window (PROMOFLOW_RECONNECT_SECONDS, default 300). When the window runs
// out the command exits 3 (unavailable) naming the workflow ID: the run itself goes on in Temporal and
// `promoflow status <id>` finds it. A run that ended badly is exit 1; losing sight of Temporal never is.
import { Client, isGrpcServiceError, ServiceError } from '@temporalio/client';
import { connect, type TemporalTarget } from './connection';
import { CliError, EXIT } from './exit-codes';

/** gRPC codes a healthy call may meet while the server restarts or the network blips. */
const TRANSIENT_GRPC = new Set([
  1, // CANCELLED: the connection went away under a call
  4, // DEADLINE_EXCEEDED
  8, // RESOURCE_EXHAUSTED
  10, // ABORTED
  13, // INTERNAL: e.g. a stream reset while the server stops
  14, // UNAVAILABLE
]);

/** Is this error Temporal being out of reach (worth waiting for), rather than an answer? */
export function isTemporalUnavailable(e: unknown): boolean {
  let saw = false;
  for (let x: unknown = e; x instanceof Error; x = (x as { cause?: unknown }).cause) {
    if (isGrpcServiceError(x)) {
      // A namespace the restarting server has not loaded yet answers NOT_FOUND for a moment.
      if (x.code === 5 && /namespace/i.test(x.details ?? '')) return true;
      return TRANSIENT_GRPC.has(x.code);
    }
    if (x instanceof ServiceError) saw = true;
  }
  // A ServiceError with no gRPC status under it is the transport failing, not the server answering.
  return saw;
}

/** The error's first line and the gRPC status under it (the SDK's own message alone says little). */
function describeError(e: unknown): string {
  const head = (e as Error).message.split('\n')[0];
  for (let x: unknown = e; x instanceof Error; x = (x as { cause?: unknown }).cause) {
    if (isGrpcServiceError(x)) return `${head}: gRPC ${x.code} ${(x.details ?? '').split('\n')[0]}`;
  }
  return head;
}

export function reconnectWindowMs(): number {
  const v = process.env.PROMOFLOW_RECONNECT_SECONDS;
  if (v === undefined || v === '') return 300_000;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new CliError(`PROMOFLOW_RECONNECT_SECONDS=${JSON.stringify(v)}: expected seconds, e.g. 300`, EXIT.INVALID);
  return Number(v) * 1000;
}

export interface SessionOptions {
  /** How long Temporal may stay out of reach before the command gives up (default: reconnectWindowMs()). */
  windowMs?: number;
  /** Told once per outage, e.g. to print a line on stderr. */
  onOutage?: (message: string) => void;
}

export class TemporalSession {
  private constructor(
    readonly target: TemporalTarget,
    private current: Client,
    private readonly opts: Required<SessionOptions>,
  ) {}

  /** Connect, retrying within the same window (a CLI started during a Temporal restart waits it out too). */
  static async open(target: TemporalTarget, opts: SessionOptions = {}): Promise<TemporalSession> {
    const o = { windowMs: opts.windowMs ?? reconnectWindowMs(), onOutage: opts.onOutage ?? (() => undefined) };
    const since = Date.now();
    for (let failures = 0; ; failures++) {
      try {
        return new TemporalSession(target, await connect(target, { ownRetries: true }), o);
      } catch (e) {
        if (!(e instanceof CliError) || e.exitCode !== EXIT.UNAVAILABLE || Date.now() - since >= o.windowMs) throw e;
        if (failures === 0) o.onOutage(`promoflow: ${e.message}; retrying for up to ${Math.round(o.windowMs / 1000)} s`);
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** Math.min(failures, 5))));
      }
    }
  }

  get client(): Client {
    return this.current;
  }

  /**
   * Run `fn` against Temporal, again while Temporal is unavailable. `what` and `workflowId` name what the CLI was
   * doing in the message of the exit-3 error when the window runs out.
   */
  async call<T>(what: string, workflowId: string, fn: (client: Client) => Promise<T>): Promise<T> {
    let since: number | undefined;
    for (let failures = 0; ; failures++) {
      try {
        return await fn(this.current);
      } catch (e) {
        if (!isTemporalUnavailable(e)) throw e;
        const now = Date.now();
        since ??= now;
        const detail = describeError(e);
        if (failures === 0) this.opts.onOutage(`promoflow: Temporal at ${this.target.address} is unavailable while ${what} (${detail}); retrying for up to ${Math.round(this.opts.windowMs / 1000)} s`);
        if (now - since >= this.opts.windowMs) {
          throw new CliError(
            `Temporal at ${this.target.address} was unavailable for ${Math.round((now - since) / 1000)} s while ${what} ${workflowId} (${detail}); the run goes on in Temporal: \`promoflow status ${workflowId}\` shows it`,
            EXIT.UNAVAILABLE,
          );
        }
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** Math.min(failures, 5)) * (0.5 + Math.random() / 2)));
        // A connection that keeps failing may be stuck in its own reconnect backoff: start a fresh one.
        if (failures >= 2) await this.reconnect();
      }
    }
  }

  /**
   * The result of a workflow, waiting for it to end. Waiting is a describe every few seconds rather than one long
   * poll on the history: each is a short call that the retry above can repeat as it is, on any connection.
   */
  async result<T>(workflowId: string, pollMs = 2000): Promise<T> {
    for (;;) {
      const desc = await this.call('waiting for', workflowId, (c) => c.workflow.getHandle(workflowId).describe());
      if (desc.status.name !== 'RUNNING') return this.call('waiting for', workflowId, (c) => c.workflow.getHandle(workflowId).result() as Promise<T>);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  private async reconnect(): Promise<void> {
    let fresh: Client;
    try {
      fresh = await connect(this.target, { ownRetries: true });
    } catch {
      return; // still down; the next attempt tries again
    }
    const old = this.current;
    this.current = fresh;
    await old.connection.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.current.connection.close().catch(() => undefined);
  }
}
