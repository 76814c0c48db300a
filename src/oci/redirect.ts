// Following redirects (blob downloads are commonly redirected to object storage). The Authorization header goes only
// to the origin it was minted for: it is dropped as soon as a redirect leaves that origin, and never restored.
import { OciError } from './errors';
import { discard, header, type HttpRequest, type HttpResponse, type Transport } from './transport';

const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function withoutAuthorization(headers: Record<string, string> | undefined): Record<string, string> {
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() !== 'authorization') h[k] = v;
  return h;
}

export class RedirectTransport implements Transport {
  constructor(
    private readonly inner: Transport,
    private readonly allowPlainHttp: (host: string) => boolean,
  ) {}

  async roundTrip(req: HttpRequest): Promise<HttpResponse> {
    let cur = req;
    for (let i = 0; ; i++) {
      const res = await this.inner.roundTrip(cur);
      // Only safe methods follow redirects; a redirected upload is handed to the caller unchanged.
      const loc = header(res, 'location');
      if (!REDIRECTS.has(res.status) || (cur.method !== 'GET' && cur.method !== 'HEAD') || !loc) return { ...res, url: cur.url };
      await discard(res);
      if (i >= MAX_REDIRECTS) throw new OciError(`${req.method} ${req.url.host}${req.url.pathname}: more than ${MAX_REDIRECTS} redirects`, { retryable: false });
      const next = new URL(loc, cur.url);
      if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new OciError(`${req.method} ${req.url.host}${req.url.pathname}: redirect to unsupported scheme ${next.protocol}`);
      if (next.protocol === 'http:' && cur.url.protocol === 'https:' && !this.allowPlainHttp(next.host)) {
        throw new OciError(`${req.method} ${req.url.host}${req.url.pathname}: refused redirect from HTTPS to plain HTTP (${next.host})`, { retryable: false });
      }
      cur = next.origin === req.url.origin ? { ...cur, url: next } : { ...cur, url: next, headers: withoutAuthorization(cur.headers), registry: next.host, scopes: [] };
    }
  }
}
