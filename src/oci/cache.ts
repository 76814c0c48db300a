// A bounded, content-addressed blob cache on local disk, shared by every copy made through one RegistryClient
// (e.g. the per-destination copy activities of one worker): the first copy that needs a source blob streams it to
// its upload and to the cache at once; copies that need it meanwhile wait for that one download, then read the
// local file. The cache lives in a directory it creates for itself (mkdtemp, mode 0700) and never adopts files it
// did not write; only verified bytes enter it (written to a temp file, renamed after the digest check), every hit
// is verified again before use (a file changed on disk is evicted and the blob re-read from its source), and
// least-recently-used files are evicted to stay under the byte budget.
import { chmodSync, createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDigest } from '../model';
import { verifying } from './digest';

export interface BlobCacheOptions {
  /** Directory under which the cache creates its private directory (default: the OS temp directory). */
  parent?: string;
  /** Total bytes kept on disk (default 2 GiB). Blobs larger than a quarter of this are streamed, not cached. */
  maxBytes?: number;
}

export const DEFAULT_CACHE_BYTES = 2 * 2 ** 30;

interface Entry {
  size: number;
  readers: number;
}

export class BlobCache {
  private readonly dir: string;
  private readonly maxBytes: number;
  /** Insertion order = LRU order (re-inserted on use). */
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<boolean>>();
  private total = 0;

  constructor(opts: BlobCacheOptions = {}) {
    // A fresh private directory: nobody else can plant or swap files in it, and nothing in it predates us.
    this.dir = mkdtempSync(join(opts.parent ?? tmpdir(), 'promoflow-blobs-'));
    chmodSync(this.dir, 0o700);
    this.maxBytes = opts.maxBytes ?? DEFAULT_CACHE_BYTES;
    mkdirSync(join(this.dir, 'sha256'), { mode: 0o700 });
    mkdirSync(join(this.dir, 'tmp'), { mode: 0o700 });
  }

  /** The cache's private directory. */
  get directory(): string {
    return this.dir;
  }

  /** Remove the cache directory (worker exit). */
  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
    this.entries.clear();
    this.total = 0;
  }

  private path(digest: string): string {
    return join(this.dir, 'sha256', digest.slice('sha256:'.length));
  }

  /**
   * The blob's bytes: from the cache, or from `fetch` (whose stream must verify the digest and throw at the end on
   * a mismatch), recording them on the way when the blob fits the budget.
   */
  async open(digest: string, size: number, fetch: () => Promise<AsyncIterable<Uint8Array>>): Promise<AsyncIterable<Uint8Array>> {
    if (!isDigest(digest) || size > this.maxBytes / 4) return fetch();
    for (;;) {
      const hit = this.entries.get(digest);
      // A file changed on disk is dropped and the blob read from its source again.
      if (hit && (await this.intact(digest, hit))) return this.read(digest, hit);
      if (hit) this.drop(digest);
      const pending = this.inflight.get(digest);
      if (!pending) break;
      // Someone is downloading it: wait, then read it locally (or fetch ourselves if that download failed).
      if (!(await pending)) return fetch();
    }
    let done!: (ok: boolean) => void;
    this.inflight.set(digest, new Promise<boolean>((r) => (done = r)));
    let source: AsyncIterable<Uint8Array>;
    try {
      source = await fetch();
    } catch (e) {
      this.inflight.delete(digest);
      done(false);
      throw e;
    }
    return this.record(digest, size, source, (ok) => {
      this.inflight.delete(digest);
      done(ok);
    });
  }

  /**
   * Does the cached file still hold exactly the blob? Checked in full before any byte of it is handed out, so a file
   * changed on disk never reaches an upload (a check while streaming would come after the last byte was sent).
   */
  private async intact(digest: string, e: Entry): Promise<boolean> {
    e.readers++;
    try {
      const file = createReadStream(this.path(digest), { highWaterMark: 256 << 10 }) as AsyncIterable<Buffer>;
      for await (const chunk of verifying(file, digest, `cached blob ${digest}`, e.size)) void chunk;
      return true;
    } catch {
      return false;
    } finally {
      e.readers--;
    }
  }

  private async *read(digest: string, e: Entry): AsyncGenerator<Uint8Array> {
    this.entries.delete(digest);
    this.entries.set(digest, e);
    e.readers++;
    try {
      yield* createReadStream(this.path(digest), { highWaterMark: 256 << 10 }) as AsyncIterable<Buffer>;
    } finally {
      e.readers--;
    }
  }

  private drop(digest: string): void {
    const e = this.entries.get(digest);
    if (!e) return;
    this.entries.delete(digest);
    this.total -= e.size;
    rmSync(this.path(digest), { force: true });
  }

  private async *record(digest: string, size: number, source: AsyncIterable<Uint8Array>, settle: (ok: boolean) => void): AsyncGenerator<Uint8Array> {
    const tmp = join(this.dir, 'tmp', `${digest.slice(7)}.${randomBytes(4).toString('hex')}`);
    const out: WriteStream = createWriteStream(tmp);
    // A cache that cannot write (disk full…) must never fail the copy: it just stops caching this blob.
    let broken = false;
    out.on('error', () => (broken = true));
    const drained = (): Promise<void> =>
      new Promise<void>((r) => {
        const done = (): void => {
          out.off('drain', done);
          out.off('close', done);
          r();
        };
        out.once('drain', done);
        out.once('close', done);
      });
    let ok = false;
    try {
      for await (const chunk of source) {
        if (!broken && !out.write(chunk)) await drained();
        yield chunk;
      }
      // The source verified the digest when it ended: the file holds exactly the blob.
      if (!broken) await new Promise<void>((resolve) => out.end(() => resolve()));
      if (!broken && (await stat(tmp)).size === size) {
        await rename(tmp, this.path(digest));
        this.entries.set(digest, { size, readers: 0 });
        this.total += size;
        ok = true;
        await this.evict();
      }
    } finally {
      if (!ok) {
        out.destroy();
        await rm(tmp, { force: true });
      }
      settle(ok);
    }
  }

  private async evict(): Promise<void> {
    for (const [digest, e] of this.entries) {
      if (this.total <= this.maxBytes) return;
      if (e.readers > 0) continue;
      this.entries.delete(digest);
      this.total -= e.size;
      await rm(this.path(digest), { force: true });
    }
  }
}
