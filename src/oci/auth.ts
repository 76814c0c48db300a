// Registry authentication as a transport layer: anonymous, Basic and the Bearer token flow (challenge from
// WWW-Authenticate, scope merging, insufficient_scope re-auth, token cache per scope set with expiry). Credentials
// and tokens live only in memory here: they are never put in errors, logs or anything sent off-origin.
import { z } from 'zod';
import { ReadMismatchError, UnauthorizedError } from './errors';
import { sha256 } from './digest';
import { DEFAULT_RETRY, rereading } from './retry';
import { errorFromResponse } from './response';
import { discard, header, isReplayable, readBody, type HttpRequest, type HttpResponse, type Transport } from './transport';

/** Username/password (Basic, or exchanged for a Bearer token); username `<token>` marks an identity (refresh) token; `token` is a registry bearer token sent as is. */
export type Credential = { username: string; password: string } | { token: string };

/** Username docker config.json and credential helpers use for identity (refresh) tokens. */
export const IDENTITY_TOKEN_USER = '<token>';
export type CredentialSource = (registry: string) => Promise<Credential | undefined>;

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parse a WWW-Authenticate header (one challenge; auth-params with quoted or token values). */
export function parseChallenge(v: string): Challenge | undefined {
  const m = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(v);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2] ?? '')) !== null) {
    if (p[0].length === 0) break;
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

/** Union scopes per resource, actions sorted, so `push,pull` and `pull,push` share one cached token. */
export function mergeScopes(...lists: Array<readonly string[] | undefined>): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const list of lists) {
    for (const s of list ?? []) {
      for (const one of s.split(' ').filter(Boolean)) {
        const i = one.lastIndexOf(':');
        if (i <= 0) continue;
        const resource = one.slice(0, i);
        const set = byResource.get(resource) ?? new Set<string>();
        for (const a of one.slice(i + 1).split(',').filter(Boolean)) set.add(a);
        byResource.set(resource, set);
      }
    }
  }
  return [...byResource.entries()].map(([r, a]) => `${r}:${[...a].sort().join(',')}`).sort();
}

export function repositoryScope(repository: string, actions: 'pull' | 'push' | 'pull,push'): string {
  return `repository:${repository}:${actions}`;
}

const TokenResponse = z
  .object({
    token: z.string().optional(),
    access_token: z.string().optional(),
    expires_in: z.number().optional(),
    issued_at: z.string().optional(),
  })
  .loose();

interface CachedToken {
  token: string;
  expiresAt: number;
}

interface RegistryAuthState {
  challenge?: Challenge;
  /** The challenge probe in flight: concurrent streamed uploads share one GET /v2/. */
  priming?: Promise<void>;
  tokens: Map<string, CachedToken>;
  inflight: Map<string, Promise<CachedToken>>;
  widened: Map<string, string[]>;
  credential?: { value: Promise<Credential | undefined>; readAt: number };
}

/** How long a credential read from its source is used before it is read again (rotation without a 401). */
export const CREDENTIAL_TTL_MS = 5 * 60_000;

