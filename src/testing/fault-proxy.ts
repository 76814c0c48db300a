// A loopback reverse proxy in front of a registry that injects faults on matching requests: an HTTP status (429
// with Retry-After, 503…), a connection reset before the request is forwarded, a response cut off mid-body after
// the registry did the work, a flipped byte in a response body, a stall, or a Location header made relative.
// Rules fire always, a number of times, or with a probability drawn from a seeded random source (so a chaos run is
// reproducible). It records what passed through so tests can assert on outcomes at the wire (e.g. where
// Authorization went).
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { startLoopbackServer } from './loopback-server';

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  /** The connection is destroyed before the request reaches the registry. */
  | { kind: 'reset' }
  /**
   * The registry handles the request, then the response is cut: after `fraction` of its body (default a half), or
   * before the headers when it has no body (the write happened, the answer was lost).
   */
  | { kind: 'cut'; fraction?: number }
  /** Flip one byte of the response body at `offset` (default: the middle, by Content-Length; 'random': anywhere). */
  | { kind: 'flipByte'; offset?: number | 'random' }
  | { kind: 'relativeLocation' }
  /** A stall: the request waits this long before it is forwarded. */
  | { kind: 'delay'; ms: number };

export interface FaultRule {
  method?: string;
  /** Matched against the request path (without query). */
  path: RegExp;
  fault: Fault;
  /** How many matching requests get the fault (default: unlimited). */
  times?: number;
  /** The chance that a matching request gets the fault (default 1), drawn from the proxy's random source. */
  probability?: number;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same faults in the same request order. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ProxiedRequest {
  method: string;
  path: string;
  authorization: boolean;
  fault?: Fault['kind'];
  status?: number;
}

export interface FaultProxy {
  /** host:port of the proxy (loopback). */
  host: string;
  rules: FaultRule[];
  requests: ProxiedRequest[];
  stop(): Promise<void>;
}

export async function startFaultProxy(target: string, rules: FaultRule[] = [], opts: { random?: () => number; port?: number } = {}): Promise<FaultProxy> {
  const random = opts.random ?? Math.random;
  const requests: ProxiedRequest[] = [];
  const used = new Map<FaultRule, number>();
  const [thost, tport] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];

  const pick = (req: IncomingMessage): Fault | undefined => {
    const path = (req.url ?? '/').split('?')[0]!;
    for (const r of proxy.rules) {
      if (r.method && r.method !== req.method) continue;
      if (!r.path.test(path)) continue;
      const n = used.get(r) ?? 0;
      if (r.times !== undefined && n >= r.times) continue;
      if (r.probability !== undefined && random() >= r.probability) continue;
      used.set(r, n + 1);
      return r.fault;
    }
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const fault = pick(req);
    const rec: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', authorization: req.headers.authorization !== undefined, ...(fault ? { fault: fault.kind } : {}) };
    requests.push(rec);
    if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      req.resume();
      rec.status = fault.status;
      res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {}) });
      res.end(fault.body ?? JSON.stringify({ errors: [{ code: fault.status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE', message: 'injected by fault proxy' }] }));
      return;
    }
    const up = httpRequest({ host: thost, port: tport, method: req.method, path: req.url, headers: req.headers });
    up.on('error', () => res.destroy());
    up.on('response', (ur) => {
      rec.status = ur.statusCode;
      const headers = { ...ur.headers };
      if (fault?.kind === 'relativeLocation' && typeof headers.location === 'string') {
        const u = new URL(headers.location, `http://${target}`);
        headers.location = `${u.pathname}${u.search}`;
      }
      const total = Number(ur.headers['content-length'] ?? 0);
      if (fault?.kind === 'cut' && (req.method === 'HEAD' || !(total > 0))) {
        // No body to cut: the registry did the work, the answer is lost.
        ur.resume();
        req.socket.destroy();
        return;
      }
      res.writeHead(ur.statusCode ?? 502, headers);
      if (fault?.kind === 'cut') {
        const keep = Math.floor(total * (fault.fraction ?? 0.5));
        let sent = 0;
        ur.on('data', (chunk: Buffer) => {
          if (sent >= keep) return;
          const part = chunk.subarray(0, keep - sent);
          sent += part.length;
          res.write(part);
          if (sent >= keep) {
            ur.destroy();
            req.socket.destroy();
          }
        });
        if (keep === 0) {
          ur.destroy();
          req.socket.destroy();
        }
        return;
      }
      if (fault?.kind === 'flipByte') {
        const at = fault.offset === 'random' ? Math.floor(random() * total) : (fault.offset ?? Math.floor(total / 2));
        let seen = 0;
        ur.pipe(
          new Transform({
            transform(chunk: Buffer, _enc, cb) {
              if (at >= seen && at < seen + chunk.length) {
                const c = Buffer.from(chunk);
                c[at - seen] = c[at - seen]! ^ 0xff;
                chunk = c;
              }
              seen += chunk.length;
              cb(null, chunk);
            },
          }),
        ).pipe(res);
      } else {
        ur.pipe(res);
      }
    });
    req.pipe(up);
  };

  const server = await startLoopbackServer(handle, opts.port ?? 0);
  const proxy: FaultProxy = { host: server.host, rules, requests, stop: server.stop };
  return proxy;
}
