// A hostile registry for tests and the hostile bench: a real HTTP server on 127.0.0.1 speaking enough of the
// distribution API (base, manifests, blobs, uploads, tags, catalog) to serve ordinary images, and to play every attack
// of issue 12 on demand: upload Location and Link pagination on another origin, endless or oversized blobs (e.g. a
// .sig layer), 130,000-tag pages, deep index chains, wide or huge manifests, bodies trickling a byte at a time. A
// second port (`otherHost`, another origin) shares its store. Every request is recorded with the Authorization it
// carried and the host it reached, so a test can assert where credentials went.
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startLoopbackServer } from './loopback-server';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const LAYER = 'application/vnd.oci.image.layer.v1.tar';
const COSIGN_LAYER = 'application/vnd.dev.cosign.simplesigning.v1+json';

export type Digest = `sha256:${string}`;
const digestOf = (b: Uint8Array | string): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface RecordedRequest {
  /** host:port the request reached: the registry's `host` or its `otherHost`. */
  host: string;
  method: string;
  /** Path and query. */
  path: string;
  authorization?: string;
  status?: number;
}

export interface HostileDescriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations?: Record<string, string>;
}

/** How the registry answers a GET of one blob. */
export type BlobBehaviour =
  | { kind: 'bytes'; bytes: Buffer }
  /** Bytes without end (no Content-Length), a chunk at a time, until the client hangs up. */
  | { kind: 'endless'; chunk?: number }
  /** `bytes`, one `step` of bytes every `intervalMs` (Content-Length announced honestly). */
  | { kind: 'trickle'; bytes: Buffer; intervalMs: number; step?: number };

export interface HostileOptions {
  /** Credentials the registry demands on every request (401 + a Basic challenge otherwise). */
  basicAuth?: { username: string; password: string };
  /** Upload sessions are opened on `otherHost` (absolute Location on another origin). */
  foreignUploadLocation?: boolean;
  /** tags/list and _catalog pagination Links point to `otherHost`. */
  foreignLinks?: boolean;
  /** Page size when the client asks none (default: every tag in one page, as a hostile registry may). */
  defaultPageSize?: number;
}

export interface HostileRegistry {
  /** host:port of the registry. */
  host: string;
  /** host:port of another origin the registry points clients at (shares the store, demands no credentials). */
  otherHost: string;
  options: HostileOptions;
  requests: RecordedRequest[];
  /** Authorization headers that reached `host` (default: the other origin); a leak test expects [] there. */
  authorizationsAt(host?: string): string[];
  /** Store a blob (served as bytes unless `behaviour` says otherwise). */
  blob(repo: string, bytes: Buffer | string, mediaType?: string): HostileDescriptor;
  /** Serve `digest` (which need not match anything) with a hostile behaviour. */
  serveBlob(digest: Digest, behaviour: BlobBehaviour): void;
  /** Store a manifest under its digest and any tags. */
  manifest(repo: string, bytes: Buffer | string, mediaType: string, tags?: string[]): HostileDescriptor;
  /** A small single-layer image (config + layer + manifest), optionally tagged. */
  image(repo: string, opts?: { tags?: string[]; layer?: Buffer; layers?: HostileDescriptor[] }): HostileDescriptor;
  /** An index of `depth` levels, each holding only the next; the bottom is a small image. Returns the top. */
  indexChain(repo: string, depth: number, tags?: string[]): HostileDescriptor;
  /** An index listing `children` distinct (never stored) image manifests: only its size and width are hostile. */
  wideIndex(repo: string, children: number, tags?: string[]): HostileDescriptor;
  /** An image manifest padded with an annotation to about `bytes` bytes. */
  hugeManifest(repo: string, bytes: number, tags?: string[]): HostileDescriptor;
  /** `count` tags on a repository (names t000000…), answered by tags/list; no manifests behind them. */
  manyTags(repo: string, count: number): void;
  /**
   * A cosign signature image (`sha256-<hex>.sig`) for `subject` whose one layer is `layer` (e.g. a descriptor of a
   * blob served endlessly). Returns the signature manifest.
   */
  signature(repo: string, subject: Digest, layer: HostileDescriptor, suffix?: 'sig' | 'att'): HostileDescriptor;
  /** Bytes received by completed uploads, by digest (what a destination was sent). */
  uploaded: Map<string, Buffer>;
  stop(): Promise<void>;
}

