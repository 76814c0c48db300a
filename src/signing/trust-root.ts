// The sigstore trust root a keyless policy uses when it names no `trustedRoot` file: the instance's
// trusted_root.json obtained the way sigstore-js obtains it, through the instance's TUF repository (@sigstore/tuf:
// the public-good root embedded in the package, verified metadata, a cache directory), refreshed when online.
// Offline it falls back to the last trusted root TUF delivered (kept in the cache directory), then to a
// trusted_root.json file the operator configured; with neither, one error line says what to set.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MIRROR_URL, initTUF } from '@sigstore/tuf';
import type { TrustMaterial } from '@sigstore/verify';
import { z } from 'zod';
import { parseJsonWith } from './encoding';
import { trustMaterialFromTrustedRoot } from './keyless';

export const PUBLIC_GOOD_TUF_MIRROR = DEFAULT_MIRROR_URL;
const TRUSTED_ROOT_TARGET = 'trusted_root.json';

export interface TrustRootConfig {
  /** The TUF repository (default: the public-good sigstore instance's). */
  mirrorURL: string;
  /** The initial root.json of that repository; the public-good one is embedded in @sigstore/tuf. */
  tufRootFile?: string;
  /** Where TUF metadata, targets and the last trusted root are cached. */
  cacheDir: string;
  /** A trusted_root.json used when the repository cannot be reached and nothing is cached (air-gapped workers). */
  fallbackFile?: string;
  /** How long a trusted root is used before TUF is asked again. */
  maxAgeMs: number;
  /** Per request to the repository; a down mirror must not stall a signing activity for long. */
  timeoutMs: number;
  retries: number;
}

/** Where a trusted root came from, for the worker's log. */
export type TrustRootSource = 'tuf' | 'cache' | 'file';

/** The worker's configuration is wrong (a verdict: retrying does not fix it). */
export class TrustRootConfigError extends Error {
  override name = 'TrustRootConfigError';
}

/** No trusted root could be obtained now (transient: the repository may come back). */
export class TrustRootUnavailableError extends Error {
  override name = 'TrustRootUnavailableError';
}

export const TRUST_ROOT_ENV = {
  mirror: 'PROMOFLOW_TUF_MIRROR',
  root: 'PROMOFLOW_TUF_ROOT',
  cache: 'PROMOFLOW_TUF_CACHE',
  file: 'PROMOFLOW_TRUSTED_ROOT',
  maxAge: 'PROMOFLOW_TUF_REFRESH_SECONDS',
} as const;

/**
 * The worker's TUF settings from its environment: PROMOFLOW_TUF_MIRROR (+ PROMOFLOW_TUF_ROOT, the mirror's initial
 * root.json, for any mirror but the public-good one), PROMOFLOW_TUF_CACHE (default $XDG_CACHE_HOME/promoflow/tuf),
 * PROMOFLOW_TRUSTED_ROOT (the offline fallback file) and PROMOFLOW_TUF_REFRESH_SECONDS (default 900).
 */
export function trustRootConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TrustRootConfig {
  const mirrorURL = env[TRUST_ROOT_ENV.mirror] || PUBLIC_GOOD_TUF_MIRROR;
  let u: URL;
  try {
    u = new URL(mirrorURL);
  } catch {
    throw new TrustRootConfigError(`${TRUST_ROOT_ENV.mirror}=${JSON.stringify(mirrorURL)} is not a URL: expected https://host[/path] of a sigstore TUF repository`);
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/.test(u.hostname))) {
    throw new TrustRootConfigError(`${TRUST_ROOT_ENV.mirror}=${JSON.stringify(mirrorURL)} is not HTTPS: use https:// (plain http only to loopback)`);
  }
  const tufRootFile = env[TRUST_ROOT_ENV.root] || undefined;
  if (mirrorURL !== PUBLIC_GOOD_TUF_MIRROR && !tufRootFile) {
    throw new TrustRootConfigError(`${TRUST_ROOT_ENV.mirror}=${mirrorURL} needs ${TRUST_ROOT_ENV.root}: the path of that repository's initial root.json (only the public-good root is built in)`);
  }
  const rawAge = env[TRUST_ROOT_ENV.maxAge];
  const age = rawAge === undefined || rawAge === '' ? 900 : Number(rawAge);
  if (!Number.isFinite(age) || age < 0) {
    throw new TrustRootConfigError(`${TRUST_ROOT_ENV.maxAge}=${JSON.stringify(rawAge)} is not a number of seconds: expected e.g. 900`);
  }
  const cacheDir = env[TRUST_ROOT_ENV.cache] || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'promoflow', 'tuf');
  const fallbackFile = env[TRUST_ROOT_ENV.file] || undefined;
  return { mirrorURL, cacheDir, maxAgeMs: age * 1000, timeoutMs: 5000, retries: 2, ...(tufRootFile ? { tufRootFile } : {}), ...(fallbackFile ? { fallbackFile } : {}) };
}

/** A trusted_root.json is a JSON object; its fields are checked by sigstore's own parser. */
const trustedRootJson = z.record(z.string(), z.unknown());

/** Trust material from trusted_root.json text; one line naming where it came from when it is not one. */
export function trustMaterialFromText(text: string, where: string): TrustMaterial {
  let json: Record<string, unknown>;
  try {
    json = parseJsonWith(Buffer.from(text, 'utf8'), trustedRootJson, `trusted root ${where}: not JSON`, (issues) => `trusted root ${where}: not a JSON object (${issues})`);
  } catch (e) {
    throw new TrustRootConfigError(firstLine(e));
  }
  try {
    return trustMaterialFromTrustedRoot(json);
  } catch (e) {
    throw new TrustRootConfigError(`${where}: ${firstLine(e)}`);
  }
}

