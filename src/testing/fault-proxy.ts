// A loopback reverse proxy in front of a registry that injects faults on matching requests: an HTTP status (429
// with Retry-After, 503…), a connection reset, a flipped byte in a response body, or a Location header made
// relative. It records what passed through so tests can assert on outcomes at the wire (e.g. where Authorization went).
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { startLoopbackServer } from './loopback-server';

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  | { kind: 'reset' }
  /** Flip one byte of the response body at `offset` (default: the middle, by Content-Length). */
  | { kind: 'flipByte'; offset?: number }
  | { kind: 'relativeLocation' }
  | { kind: 'delay'; ms: number };

export interface FaultRule {
  method?: string;
  /** Matched against the request path (without query). */
  path: RegExp;
  fault: Fault;
  /** How many matching requests get the fault (default: unlimited). */
  times?: number;
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

export async function startFaultProxy(target: string, rules: FaultRule[] = []): Promise<FaultProxy> {
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
      res.writeHead(ur.statusCode ?? 502, headers);
      if (fault?.kind === 'flipByte') {
        const total = Number(ur.headers['content-length'] ?? 0);
        const at = fault.offset ?? Math.floor(total / 2);
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

  const server = await startLoopbackServer(handle);
  const proxy: FaultProxy = { host: server.host, rules, requests, stop: server.stop };
  return proxy;
}
