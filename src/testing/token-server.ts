// A Docker token-auth server for tests: mints ES256 JWTs whose x5c certificate (self-signed, built here with
// node:crypto and a small DER encoder) is the registry's rootcertbundle. Grants are decided by a policy per user, so
// tests can exercise Basic-authenticated token requests, scope merging and insufficient_scope.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

// --- minimal DER ---
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const b: number[] = [];
  for (let v = n; v > 0; v >>= 8) b.unshift(v & 0xff);
  return Buffer.from([0x80 | b.length, ...b]);
}
const tlv = (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), len(body.length), body]);
const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
function int(v: Buffer | number): Buffer {
  let b = typeof v === 'number' ? Buffer.from([v]) : v;
  while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
  if ((b[0]! & 0x80) !== 0) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}
function oid(s: string): Buffer {
  const p = s.split('.').map(Number);
  const out = [40 * p[0]! + p[1]!];
  for (const n of p.slice(2)) {
    const bytes = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) bytes.unshift(0x80 | (v & 0x7f));
    out.push(...bytes);
  }
  return tlv(0x06, Buffer.from(out));
}
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
function utcTime(d: Date): Buffer {
  const s = d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return tlv(0x17, Buffer.from(s, 'ascii'));
}
const explicit = (n: number, body: Buffer): Buffer => tlv(0xa0 | n, body);
const bitString = (b: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));

/** A self-signed ECDSA P-256 certificate (DER) for `key`. */
export function selfSignedCert(key: { privateKey: KeyObject; publicKey: KeyObject }, commonName: string): Buffer {
  const alg = seq(oid('1.2.840.10045.4.3.2'));
  const name = seq(set(seq(oid('2.5.4.3'), utf8(commonName))));
  const now = Date.now();
  const tbs = seq(
    explicit(0, int(2)),
    int(randomBytes(8)),
    alg,
    name,
    seq(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + 7 * 86400_000))),
    name,
    key.publicKey.export({ type: 'spki', format: 'der' }),
    // basicConstraints CA:TRUE and keyUsage digitalSignature|keyCertSign: it is its own root.
    explicit(3, seq(seq(oid('2.5.29.19'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, seq(tlv(0x01, Buffer.from([0xff]))))), seq(oid('2.5.29.15'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, tlv(0x03, Buffer.from([0x02, 0x84])))))),
  );
  const sig = sign('sha256', tbs, key.privateKey);
  return seq(tbs, alg, bitString(sig));
}

function pem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export interface Access {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenRequestRecord {
  user?: string;
  scopes: string[];
  method: string;
  grant?: string;
}

export interface TokenServerOptions {
  service: string;
  issuer?: string;
  /** Users allowed to authenticate; anonymous requests get what `policy` grants to undefined. */
  users?: Record<string, string>;
  /** Actions granted to a user on a repository (default: everything requested, when authenticated). */
  policy?: (user: string | undefined, repository: string, requested: string[]) => string[];
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number;
  /** Refresh tokens accepted by the OAuth2 POST flow, mapped to users. */
  refreshTokens?: Record<string, string>;
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** Path of the PEM bundle to configure as the registry's rootcertbundle. */
  rootCertBundle: string;
  requests: TokenRequestRecord[];
  stop(): Promise<void>;
}

export async function startTokenServer(opts: TokenServerOptions & { certPath: string }): Promise<TokenServer> {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const issuer = opts.issuer ?? 'promoflow-test-issuer';
  const cert = selfSignedCert(key, issuer);
  writeFileSync(opts.certPath, pem(cert));
  const requests: TokenRequestRecord[] = [];
  const policy = opts.policy ?? ((user, _repo, requested) => (user ? requested : requested.filter((a) => a === 'pull')));

  const mint = (user: string | undefined, scopes: string[]): string => {
    const access: Access[] = [];
    for (const s of scopes) {
      const parts = s.split(':');
      if (parts.length < 3) continue;
      const actions = parts.pop()!.split(',');
      const [type, ...rest] = parts;
      const name = rest.join(':');
      const granted = type === 'repository' ? policy(user, name, actions) : [];
      access.push({ type: type!, name, actions: granted });
    }
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c: [cert.toString('base64')] };
    const claims = { iss: issuer, sub: user ?? '', aud: opts.service, exp: now + (opts.expiresIn ?? 300), nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(sig)}`;
  };

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    let user: string | undefined;
    let scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    let grant: string | undefined;
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      grant = form.get('grant_type') ?? undefined;
      scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      const rt = form.get('refresh_token') ?? '';
      user = opts.refreshTokens?.[rt];
      if (grant !== 'refresh_token' || user === undefined) {
        requests.push({ scopes, method: 'POST', ...(grant ? { grant } : {}) });
        return send(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid refresh token' }] });
      }
    } else {
      const auth = req.headers.authorization;
      if (auth?.startsWith('Basic ')) {
        const raw = Buffer.from(auth.slice(6), 'base64').toString('utf8');
        const i = raw.indexOf(':');
        const [u, p] = [raw.slice(0, i), raw.slice(i + 1)];
        if (opts.users?.[u] === undefined || opts.users[u] !== p) {
          requests.push({ scopes, method: 'GET' });
          return send(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] });
        }
        user = u;
      }
    }
    requests.push({ ...(user !== undefined ? { user } : {}), scopes, method: req.method ?? 'GET', ...(grant ? { grant } : {}) });
    if (url.searchParams.get('service') !== null && url.searchParams.get('service') !== opts.service && req.method !== 'POST') {
      return send(res, 400, { errors: [{ code: 'UNSUPPORTED', message: 'unknown service' }] });
    }
    const token = mint(user, scopes);
    send(res, 200, { token, access_token: token, expires_in: opts.expiresIn ?? 300, issued_at: new Date().toISOString() });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, {}));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service: opts.service,
    issuer,
    rootCertBundle: opts.certPath,
    requests,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** sha256 fingerprint of a cert, for diagnostics. */
export function fingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}