interface Loaded {
  material: TrustMaterial;
  source: TrustRootSource;
  /** The trusted_root.json itself (to hand to cosign, or to an air-gapped worker). */
  text: string;
  at: number;
}

/**
 * One worker's view of an instance's trust root: fetched through TUF at most once per `maxAgeMs` (concurrent
 * callers share the fetch), the last one TUF delivered kept for offline use.
 */
export class TufTrustRoot {
  private loaded: Loaded | undefined;
  private inflight: Promise<Loaded> | undefined;

  constructor(
    readonly config: TrustRootConfig,
    private readonly log: (line: string) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /** The trust material, refreshed through TUF when the last one is older than the configured age. */
  async material(): Promise<TrustMaterial> {
    const l = this.loaded;
    if (l && this.now() - l.at < this.config.maxAgeMs) return l.material;
    return (await this.refresh()).material;
  }

  /** Ask TUF now (falling back offline); where the trust root came from. */
  async refresh(): Promise<{ material: TrustMaterial; source: TrustRootSource; text: string }> {
    this.inflight ??= this.load().finally(() => (this.inflight = undefined));
    const l = await this.inflight;
    this.loaded = l;
    return l;
  }

  /** The last trusted root TUF delivered for this mirror. */
  get cachedFile(): string {
    const u = new URL(this.config.mirrorURL);
    return join(this.config.cacheDir, `${encodeURIComponent(u.host + u.pathname.replace(/\/$/, ''))}.${TRUSTED_ROOT_TARGET}`);
  }

  private async load(): Promise<Loaded> {
    const at = this.now();
    let tufError: string;
    try {
      const text = await this.fromTuf();
      const material = trustMaterialFromText(text, `from ${this.config.mirrorURL}`);
      this.keep(text);
      return { material, source: 'tuf', text, at };
    } catch (e) {
      if (e instanceof TrustRootConfigError) throw e;
      tufError = oneLine(e);
    }
    const cached = readIfThere(this.cachedFile);
    if (cached !== undefined) {
      this.log(`sigstore trust root: TUF repository ${this.config.mirrorURL} unreachable (${tufError}); using the cached trusted root ${this.cachedFile}`);
      return { material: trustMaterialFromText(cached, this.cachedFile), source: 'cache', text: cached, at };
    }
    if (this.config.fallbackFile) {
      let text: string;
      try {
        text = readFileSync(this.config.fallbackFile, 'utf8');
      } catch (e) {
        throw new TrustRootConfigError(`${TRUST_ROOT_ENV.file}=${this.config.fallbackFile}: cannot read it on the worker (${(e as NodeJS.ErrnoException).code ?? 'error'}); the TUF repository ${this.config.mirrorURL} is unreachable too (${tufError})`);
      }
      this.log(`sigstore trust root: TUF repository ${this.config.mirrorURL} unreachable (${tufError}); using ${TRUST_ROOT_ENV.file}=${this.config.fallbackFile}`);
      return { material: trustMaterialFromText(text, this.config.fallbackFile), source: 'file', text, at };
    }
    throw new TrustRootUnavailableError(
      `sigstore trust root: the TUF repository ${this.config.mirrorURL} is unreachable (${tufError}), nothing is cached in ${this.config.cacheDir} and ${TRUST_ROOT_ENV.file} is not set: give the worker network access to it, or set ${TRUST_ROOT_ENV.file}=path/to/trusted_root.json (or signing.keyless.trustedRoot)`,
    );
  }

  /** TUF refresh (root rotation, timestamp, snapshot, targets), then the verified trusted_root.json target. */
  private async fromTuf(): Promise<string> {
    const c = this.config;
    // A missing or garbled initial root is the operator's to fix, not an outage to fall back from.
    if (c.tufRootFile) {
      try {
        JSON.parse(readFileSync(c.tufRootFile, 'utf8'));
      } catch (e) {
        const why = (e as NodeJS.ErrnoException).code ?? 'not JSON';
        throw new TrustRootConfigError(`${TRUST_ROOT_ENV.root}=${c.tufRootFile}: not a readable TUF root.json (${why}): give the repository's initial root (e.g. its 1.root.json)`);
      }
    }
    const tuf = await initTUF({ mirrorURL: c.mirrorURL, cachePath: c.cacheDir, timeout: c.timeoutMs, retry: c.retries, ...(c.tufRootFile ? { rootPath: c.tufRootFile } : {}) });
    return tuf.getTarget(TRUSTED_ROOT_TARGET);
  }

  /** Written whole or not at all: a crash mid-write must not leave a torn root for the next offline start. */
  private keep(text: string): void {
    try {
      mkdirSync(this.config.cacheDir, { recursive: true });
      const tmp = `${this.cachedFile}.${process.pid}.tmp`;
      writeFileSync(tmp, text);
      renameSync(tmp, this.cachedFile);
    } catch (e) {
      this.log(`sigstore trust root: cannot cache it in ${this.config.cacheDir} (${oneLine(e)}); offline fallback will not have it`);
    }
  }
}

function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0] ?? '';
}

/** The first line of an error with its cause's (TUF errors wrap the fetch failure). */
function oneLine(e: unknown): string {
  const cause = (e as { cause?: unknown })?.cause;
  return cause instanceof Error ? `${firstLine(e)}: ${firstLine(cause)}` : firstLine(e);
}
