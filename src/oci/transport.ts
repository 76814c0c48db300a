// The HTTP transport: request/response types shared by every layer, and the bottom layer that speaks HTTP/1.1 over
// node:http/https with keep-alive pools per origin, connect/headers/idle timeouts and verified TLS. Layers above
// (limits, retry, redirect, auth) wrap a Transport the way go-containerregistry stacks http.RoundTrippers.
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { OciError, RegistryUnavailableError } from './errors';
import { limitHint } from '../model';

export type RequestBody = Buffer | AsyncIterable<Uint8Array>;

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: URL;
  /** The registry (host[:port]) this request is for: keys auth, limits and error messages. */
  registry: string;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Token scopes this request needs, e.g. `repository:foo/bar:pull,push`. */
  scopes?: string[];
  signal?: AbortSignal;
  /** The caller already holds this registry's concurrency slot (see LimitTransport.reserve). */
  reserved?: boolean;
  /** Slowest accepted body transfer (bytes/s over the throughput window); set by LimitTransport from the registry's limits. */
  minBytesPerSecond?: number;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Final URL (after redirects). */
  url: URL;
  body: Readable;
}

export interface Transport {
  roundTrip(req: HttpRequest): Promise<HttpResponse>;
}

/** A body can be sent again (auth challenge, retry) only when it is in memory. */
export function isReplayable(body: RequestBody | undefined): boolean {
  return body === undefined || Buffer.isBuffer(body);
}

export function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Read a whole (small) body, refusing more than `limit` bytes. */
export async function readBody(res: HttpResponse, limit = 1 << 20, onTooLarge?: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of res.body) {
      const b = c as Buffer;
      n += b.length;
      if (n > limit) {
        res.body.destroy();
        throw onTooLarge ? onTooLarge() : new OciError(`response from ${res.url.host} larger than ${limit} bytes`);
      }
      chunks.push(b);
    }
  } catch (e) {
    throw bodyError(`reading ${res.url.host}${res.url.pathname}`, e);
  }
  return Buffer.concat(chunks);
}

/** Drain and drop a body so the connection goes back to the pool. */
export async function discard(res: HttpResponse): Promise<void> {
  if (res.body.readableEnded || res.body.destroyed) return;
  try {
    // Small error bodies are drained to reuse the socket; anything large is cheaper to close.
    let n = 0;
    for await (const c of res.body) {
      n += (c as Buffer).length;
      if (n > 1 << 16) {
        res.body.destroy();
        return;
      }
    }
  } catch {
    // the connection is gone; nothing to reuse
  }
}

export interface HttpTransportOptions {
  connectTimeoutMs?: number;
  /** Time from the end of the request body to the response headers. */
  headersTimeoutMs?: number;
  /** Socket inactivity in either direction while a request or response body is moving. */
  idleTimeoutMs?: number;
  /**
   * Window over which a moving body must average `minBytesPerSecond`: the idle timeout restarts on every byte, so
   * alone it lets a body trickling a byte a second hold a transfer for hours.
   */
  throughputWindowMs?: number;
  maxSocketsPerOrigin?: number;
  userAgent?: string;
}

/** Errors below the HTTP layer (resets, refused connections, timeouts, DNS) become RegistryUnavailableError. */
export function networkError(req: HttpRequest, e: unknown): OciError {
  if (e instanceof OciError) return e;
  const err = e as NodeJS.ErrnoException;
  const code = err?.code ?? 'ERROR';
  const what = `${req.method} ${req.url.host}${req.url.pathname}`;
  if (err?.name === 'AbortError' || code === 'ABORT_ERR') return new OciError(`${what} aborted`, { code: 'ABORTED', retryable: false, cause: e });
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(code)) {
    return new OciError(`${what}: TLS verification failed (${code}); fix the registry certificate or trust its CA (NODE_EXTRA_CA_CERTS); plain HTTP is only for loopback or registries marked insecure`, { code, retryable: false, cause: e });
  }
  return new RegistryUnavailableError(`${what}: ${err?.message ?? String(e)} (registry ${req.registry} unreachable or dropped the connection; check it is up and reachable)`, { code, cause: e });
}

