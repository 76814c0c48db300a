// Per-registry limits. Request limits: a concurrency semaphore and a token-bucket request rate; a slot is held until
// the response headers arrive (not the whole body), so a long download from one registry cannot deadlock uploads to
// the same registry when a caller pipes one into the other. Resource limits (src/model ResourceLimits: manifest size,
// index width and depth, bytes per copy, tags, signature layers, throughput) are enforced where each applies; the
// transfer throughput one is handed to the HTTP layer here.
import { resourceLimits, type RegistryLimits } from '../model';
import type { HttpRequest, HttpResponse, Transport } from './transport';

export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];
  constructor(private readonly max: number) {}

  async acquire(): Promise<void> {
    if (this.active < this.max) {
      this.active++;
      return;
    }
    await new Promise<void>((r) => this.waiters.push(r));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.active--;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}

/** The time source a token bucket reads and waits on: the real clock, or a virtual one in tests. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

export class TokenBucket {
  private tokens: number;
  private last: number;
  private chain: Promise<void> = Promise.resolve();
  constructor(
    private readonly rate: number,
    private readonly burst = Math.max(1, Math.ceil(rate)),
    private readonly clock: Clock = realClock,
  ) {
    this.tokens = this.burst;
    this.last = clock.now();
  }

  take(): Promise<void> {
    // Serialised so waiters are served in order and never overdraw.
    const p = this.chain.then(async () => {
      const now = this.clock.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
      this.last = now;
      if (this.tokens < 1) {
        await this.clock.sleep(((1 - this.tokens) / this.rate) * 1000);
        this.tokens = 1;
        this.last = this.clock.now();
      }
      this.tokens -= 1;
    });
    this.chain = p;
    return p;
  }
}

/** Run `fn` (async) over items with at most `n` in flight. */
export async function mapLimit<T, R>(items: readonly T[], n: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  if (failed !== undefined) throw failed;
  return out;
}

interface PerRegistry {
  sem?: Semaphore;
  bucket?: TokenBucket;
}

export class LimitTransport implements Transport {
  private readonly perRegistry = new Map<string, PerRegistry>();
  constructor(
    private readonly inner: Transport,
    private readonly limits: (registry: string) => RegistryLimits | undefined,
  ) {}

  private get(registry: string): PerRegistry {
    let l = this.perRegistry.get(registry);
    if (!l) {
      const cfg = this.limits(registry) ?? {};
      l = {};
      if (cfg.concurrency !== undefined && cfg.concurrency > 0) l.sem = new Semaphore(cfg.concurrency);
      if (cfg.requestsPerSecond !== undefined && cfg.requestsPerSecond > 0) l.bucket = new TokenBucket(cfg.requestsPerSecond);
      this.perRegistry.set(registry, l);
    }
    return l;
  }

  /**
   * Hold one concurrency slot of each registry, acquired in one global (sorted) order, for streamed requests that
   * only progress together (a tee feeding several uploads): taking them one by one as each request starts could
   * deadlock two tees against each other. Requests marked `reserved` then pass without taking another slot.
   */
  async reserve(registries: Iterable<string>): Promise<Map<string, () => void>> {
    const out = new Map<string, () => void>();
    for (const r of [...new Set(registries)].sort()) {
      const sem = this.get(r).sem;
      if (sem) await sem.acquire();
      let held = sem !== undefined;
      out.set(r, () => {
        if (held) sem!.release();
        held = false;
      });
    }
    return out;
  }

  async roundTrip(req: HttpRequest): Promise<HttpResponse> {
    const l = this.get(req.registry);
    const sem = req.reserved ? undefined : l.sem;
    if (sem) await sem.acquire();
    try {
      if (l.bucket) await l.bucket.take();
      // Read per request (not cached like the semaphore): a limit registered later still applies.
      return await this.inner.roundTrip({ ...req, minBytesPerSecond: resourceLimits(this.limits(req.registry)).minBytesPerSecond });
    } finally {
      sem?.release();
    }
  }
}
