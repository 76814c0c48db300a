// Offline Fulcio + Rekor for keyless tests: @sigstore/mock's handlers served over HTTP on 127.0.0.1, plus the
// trusted_root.json that makes their certificates and log entries verifiable.
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, rekorHandler, type HandlerFn } from '@sigstore/mock';

export interface MockSigstore {
  url: string;
  trustedRoot: unknown;
  stop(): Promise<void>;
}

const keyPair = (): { publicKey: KeyObject; privateKey: KeyObject } => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const der = (k: KeyObject): Buffer => k.export({ type: 'spki', format: 'der' });
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

export async function startMockSigstore(): Promise<MockSigstore> {
  const routes = new Map<string, HandlerFn>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fn = routes.get((req.url ?? '').split('?')[0] ?? '');
      if (!fn || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      fn(Buffer.concat(chunks).toString('utf8')).then(
        (r) => res.writeHead(r.statusCode, { 'content-type': r.contentType ?? 'text/plain' }).end(typeof r.response === 'string' ? r.response : Buffer.from(r.response.buffer, r.response.byteOffset, r.response.byteLength)),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const ctKeys = keyPair();
  const caKeys = keyPair();
  const tlogKeys = keyPair();
  const ctLog = await initializeCTLog(ctKeys);
  const ca = await initializeCA(caKeys, ctLog);
  const tlog = await initializeTLog(url, tlogKeys);
  const rekor = rekorHandler(tlog);
  routes.set(fulcioHandler(ca).path, fulcioHandler(ca).fn);
  // The mock logs a proposed entry verbatim; real Rekor canonicalises a dsse proposal (hashes + signatures
  // with their verifier) before logging, and verifiers check that form. Do the same here.
  routes.set(rekor.path, async (body) => {
    const proposed = JSON.parse(body) as { kind?: string; apiVersion?: string; spec?: { proposedContent?: { envelope: string; verifiers: string[] } } };
    if (proposed.kind !== 'dsse' || !proposed.spec?.proposedContent) return rekor.fn(body);
    const { envelope, verifiers } = proposed.spec.proposedContent;
    const env = JSON.parse(envelope) as { payload: string; signatures: Array<{ sig: string }> };
    const hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
    const entry = {
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        envelopeHash: { algorithm: 'sha256', value: hex(envelope) },
        payloadHash: { algorithm: 'sha256', value: hex(Buffer.from(env.payload, 'base64')) },
        signatures: env.signatures.map((sg) => ({ signature: sg.sig, verifier: verifiers[0] })),
      },
    };
    return { statusCode: 201, response: JSON.stringify(await tlog.log(entry)), contentType: 'application/json' };
  });

  const validFor = { start: '2000-01-01T00:00:00Z' };
  const logKey = (k: KeyObject, logId: Uint8Array) => ({
    baseUrl: url,
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: b64(der(k)), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
    logId: { keyId: b64(logId) },
  });
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [logKey(tlogKeys.publicKey, createHash('sha256').update(der(tlogKeys.publicKey)).digest())],
    certificateAuthorities: [{ subject: { organization: 'sigstore.mock', commonName: 'sigstore' }, uri: url, certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate as Uint8Array) }] }, validFor }],
    ctlogs: [logKey(ctKeys.publicKey, ctLog.logID as Uint8Array)],
    timestampAuthorities: [],
  };
  return {
    url,
    trustedRoot,
    // Connections a client keeps alive are ended too: close() alone waits for them (a test's after() hung on one).
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