function basic(c: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

export class AuthTransport implements Transport {
  private readonly state = new Map<string, RegistryAuthState>();
  constructor(
    private readonly inner: Transport,
    private readonly credentials: CredentialSource | undefined,
    private readonly allowPlainHttp: (host: string) => boolean,
    private readonly now: () => number = Date.now,
    private readonly credentialTtlMs: number = CREDENTIAL_TTL_MS,
  ) {}

  private st(registry: string): RegistryAuthState {
    let s = this.state.get(registry);
    if (!s) {
      s = { tokens: new Map(), inflight: new Map(), widened: new Map() };
      this.state.set(registry, s);
    }
    return s;
  }

  /** The registry's credential, read again after CREDENTIAL_TTL_MS and after the registry refused it (rotation). */
  private credential(registry: string): Promise<Credential | undefined> {
    const s = this.st(registry);
    if (s.credential && this.now() - s.credential.readAt < this.credentialTtlMs) return s.credential.value;
    const entry = { readAt: this.now(), value: Promise.resolve<Credential | undefined>(undefined) };
    entry.value = this.credentials
      ? this.credentials(registry).catch((e: unknown) => {
          if (s.credential === entry) s.credential = undefined;
          throw new UnauthorizedError(`cannot get credentials for ${registry}: ${e instanceof Error ? e.message : String(e)}`);
        })
      : Promise.resolve(undefined);
    s.credential = entry;
    return entry.value;
  }

  /** Forget the credential and every token minted with it: the next request reads the source again. */
  private forgetCredential(registry: string): void {
    const s = this.st(registry);
    s.credential = undefined;
    s.tokens.clear();
  }

  /** Learn the registry's challenge before a request whose body cannot be sent twice. */
  async prime(registry: string, base: URL, signal?: AbortSignal): Promise<void> {
    const s = this.st(registry);
    if (s.challenge) return;
    signal?.throwIfAborted();
    if (!s.priming) {
      // Without one caller's signal: that caller giving up must not fail the others waiting on the same probe (the
      // transport's own timeouts bound it).
      s.priming = this.probe(s, registry, base);
      // Settled either way: a failed probe is tried again by the next caller.
      s.priming.then(() => (s.priming = undefined), () => (s.priming = undefined));
    }
    return s.priming;
  }

  private async probe(s: RegistryAuthState, registry: string, base: URL): Promise<void> {
    const res = await this.inner.roundTrip({ method: 'GET', url: new URL('/v2/', base), registry });
    const wa = header(res, 'www-authenticate');
    await discard(res);
    if (res.status === 401 && wa) {
      const c = parseChallenge(wa);
      if (c) s.challenge = c;
    } else {
      s.challenge = { scheme: 'none', params: {} };
    }
  }

  private async authorization(req: HttpRequest, scopes: string[], fresh: boolean): Promise<string | undefined> {
    const s = this.st(req.registry);
    const ch = s.challenge;
    if (!ch || ch.scheme === 'none') return undefined;
    const cred = await this.credential(req.registry);
    if (ch.scheme === 'basic') {
      if (cred && 'username' in cred) return basic(cred);
      if (cred && 'token' in cred) return `Bearer ${cred.token}`;
      return undefined;
    }
    if (ch.scheme !== 'bearer') return undefined;
    if (cred && 'token' in cred) return `Bearer ${cred.token}`;
    const key = scopes.join(' ');
    if (fresh) s.tokens.delete(key);
    const cached = s.tokens.get(key);
    if (cached && cached.expiresAt > this.now()) return `Bearer ${cached.token}`;
    let p = s.inflight.get(key);
    if (!p) {
      p = this.fetchToken(req, ch, scopes, cred)
        .catch(async (e: unknown) => {
          // A refused credential may have been rotated since it was read: read it again, once.
          if (!(e instanceof UnauthorizedError) || !cred) throw e;
          this.forgetCredential(req.registry);
          const again = await this.credential(req.registry);
          if (again === undefined || JSON.stringify(again) === JSON.stringify(cred)) throw e;
          return this.fetchToken(req, ch, scopes, again);
        })
        .finally(() => s.inflight.delete(key));
      s.inflight.set(key, p);
    }
    const t = await p;
    s.tokens.set(key, t);
    return `Bearer ${t.token}`;
  }

  private async fetchToken(req: HttpRequest, ch: Challenge, scopes: string[], cred: Credential | undefined): Promise<CachedToken> {
    const realm = ch.params['realm'];
    if (!realm) throw new UnauthorizedError(`${req.registry} sent a Bearer challenge without a realm; cannot authenticate`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new UnauthorizedError(`${req.registry} sent an invalid token realm`);
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.allowPlainHttp(url.host))) {
      throw new UnauthorizedError(`${req.registry}: token realm ${url.origin} is not HTTPS; refusing to send credentials there (mark it insecure only if you trust the network)`);
    }
    const what = `token request to ${url.origin}${url.pathname} for ${req.registry} (scopes ${scopes.join(' ') || 'none'})`;
    const sig = req.signal ? { signal: req.signal } : {};
    // A token response garbled or cut off in transit is requested again; the same invalid body twice is the answer.
    const parsed = await rereading(async () => {
      const headers: Record<string, string> = { accept: 'application/json' };
      let res: HttpResponse;
      if (cred && 'username' in cred && cred.username === IDENTITY_TOKEN_USER) {
        // An identity token is an OAuth2 refresh token: exchange it (POST form) rather than sending it as Basic.
        const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: 'promoflow', refresh_token: cred.password });
        if (ch.params['service']) form.set('service', ch.params['service']);
        if (scopes.length) form.set('scope', scopes.join(' '));
        headers['content-type'] = 'application/x-www-form-urlencoded';
        res = await this.inner.roundTrip({ method: 'POST', url, registry: url.host, headers, body: Buffer.from(form.toString()), reserved: true, ...sig });
      } else {
        const get = new URL(url);
        if (ch.params['service']) get.searchParams.set('service', ch.params['service']);
        for (const sc of scopes) get.searchParams.append('scope', sc);
        if (cred && 'username' in cred) headers['authorization'] = basic(cred);
        // Token requests take no concurrency slot: a streamed upload may hold its registry's only slot while it needs
        // a token, and realms often live on the registry's own host.
        res = await this.inner.roundTrip({ method: 'GET', url: get, registry: url.host, headers, reserved: true, ...sig });
      }
      if (res.status !== 200) throw await errorFromResponse(res, { what, registry: req.registry });
      const raw = await readBody(res, 1 << 20);
      try {
        return TokenResponse.parse(JSON.parse(raw.toString('utf8')));
      } catch {
        // The digest of a token body is no secret worth keeping: it only tells two reads apart.
        throw new ReadMismatchError(`${what}: response is not a token JSON object`, sha256(raw));
      }
    }, DEFAULT_RETRY, req.signal);
    const token = parsed.token ?? parsed.access_token;
    if (!token) throw new UnauthorizedError(`${what}: response carries no token`);
    // Tokens default to 60 s; refresh 10 s early so a request never goes out with a token about to lapse.
    const ttl = Math.max(parsed.expires_in ?? 60, 60);
    const issued = parsed.issued_at ? Date.parse(parsed.issued_at) : NaN;
    const start = Number.isNaN(issued) ? this.now() : Math.min(issued, this.now());
    return { token, expiresAt: start + (ttl - 10) * 1000 };
  }

  async roundTrip(req: HttpRequest): Promise<HttpResponse> {
    const s = this.st(req.registry);
    const asked = mergeScopes(req.scopes);
    // A scope set the registry once widened (insufficient_scope) is asked for widened from then on.
    let scopes = s.widened.get(asked.join(' ')) ?? asked;
    let fresh = false;
    let refreshed = false;
    let reread = false;
    // At most: anonymous → challenged → token → insufficient_scope → wider token.
    for (let attempt = 0; ; attempt++) {
      const auth = await this.authorization(req, scopes, fresh);
      fresh = false;
      const headers = { ...req.headers };
      if (auth) headers['authorization'] = auth;
      const res = await this.inner.roundTrip({ ...req, headers });
      if (res.status !== 401 && res.status !== 403) return res;
      // A 401 from a host we were redirected to is not a challenge for this registry.
      if (res.url.origin !== req.url.origin) return res;
      const wa = header(res, 'www-authenticate');
      const ch = wa ? parseChallenge(wa) : undefined;
      if (!ch || attempt >= 3 || !isReplayable(req.body)) return res;
      const insufficient = ch.params['error'] === 'insufficient_scope';
      if (res.status === 403 && !insufficient) return res;
      const hadChallenge = s.challenge !== undefined && s.challenge.scheme !== 'none' && s.challenge.scheme === ch.scheme;
      s.challenge = ch;
      // Credentials sent and refused: they may have been rotated since they were read; read them again, once.
      const rereadNow = !!auth && hadChallenge && res.status === 401 && !reread;
      if (rereadNow) {
        reread = true;
        this.forgetCredential(req.registry);
      }
      if (ch.scheme === 'bearer') {
        const merged = mergeScopes(scopes, ch.params['scope'] ? [ch.params['scope']] : []);
        const widened = merged.join(' ') !== scopes.join(' ');
        scopes = merged;
        if (widened) s.widened.set(asked.join(' '), merged);
        if (hadChallenge && !widened) {
          // Same scopes refused again: one fresh token (the cached one may have been revoked), then give up.
          if (refreshed) return res;
          refreshed = true;
        }
        // A token that was just refused for this scope set must not be reused.
        fresh = hadChallenge;
      } else if (hadChallenge && !rereadNow) {
        return res;
      }
      await discard(res);
    }
  }
}
