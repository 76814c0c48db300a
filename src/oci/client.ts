// RegistryClient: configuration plus the assembled transport stack
//   auth → redirect → retry → per-registry limits → HTTP (keep-alive pools)
// and the one place that decides the URL scheme of a registry (HTTPS, plain HTTP only for loopback or insecure).
import { AuthTransport, type Credential } from './auth';
import { BlobCache, type BlobCacheOptions } from './cache';
import { BlobPlacements } from './placements';
import { OciError } from './errors';
import { apiHost, isLoopback, resourceLimits, type RegistryLimits, type RepositoryRef, type ResourceLimits } from '../model';
import { LimitTransport } from './limits';
import { RedirectTransport, withoutAuthorization } from './redirect';
import { errorFromResponse, type ErrorContext } from './response';
import { DEFAULT_RETRY, RetryTransport, type RetryPolicy } from './retry';
import { discard, HttpTransport, type HttpRequest, type HttpResponse, type HttpTransportOptions, type RequestBody, type Transport } from './transport';

export interface RegistryClientOptions {
  credentials?: (registry: string) => Promise<Credential | undefined>;
  /** Plain HTTP allowed for this registry; loopback (127.0.0.0/8, localhost, [::1]) is always allowed. */
  insecure?: (registry: string) => boolean;
  limits?: (registry: string) => RegistryLimits | undefined;
  userAgent?: string;
}

/**
 * Blobs larger than this are HEADed at a destination before anything is sent (copy.ts). Smaller ones are not: a
 * self-mount POST checks and opens the upload session in one request, and a registry that never mounts (always 202,
 * as ECR does) is sent such a blob again even if it has it. Below this size that re-upload costs less than a HEAD per
 * blob per destination on every registry; above it a needless transfer would dominate the copy.
 */
export const HEAD_FIRST_BYTES = 32 << 20;

/** Knobs beyond the contract, for tests and the benchmark. */
export interface RegistryClientTuning {
  retry?: Partial<RetryPolicy>;
  http?: HttpTransportOptions;
  /** Blob transfers in flight per copy. */
  copyConcurrency?: number;
  /** See HEAD_FIRST_BYTES. */
  headFirstBytes?: number;
  /** Share source reads between copies through a bounded local disk cache (see BlobCache). */
  blobCache?: BlobCacheOptions;
}

export interface ClientRequest {
  method: HttpRequest['method'];
  /** Path under /v2/<repository>/, e.g. `manifests/latest`; or a full URL (upload Location). */
  path: string | URL;
  headers?: Record<string, string>;
  body?: RequestBody;
  scopes?: string[];
  signal?: AbortSignal;
  /** This registry's concurrency slot is already held (reserveStreams). */
  reserved?: boolean;
}

/** What a scoped client shares with the client it came from: connection pools, limits, the blob cache, TLS probes. */
interface SharedParts {
  http: HttpTransport;
  limited: LimitTransport;
  blobCache: BlobCache | undefined;
  schemes: Map<string, Promise<'http' | 'https'>>;
}

export class RegistryClient {
  readonly options: RegistryClientOptions;
  readonly retry: RetryPolicy;
  readonly copyConcurrency: number;
  readonly headFirstBytes: number;
  readonly blobCache: BlobCache | undefined;
  /** Where this client (this scope's credentials) wrote blobs: later copies mount from there. */
  readonly placements = new BlobPlacements();
  private readonly http: HttpTransport;
  private readonly auth: AuthTransport;
  /** The stack below auth: for URLs a registry hands us on another origin, which get no credentials. */
  private readonly anonymous: Transport;
  private readonly limited: LimitTransport;
  private readonly schemes: Map<string, Promise<'http' | 'https'>>;
  private readonly tuning: RegistryClientTuning;

  constructor(opts: RegistryClientOptions = {}, tuning: RegistryClientTuning = {}, shared?: SharedParts) {
    this.options = opts;
    this.tuning = tuning;
    this.retry = { ...DEFAULT_RETRY, ...tuning.retry };
    this.copyConcurrency = tuning.copyConcurrency ?? 8;
    this.headFirstBytes = tuning.headFirstBytes ?? HEAD_FIRST_BYTES;
    this.blobCache = shared ? shared.blobCache : tuning.blobCache ? new BlobCache(tuning.blobCache) : undefined;
    this.http = shared?.http ?? new HttpTransport({ ...tuning.http, userAgent: opts.userAgent ?? tuning.http?.userAgent ?? 'promoflow' });
    this.schemes = shared?.schemes ?? new Map();
    const limited = shared?.limited ?? new LimitTransport(this.http, (r) => opts.limits?.(r));
    this.limited = limited;
    const retried = new RetryTransport(limited, this.retry);
    const redirected = new RedirectTransport(retried, (h) => this.plainHttpAllowed(h));
    this.anonymous = redirected;
    this.auth = new AuthTransport(redirected, opts.credentials, (h) => this.plainHttpAllowed(h));
  }

