// The state store: content-addressed documents that a run's workflows refer to instead of carrying them (the
// claim-check pattern). A run's desired state (the bundle the CLI writes), each shard's work set and each batch's
// per-edge account live here; Temporal history holds only their `sha256:` references. Every worker of a cluster
// and the CLI must see the same store: a directory on one host or a shared volume (this implementation). Content
// addressing makes writes idempotent (a retried activity rewrites the same name) and reads verifiable (a
// truncated or foreign file is refused), and lets workers cache documents forever by reference.
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rename, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';
import type { z } from 'zod';

/** A reference to a stored document: the sha256 of its (uncompressed) JSON bytes. */
export type StateRef = `sha256:${string}`;

export const STATE_REF = /^sha256:[0-9a-f]{64}$/;

export function isStateRef(s: string): s is StateRef {
  return STATE_REF.test(s);
}

export interface StateStore {
  /** Where the store is, for messages (never a credential). */
  readonly location: string;
  put(bytes: Buffer): Promise<StateRef>;
  /** The bytes of `ref`, verified against it; throws StateMissingError when absent. */
  get(ref: StateRef): Promise<Buffer>;
}

// Compression and file I/O off the event loop: a worker's workflow activations share that loop with its activities.
const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

export class StateMissingError extends Error {
  override name = 'StateMissingError';
}

export class StateCorruptError extends Error {
  override name = 'StateCorruptError';
}

export function refOf(bytes: Buffer): StateRef {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * A directory: `<dir>/sha256/<2 hex>/<64 hex>.json.gz`. Writes go to a temporary name and are renamed into place,
 * so a reader never sees half a document, even with several workers writing the same reference at once.
 */
export class FsStateStore implements StateStore {
  constructor(readonly location: string) {}

  private pathOf(ref: StateRef): string {
    const hex = ref.slice('sha256:'.length);
    return join(this.location, 'sha256', hex.slice(0, 2), `${hex}.json.gz`);
  }

  async put(bytes: Buffer): Promise<StateRef> {
    const ref = refOf(bytes);
    const path = this.pathOf(ref);
    if (await access(path).then(() => true, () => false)) {
      // Written again (a re-stored bundle): its age restarts, so retention (gc.ts) never takes it from a new run.
      const now = new Date();
      await utimes(path, now, now).catch(() => undefined);
      return ref;
    }
    await mkdir(join(path, '..'), { recursive: true });
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, await gzip(bytes, { level: 1 }));
    await rename(tmp, path);
    return ref;
  }

  async get(ref: StateRef): Promise<Buffer> {
    if (!isStateRef(ref)) throw new StateMissingError(`${String(ref)} is not a state reference (sha256:<64 hex>)`);
    let gz: Buffer;
    try {
      gz = await readFile(this.pathOf(ref));
    } catch {
      throw new StateMissingError(`${ref} is not in the state store ${this.location}: every worker and the CLI must share one store (PROMOFLOW_STATE_STORE)`);
    }
    const bytes = await gunzip(gz);
    if (refOf(bytes) !== ref) throw new StateCorruptError(`${ref} in the state store ${this.location} does not match its digest; the file is damaged`);
    return bytes;
  }
}

export async function putJson(store: StateStore, value: unknown): Promise<StateRef> {
  return store.put(Buffer.from(JSON.stringify(value)));
}

/** Read and validate a stored JSON document (the store is shared, so its content is checked at the boundary). */
export async function getJson<T>(store: StateStore, ref: StateRef, schema: z.ZodType<T>, what: string): Promise<T> {
  const bytes = await store.get(ref);
  const r = schema.safeParse(JSON.parse(bytes.toString('utf8')));
  if (!r.success) throw new StateCorruptError(`${what} ${ref}: ${r.error.issues[0]?.path.join('.') ?? ''}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

/** The store a process uses: PROMOFLOW_STATE_STORE (a directory every worker and the CLI share) or the default. */
export function stateStoreFrom(env: NodeJS.ProcessEnv, fallbackDir: string): StateStore {
  return new FsStateStore(env.PROMOFLOW_STATE_STORE || fallbackDir);
}