/**
 * An error while a response (or a streamed request) body was moving: the connection was cut or timed out mid-body.
 * Always transient; OciErrors (a digest check that failed, an abort) pass through unchanged.
 */
export function bodyError(what: string, e: unknown): unknown {
  if (e instanceof OciError || !(e instanceof Error)) return e;
  const err = e as NodeJS.ErrnoException;
  if (err.name === 'AbortError' || err.code === 'ABORT_ERR') return new OciError(`${what} aborted`, { code: 'ABORTED', retryable: false, cause: e });
  return new RegistryUnavailableError(`${what}: the connection broke off mid-body (${err.message}); retry`, { code: 'BODY_INTERRUPTED', cause: e });
}

class TimeoutError extends Error {
  code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

export class HttpTransport implements Transport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly o: Required<HttpTransportOptions>;

  constructor(opts: HttpTransportOptions = {}) {
    this.o = {
      connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
      headersTimeoutMs: opts.headersTimeoutMs ?? 60_000,
      idleTimeoutMs: opts.idleTimeoutMs ?? 60_000,
      maxSocketsPerOrigin: opts.maxSocketsPerOrigin ?? 64,
      throughputWindowMs: opts.throughputWindowMs ?? 60_000,
      userAgent: opts.userAgent ?? 'promoflow',
    };
    const agentOpts = { keepAlive: true, keepAliveMsecs: 15_000, maxSockets: this.o.maxSocketsPerOrigin, maxFreeSockets: 16, scheduling: 'lifo' as const };
    this.httpAgent = new http.Agent(agentOpts);
    // rejectUnauthorized is the default; stated so nobody "fixes" it.
    this.httpsAgent = new https.Agent({ ...agentOpts, rejectUnauthorized: true });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /**
   * Does host:port answer a TLS handshake? False only when it clearly speaks something else (plain HTTP answers a
   * ClientHello with garbage or a close); a certificate problem still counts as TLS, so it surfaces as an error.
   */
  speaksTls(host: string, timeoutMs = 5000): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const url = new URL(`https://${host}/v2/`);
      const r = https.request(url, { method: 'GET', agent: this.httpsAgent, headers: { 'user-agent': this.o.userAgent } });
      const t = setTimeout(() => r.destroy(Object.assign(new Error('TLS probe timed out'), { code: 'ETIMEDOUT' })), timeoutMs);
      r.on('response', (res) => {
        clearTimeout(t);
        res.resume();
        resolve(true);
      });
      r.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(t);
        const code = e.code ?? '';
        if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT/.test(code)) resolve(true);
        else if (code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') reject(networkError({ method: 'GET', url, registry: host }, e));
        else resolve(false);
      });
      r.end();
    });
  }

  /**
   * A watchdog over the bytes a request's socket moves (both directions) while a body is moving: below
   * `minBytesPerSecond` averaged over a window it fails the transfer with a retryable error naming the limit.
   */
  private throughputWatch(req: HttpRequest): { socket?: Socket; start(onSlow: (e: Error) => void): void; stop(): void } {
    const min = req.minBytesPerSecond ?? 0;
    const windowMs = this.o.throughputWindowMs;
    let timer: NodeJS.Timeout | undefined;
    const w = {
      socket: undefined as Socket | undefined,
      start(onSlow: (e: Error) => void): void {
        if (min <= 0 || timer) return;
        const moved = (): number => (w.socket ? w.socket.bytesRead + w.socket.bytesWritten : 0);
        let mark = moved();
        timer = setInterval(() => {
          const now = moved();
          if (now - mark < (min * windowMs) / 1000) {
            w.stop();
            onSlow(
              new RegistryUnavailableError(
                `${req.method} ${req.url.host}${req.url.pathname}: transfer slower than ${min} bytes/s (${now - mark} bytes in ${windowMs / 1000} s); the registry (or the other end of this copy) is stalling or trickling; ${limitHint(req.registry, 'minBytesPerSecond', 'lower')}`,
                { code: 'ETIMEDOUT' },
              ),
            );
          }
          mark = now;
        }, windowMs);
      },
      stop(): void {
        if (timer) clearInterval(timer);
        timer = undefined;
      },
    };
    return w;
  }

  roundTrip(req: HttpRequest): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      const isHttps = req.url.protocol === 'https:';
      const mod = isHttps ? https : http;
      const headers: Record<string, string> = { 'user-agent': this.o.userAgent, ...req.headers };
      if (Buffer.isBuffer(req.body)) headers['content-length'] = String(req.body.length);
      else if (req.body === undefined && (req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH')) headers['content-length'] = '0';
      let settled = false;
      let headersTimer: NodeJS.Timeout | undefined;
      let connectTimer: NodeJS.Timeout | undefined;
      const clear = (): void => {
        if (headersTimer) clearTimeout(headersTimer);
        if (connectTimer) clearTimeout(connectTimer);
      };
      const fail = (e: unknown): void => {
        clear();
        if (settled) return;
        settled = true;
        reject(networkError(req, e));
      };
      const r = mod.request(req.url, { method: req.method, headers, agent: isHttps ? this.httpsAgent : this.httpAgent, signal: req.signal });
      r.setTimeout(this.o.idleTimeoutMs, () => r.destroy(new TimeoutError(`no data for ${this.o.idleTimeoutMs} ms`, 'ETIMEDOUT')));
      const watch = this.throughputWatch(req);
      r.on('close', watch.stop);
      r.on('socket', (s) => {
        watch.socket = s;
        if (s.connecting) {
          connectTimer = setTimeout(() => r.destroy(new TimeoutError(`connect timeout after ${this.o.connectTimeoutMs} ms`, 'ETIMEDOUT')), this.o.connectTimeoutMs);
          s.once(isHttps ? 'secureConnect' : 'connect', () => connectTimer && clearTimeout(connectTimer));
        }
      });
      r.on('error', fail);
      r.on('response', (res) => {
        clear();
        if (settled) {
          res.destroy();
          return;
        }
        settled = true;
        // Errors after this point surface on the body stream.
        r.removeListener('error', fail);
        r.on('error', (e) => res.destroy(e));
        watch.start((e) => res.destroy(e));
        res.on('close', watch.stop);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, url: req.url, body: res });
      });
      r.on('close', clear);
      const startHeadersTimer = (): void => {
        // With Content-Length the server may answer as soon as the last byte arrives, before we get here.
        if (settled) return;
        headersTimer = setTimeout(() => r.destroy(new TimeoutError(`no response headers ${this.o.headersTimeoutMs} ms after the request`, 'ETIMEDOUT')), this.o.headersTimeoutMs);
      };
      if (req.body === undefined || Buffer.isBuffer(req.body)) {
        r.end(req.body);
        startHeadersTimer();
        return;
      }
      const body = req.body;
      watch.start((e) => r.destroy(e));
      void (async () => {
        try {
          for await (const chunk of body) {
            if (settled && r.destroyed) return;
            if (!r.write(chunk)) {
              await new Promise<void>((res, rej) => {
                const onDrain = (): void => {
                  r.off('close', onClose);
                  res();
                };
                const onClose = (): void => {
                  r.off('drain', onDrain);
                  rej(new TimeoutError('connection closed while sending the body', 'ECONNRESET'));
                };
                r.once('drain', onDrain);
                r.once('close', onClose);
              });
            }
          }
          r.end();
          // Waiting for the response headers is the headers timeout's business.
          watch.stop();
          startHeadersTimer();
        } catch (e) {
          // The source failed (e.g. digest mismatch): abort without ending, so the server never sees a complete body.
          r.destroy(e instanceof Error ? e : new Error(String(e)));
          fail(e);
        }
      })();
    });
  }
}
