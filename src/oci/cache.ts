// A bounded, content-addressed blob cache on local disk, shared by every copy made through one RegistryClient
// (e.g. the per-destination copy activities of one worker): the first copy that needs a source blob streams it to
// its upload and to the cache at once; copies that need it meanwhile wait for that one download, then read the
// local file. Only verified bytes enter the cache (written to a temp file, renamed after the digest check), and
// least-recently-used files are evicted to stay under the byte budget.
import { createReadStream, createWriteStream, mkdirSync, readdirSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { isDigest } from '../model';

export interface BlobCacheOptions {
  dir: string;
  /** Total bytes kept on disk (default 2 GiB). Blobs larger than a quarter of this are streamed, not cached. */
  maxBytes?: number;
}

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

  constructor(opts: BlobCacheOptions) {
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes ?? 2 << 30;
    mkdirSync(join(this.dir, 'sha256'), { recursive: true });
    mkdirSync(join(this.dir, 'tmp'), { recursive: true });
    rmSync(join(this.dir, 'tmp'), { recursive: true, force: true });
    mkdirSync(join(this.dir, 'tmp'), { recursive: true });
    // Files left by an earlier process were renamed into place only after verification: keep them.
    for (const f of readdirSync(join(this.dir, 'sha256'))) {
      try {
        const size = statSync(join(this.dir, 'sha256', f)).size;
        this.entries.set(`sha256:${f}`, { size, readers: 0 });
        this.total += size;
      } catch {
        // raced with another cleaner
      }
    }
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
      if (hit) return this.read(digest, hit);
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
