// Retries with exponential backoff and full jitter for transient failures: network errors, timeouts, 5xx, 408 and
// 429 (honouring Retry-After). Only requests whose body is in memory are replayed; a streamed upload is retried by
// its caller, which can re-read the source.
import { concludeMismatch, isRereadable, OciError } from './errors';
import { parseRetryAfter } from './response';
import { discard, header, isReplayable, type HttpRequest, type HttpResponse, type Transport } from './transport';

export interface RetryPolicy {
  /** Total attempts including the first. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After we honour; a registry asking for longer fails fast instead of hanging a worker. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 };

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

export function backoff(attempt: number, p: RetryPolicy, random = Math.random): number {
  const cap = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * cap);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : new OciError('aborted', { code: 'ABORTED' }));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason instanceof Error ? signal.reason : new OciError('aborted', { code: 'ABORTED' }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Run `fn` again on retryable OciErrors: callers that own a body (an in-memory upload, a read whose digest they
 * check). A read that mismatches is re-read; the same wrong bytes twice end it as a DigestMismatchError verdict.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, p: RetryPolicy = DEFAULT_RETRY, signal?: AbortSignal, retryOn: (e: OciError) => boolean = () => true): Promise<T> {
  const mismatches = new Set<string>();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      concludeMismatch(e, mismatches);
      if (!(e instanceof OciError) || !e.retryable || !retryOn(e) || attempt + 1 >= p.maxAttempts || signal?.aborted) throw e;
      const ra = (e as { retryAfterMs?: number }).retryAfterMs;
      if (ra !== undefined && ra > p.maxRetryAfterMs) throw e;
      await sleep(ra ?? backoff(attempt, p), signal);
    }
  }
}

/**
 * Read again what failed mid-body or did not match its digest (the transport below already retried statuses and
 * connection failures of the request itself, so those are not multiplied here).
 */
export function rereading<T>(fn: () => Promise<T>, p: RetryPolicy, signal?: AbortSignal): Promise<T> {
  return withRetry(fn, p, signal, isRereadable);
}

export class RetryTransport implements Transport {
  constructor(
    private readonly inner: Transport,
    private readonly policy: RetryPolicy = DEFAULT_RETRY,
  ) {}

  async roundTrip(req: HttpRequest): Promise<HttpResponse> {
    const replayable = isReplayable(req.body);
    for (let attempt = 0; ; attempt++) {
      const last = !replayable || attempt + 1 >= this.policy.maxAttempts;
      let res: HttpResponse;
      try {
        res = await this.inner.roundTrip(req);
      } catch (e) {
        if (last || !(e instanceof OciError) || !e.retryable || req.signal?.aborted) throw e;
        await sleep(backoff(attempt, this.policy), req.signal);
        continue;
      }
      if (last || !isRetryableStatus(res.status)) return res;
      const ra = res.status === 429 || res.status === 503 ? parseRetryAfter(header(res, 'retry-after')) : undefined;
      // A registry asking us to wait longer than we are willing to: hand the response up as the error it is.
      if (ra !== undefined && ra > this.policy.maxRetryAfterMs) return res;
      await discard(res);
      await sleep(ra ?? backoff(attempt, this.policy), req.signal);
    }
  }
}
