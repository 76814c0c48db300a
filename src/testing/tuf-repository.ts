// A sigstore-style TUF repository served on 127.0.0.1 for offline trust-root tests: root, targets, snapshot and
// timestamp metadata signed with fresh ed25519 test keys (canonical JSON, as TUF signs), consistent snapshots, and
// one target, trusted_root.json (e.g. the mock Fulcio/Rekor's). `publish` puts out a new trusted root the way a
// repository's operators do (new targets, snapshot and timestamp versions); `stop` takes the repository offline.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { startLoopbackServer, type LoopbackServer } from './loopback-server';

export interface LocalTufRepository {
  /** The repository's base URL (metadata at the root, targets under /targets). */
  url: string;
  /** The initial root.json a client must be given (PROMOFLOW_TUF_ROOT): the repository's trust anchor. */
  rootJson: string;
  /** Requests served, by path (to tell a cached read from a fetch). */
  requests: string[];
  /** Publish a new trusted_root.json (targets, snapshot and timestamp move to their next version). */
  publish(trustedRoot: unknown): void;
  stop(): Promise<void>;
}

const SPEC_VERSION = '1.0.31';
const EXPIRES = '2100-01-01T00:00:00Z';
const ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
type Role = (typeof ROLES)[number];

/** TUF's canonical JSON (OLPC): sorted keys, no whitespace, only `"` and `\` escaped in strings. */
function canonical(v: unknown): string {
  if (typeof v === 'string') return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${canonical(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

interface TestKey {
  id: string;
  key: { keytype: 'ed25519'; scheme: 'ed25519'; keyval: { public: string } };
  privateKey: KeyObject;
}

function testKey(): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // The raw 32-byte key, hex, as TUF's ed25519 keys are written: the tail of the SPKI encoding.
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32).toString('hex');
  const key = { keytype: 'ed25519' as const, scheme: 'ed25519' as const, keyval: { public: raw } };
  return { id: sha256(canonical(key)), key, privateKey };
}

function signed(body: Record<string, unknown>, key: TestKey): string {
  const sig = sign(null, Buffer.from(canonical(body)), key.privateKey).toString('hex');
  return JSON.stringify({ signed: body, signatures: [{ keyid: key.id, sig }] });
}

export async function startTufRepository(trustedRoot: unknown): Promise<LocalTufRepository> {
  const keys = Object.fromEntries(ROLES.map((r) => [r, testKey()])) as Record<Role, TestKey>;
  const root = signed(
    {
      _type: 'root',
      spec_version: SPEC_VERSION,
      version: 1,
      expires: EXPIRES,
      consistent_snapshot: true,
      keys: Object.fromEntries(ROLES.map((r) => [keys[r].id, keys[r].key])),
      roles: Object.fromEntries(ROLES.map((r) => [r, { keyids: [keys[r].id], threshold: 1 }])),
    },
    keys.root,
  );
  const files = new Map<string, string>([['/1.root.json', root]]);
  let version = 0;
  const publish = (tr: unknown): void => {
    version++;
    const target = JSON.stringify(tr);
    const hash = sha256(target);
    files.set(`/targets/${hash}.trusted_root.json`, target);
    const common = { spec_version: SPEC_VERSION, version, expires: EXPIRES };
    files.set(`/${version}.targets.json`, signed({ _type: 'targets', ...common, targets: { 'trusted_root.json': { length: Buffer.byteLength(target), hashes: { sha256: hash } } } }, keys.targets));
    files.set(`/${version}.snapshot.json`, signed({ _type: 'snapshot', ...common, meta: { 'targets.json': { version } } }, keys.snapshot));
    files.set('/timestamp.json', signed({ _type: 'timestamp', ...common, meta: { 'snapshot.json': { version } } }, keys.timestamp));
  };
  publish(trustedRoot);
  const requests: string[] = [];
  const server: LoopbackServer = await startLoopbackServer(async (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    requests.push(path);
    const body = req.method === 'GET' ? files.get(path) : undefined;
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  return { url: `http://${server.host}`, rootJson: root, requests, publish, stop: () => server.stop() };
}