  /** The resource limits in force for a registry (its configured limits over DEFAULT_LIMITS). */
  limitsFor(registry: string): ResourceLimits {
    return resourceLimits(this.options.limits?.(registry));
  }

  /**
   * A client for one scope (one run's endpoints): its own credentials, its own plain-HTTP allowance and its own
   * auth state (challenges, tokens), over this client's connection pools, limits and blob cache. Nothing a scope
   * learns or is given reaches another scope.
   */
  scoped(opts: Pick<RegistryClientOptions, 'credentials' | 'insecure'>): RegistryClient {
    return new RegistryClient({ ...this.options, ...opts }, this.tuning, { http: this.http, limited: this.limited, blobCache: this.blobCache, schemes: this.schemes });
  }

  plainHttpAllowed(registry: string): boolean {
    return isLoopback(registry) || (this.options.insecure?.(registry) ?? false);
  }

  /**
   * Base URL of a registry's API. HTTPS always, except where plain HTTP is allowed (loopback, insecure): there we
   * try HTTPS first and use plain HTTP only when the server does not speak TLS at all. A certificate that fails
   * verification is never a reason to fall back.
   */
  async base(registry: string): Promise<URL> {
    const host = apiHost(registry);
    if (!this.plainHttpAllowed(registry)) return new URL(`https://${host}/`);
    let scheme = this.schemes.get(registry);
    if (!scheme) {
      scheme = this.http.speaksTls(host).then((tls) => (tls ? 'https' : 'http'));
      this.schemes.set(registry, scheme);
      scheme.catch(() => this.schemes.delete(registry));
    }
    return new URL(`${await scheme}://${host}/`);
  }

  async url(repo: RepositoryRef, path: string): Promise<URL> {
    return new URL(`/v2/${repo.repository}/${path}`, await this.base(repo.registry));
  }

  /**
   * Does the registry answer at its API base (/v2/)? One GET, without auth or retries: a reachability probe before
   * work starts. Any HTTP status counts (401 is the registry asking for credentials, which requests handle); a
   * network failure throws RegistryUnavailableError, and the caller bounds the wait with `signal`.
   */
  async ping(registry: string, signal?: AbortSignal): Promise<number> {
    const url = new URL('/v2/', await this.base(registry));
    const res = await this.http.roundTrip({ method: 'GET', url, registry, ...(signal ? { signal } : {}) });
    await discard(res);
    return res.status;
  }

  /** Send a request through the full stack; the caller owns the response body. */
  async send(repo: RepositoryRef, r: ClientRequest): Promise<HttpResponse> {
    const url = typeof r.path === 'string' ? await this.url(repo, r.path) : r.path;
    if (url.protocol === 'http:' && !this.plainHttpAllowed(url.host)) {
      throw new OciError(`refusing plain HTTP to ${url.host}: only loopback or registries marked insecure may use it`);
    }
    // A body we cannot send twice needs the auth challenge known before it goes out.
    if (r.body !== undefined && !Buffer.isBuffer(r.body)) await this.auth.prime(repo.registry, await this.base(repo.registry), r.signal);
    const req: HttpRequest = { method: r.method, url, registry: repo.registry, ...(r.headers ? { headers: r.headers } : {}), ...(r.body !== undefined ? { body: r.body } : {}), ...(r.scopes ? { scopes: r.scopes } : {}), ...(r.signal ? { signal: r.signal } : {}), ...(r.reserved ? { reserved: true } : {}) };
    // Same-origin rule: credentials go only to the registry's own origin (scheme, host and port). A URL the registry
    // handed us (an upload Location) on another origin is followed without them, as a redirect that leaves the
    // origin is; its requests still count against the registry's limits.
    if (typeof r.path !== 'string' && url.origin !== (await this.base(repo.registry)).origin) {
      return this.anonymous.roundTrip({ ...req, headers: withoutAuthorization(req.headers), scopes: [] });
    }
    return this.auth.roundTrip(req);
  }

  /**
   * Prepare streamed uploads to these registries that must progress together: learn each auth challenge first (no
   * request may wait for a slot while slots are held), then hold one concurrency slot per registry. Release each
   * with the returned functions (idempotent).
   */
  async reserveStreams(registries: string[], signal?: AbortSignal): Promise<Map<string, () => void>> {
    await Promise.all([...new Set(registries)].map(async (r) => this.auth.prime(r, await this.base(r), signal)));
    return this.limited.reserve(registries);
  }

  error(res: HttpResponse, ctx: ErrorContext): Promise<OciError> {
    return errorFromResponse(res, ctx);
  }

  /** Close pooled connections and remove the blob cache's directory (tests, CLI exit). */
  close(): void {
    this.http.close();
    this.blobCache?.close();
  }
}