interface Repo {
  manifests: Map<string, { bytes: Buffer; mediaType: string }>;
  tags: Map<string, string>;
  extraTags: number;
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

function ociError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  send(res, status, { errors: [{ code, message }] }, headers);
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Write `chunk` honouring backpressure; false once the client is gone. */
function write(res: ServerResponse, chunk: Buffer): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (res.write(chunk)) return Promise.resolve(true);
  return new Promise((r) => {
    const done = (ok: boolean) => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      r(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

export async function startHostileRegistry(options: HostileOptions = {}): Promise<HostileRegistry> {
  const repos = new Map<string, Repo>();
  const blobs = new Map<string, BlobBehaviour>();
  /** `repo|digest` of blobs a repository holds (HEAD/GET answer 404 elsewhere, so copies really upload). */
  const held = new Set<string>();
  /** Digests served with a hostile behaviour from every repository. */
  const everywhere = new Set<string>();
  const uploads = new Map<string, Buffer[]>();
  const uploaded = new Map<string, Buffer>();
  const requests: RecordedRequest[] = [];
  const repoOf = (name: string): Repo => {
    let r = repos.get(name);
    if (!r) {
      r = { manifests: new Map(), tags: new Map(), extraTags: 0 };
      repos.set(name, r);
    }
    return r;
  };
  // Filled once both servers listen (handlers only run after that).
  const at = { main: '', other: '' };
  const expected = options.basicAuth ? `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')}` : undefined;

  const tagNames = (r: Repo): { count: number; at: (i: number) => string } => {
    const named = [...r.tags.keys()].sort();
    return { count: named.length + r.extraTags, at: (i) => (i < named.length ? named[i]! : `t${String(i - named.length).padStart(6, '0')}`) };
  };

  /** One page of a list, as JSON text built without materialising the whole list twice. */
  const page = (res: ServerResponse, url: URL, key: 'tags' | 'repositories', name: string | undefined, all: { count: number; at: (i: number) => string }): void => {
    const n = Number(url.searchParams.get('n') ?? options.defaultPageSize ?? all.count) || all.count;
    const last = url.searchParams.get('last');
    let start = 0;
    if (last !== null) while (start < all.count && all.at(start) <= last) start++;
    const end = Math.min(all.count, start + n);
    const items: string[] = [];
    for (let i = start; i < end; i++) items.push(all.at(i));
    const headers: Record<string, string> = {};
    if (end < all.count) {
      const base = options.foreignLinks ? `http://${at.other}` : '';
      headers['link'] = `<${base}${url.pathname}?n=${n}&last=${encodeURIComponent(items[items.length - 1]!)}>; rel="next"`;
    }
    send(res, 200, JSON.stringify({ ...(name !== undefined ? { name } : {}), [key]: items }), headers);
  };

  const serveBlobBody = async (req: IncomingMessage, res: ServerResponse, b: BlobBehaviour): Promise<void> => {
    if (b.kind === 'bytes') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(b.bytes.length), 'docker-content-digest': digestOf(b.bytes) });
      res.end(req.method === 'HEAD' ? undefined : b.bytes);
      return;
    }
    if (b.kind === 'endless') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      if (req.method === 'HEAD') return void res.end();
      const chunk = Buffer.alloc(b.chunk ?? 64 << 10, 0x61);
      while (await write(res, chunk));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(b.bytes.length) });
    if (req.method === 'HEAD') return void res.end();
    const step = b.step ?? 1;
    for (let i = 0; i < b.bytes.length; i += step) {
      if (!(await write(res, b.bytes.subarray(i, i + step)))) return;
      await wait(b.intervalMs);
    }
    res.end();
  };

  const handle = (origin: () => string) => async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', `http://${origin()}`);
    const rec: RecordedRequest = { host: origin(), method: req.method ?? 'GET', path: `${url.pathname}${url.search}`, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) };
    requests.push(rec);
    res.on('finish', () => (rec.status = res.statusCode));
    const onMain = origin() === at.main;
    if (onMain && expected && req.headers.authorization !== expected) {
      req.resume();
      return ociError(res, 401, 'UNAUTHORIZED', 'authentication required', { 'www-authenticate': 'Basic realm="hostile"' });
    }
    const p = url.pathname;
    if (p === '/v2/' || p === '/v2') return send(res, 200, {});
    if (p === '/v2/_catalog') {
      const names = [...repos.keys()].sort();
      return page(res, url, 'repositories', undefined, { count: names.length, at: (i) => names[i]! });
    }
    let m: RegExpExecArray | null;
    if ((m = /^\/v2\/(.+)\/tags\/list$/.exec(p))) {
      const r = repos.get(m[1]!);
      if (!r) return ociError(res, 404, 'NAME_UNKNOWN', 'repository name not known to registry');
      return page(res, url, 'tags', m[1]!, tagNames(r));
    }
    if ((m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(p))) {
      const [name, ref] = [m[1]!, m[2]!];
      if (req.method === 'PUT') {
        const bytes = await readAll(req);
        const d = digestOf(bytes);
        if (ref.startsWith('sha256:') && ref !== d) return ociError(res, 400, 'DIGEST_INVALID', 'digest mismatch');
        const r = repoOf(name);
        r.manifests.set(d, { bytes, mediaType: String(req.headers['content-type'] ?? OCI_MANIFEST) });
        if (!ref.startsWith('sha256:')) r.tags.set(ref, d);
        return send(res, 201, undefined, { 'docker-content-digest': d, location: `/v2/${name}/manifests/${d}` });
      }
      const r = repos.get(name);
      const d = ref.startsWith('sha256:') ? ref : r?.tags.get(ref);
      const mf = d ? r?.manifests.get(d) : undefined;
      if (!mf) return ociError(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
      res.writeHead(200, { 'content-type': mf.mediaType, 'content-length': String(mf.bytes.length), 'docker-content-digest': d! });
      return void res.end(req.method === 'HEAD' ? undefined : mf.bytes);
    }
    if ((m = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(p))) {
      const b = held.has(`${m[1]!}|${m[2]!}`) || everywhere.has(m[2]!) ? blobs.get(m[2]!) : undefined;
      if (!b) return ociError(res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry');
      return serveBlobBody(req, res, b);
    }
    if ((m = /^\/v2\/(.+)\/blobs\/uploads\/?$/.exec(p)) && req.method === 'POST') {
      req.resume();
      const id = randomUUID();
      uploads.set(id, []);
      const host = options.foreignUploadLocation ? at.other : origin();
      return send(res, 202, undefined, { location: `http://${host}/v2/${m[1]!}/blobs/uploads/${id}?_state=hostile`, 'docker-upload-uuid': id, range: '0-0' });
    }
    if ((m = /^\/v2\/(.+)\/blobs\/uploads\/([0-9a-f-]+)$/.exec(p))) {
      const parts = uploads.get(m[2]!);
      if (!parts) return ociError(res, 404, 'BLOB_UPLOAD_UNKNOWN', 'upload unknown');
      if (req.method === 'DELETE') {
        uploads.delete(m[2]!);
        return send(res, 204);
      }
      parts.push(await readAll(req));
      if (req.method === 'PATCH') return send(res, 202, undefined, { location: `${url.pathname}?_state=hostile`, range: '0-0' });
      if (req.method !== 'PUT') return ociError(res, 405, 'UNSUPPORTED', 'method not allowed');
      const bytes = Buffer.concat(parts);
      const want = url.searchParams.get('digest');
      uploads.delete(m[2]!);
      if (want !== digestOf(bytes)) return ociError(res, 400, 'DIGEST_INVALID', 'provided digest did not match uploaded content');
      blobs.set(want, { kind: 'bytes', bytes });
      held.add(`${m[1]!}|${want}`);
      uploaded.set(want, bytes);
      return send(res, 201, undefined, { 'docker-content-digest': want, location: `/v2/${m[1]!}/blobs/${want}` });
    }
    req.resume();
    return ociError(res, 404, 'UNSUPPORTED', `hostile registry does not serve ${req.method} ${p}`);
  };

  const main = await startLoopbackServer(handle(() => at.main));
  const other = await startLoopbackServer(handle(() => at.other));
  at.main = main.host;
  at.other = other.host;

  const reg: HostileRegistry = {
    host: at.main,
    otherHost: at.other,
    options,
    requests,
    uploaded,
    authorizationsAt: (host = at.other) => requests.filter((r) => r.host === host && r.authorization !== undefined).map((r) => r.authorization!),
    blob(repo, bytes, mediaType = LAYER) {
      const b = Buffer.from(bytes);
      const digest = digestOf(b);
      blobs.set(digest, { kind: 'bytes', bytes: b });
      held.add(`${repo}|${digest}`);
      return { mediaType, digest, size: b.length };
    },
    serveBlob(digest, behaviour) {
      blobs.set(digest, behaviour);
      everywhere.add(digest);
    },
    manifest(repo, bytes, mediaType, tags = []) {
      const b = Buffer.from(bytes);
      const digest = digestOf(b);
      const r = repoOf(repo);
      r.manifests.set(digest, { bytes: b, mediaType });
      for (const t of tags) r.tags.set(t, digest);
      return { mediaType, digest, size: b.length };
    },
    image(repo, opts = {}) {
      const layers = opts.layers ?? [reg.blob(repo, opts.layer ?? Buffer.from(`layer of ${repo} ${randomUUID()}`))];
      const config = reg.blob(repo, JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } }), OCI_CONFIG);
      const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers });
      return reg.manifest(repo, body, OCI_MANIFEST, opts.tags);
    },
    indexChain(repo, depth, tags) {
      let cur = reg.image(repo);
      for (let i = 0; i < depth; i++) {
        const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: cur.mediaType, digest: cur.digest, size: cur.size }] });
        cur = reg.manifest(repo, body, OCI_INDEX, i === depth - 1 ? tags : []);
      }
      return cur;
    },
    wideIndex(repo, children, tags) {
      const manifests = Array.from({ length: children }, (_, i) => ({ mediaType: OCI_MANIFEST, digest: digestOf(`child ${i}`), size: 500, platform: { os: 'linux', architecture: `arch${i}` } }));
      return reg.manifest(repo, JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }), OCI_INDEX, tags);
    },
    hugeManifest(repo, bytes, tags) {
      const layer = reg.blob(repo, 'x');
      const config = reg.blob(repo, '{}', OCI_CONFIG);
      const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer], annotations: { padding: 'p'.repeat(Math.max(0, bytes - 400)) } });
      return reg.manifest(repo, body, OCI_MANIFEST, tags);
    },
    manyTags(repo, count) {
      repoOf(repo).extraTags = count;
    },
    signature(repo, subject, layer, suffix = 'sig') {
      const config = reg.blob(repo, '{}', OCI_CONFIG);
      const l = { ...layer, mediaType: layer.mediaType === LAYER ? COSIGN_LAYER : layer.mediaType, annotations: { 'dev.cosignproject.cosign/signature': '', ...layer.annotations } };
      const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [l] });
      return reg.manifest(repo, body, OCI_MANIFEST, [`${subject.replace(':', '-')}.${suffix}`]);
    },
    stop: async () => {
      await Promise.all([main.stop(), other.stop()]);
    },
  };
  return reg;
}
