// Re-read before concluding: a digest mismatch on a read is transient (read again), the same wrong bytes twice are
// the stored content (a DigestMismatchError verdict naming both digests), and a body cut mid-stream is transient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { concludeMismatch, DigestMismatchError, isRereadable, OciError, ReadMismatchError, RegistryUnavailableError, sha256, verifying } from '../../src/oci';
import { rereading, withRetry } from '../../src/oci/retry';
import { bodyError } from '../../src/oci/transport';

const POLICY = { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 10 };
const good = Buffer.from('the stored blob');
const digest = sha256(good);
const flipped = (b: Buffer, at: number): Buffer => {
  const c = Buffer.from(b);
  c[at] = c[at]! ^ 0xff;
  return c;
};

async function read(bytes: Buffer, size?: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of verifying(Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]), digest, 'GET blob r/x', size)) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

test('verifying: wrong bytes are a transient ReadMismatchError carrying the digest read; right bytes pass', async () => {
  assert.deepEqual(await read(good, good.length), good);
  const bad = flipped(good, 3);
  await assert.rejects(read(bad), (e: unknown) => e instanceof ReadMismatchError && e.retryable && e.got === sha256(bad) && e.message.includes(digest));
  await assert.rejects(read(Buffer.concat([good, Buffer.from('!')]), good.length), (e: unknown) => e instanceof ReadMismatchError && e.retryable);
});

test('verifying: a stream that breaks off mid-body is transient (RegistryUnavailable), not a verdict', async () => {
  async function* cut(): AsyncGenerator<Uint8Array> {
    yield good.subarray(0, 4);
    throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
  }
  await assert.rejects(
    (async () => {
      for await (const _ of verifying(cut(), digest, 'GET blob r/x')) void _;
    })(),
    (e: unknown) => e instanceof RegistryUnavailableError && e.retryable && e.code === 'BODY_INTERRUPTED' && isRereadable(e),
  );
  assert.equal(bodyError('x', new DigestMismatchError('stable')) instanceof DigestMismatchError, true, 'verdicts pass through unchanged');
});

test('read mismatch then good: re-read and succeed', async () => {
  const reads = [flipped(good, 2), good];
  let n = 0;
  const got = await rereading(() => read(reads[n++]!), POLICY);
  assert.deepEqual(got, good);
  assert.equal(n, 2);
});

test('different wrong bytes on each read (transit faults) keep re-reading until good, within the budget', async () => {
  const reads = [flipped(good, 1), flipped(good, 7), flipped(good, 9), good];
  let n = 0;
  assert.deepEqual(await rereading(() => read(reads[n++]!), POLICY), good);
  // Out of budget: still transient (the activity's retry takes over), never a verdict.
  let m = 0;
  await assert.rejects(rereading(() => read(flipped(good, m++ % good.length)), { ...POLICY, maxAttempts: 3 }), (e: unknown) => e instanceof ReadMismatchError && e.retryable);
  assert.equal(m, 3);
});

test('the same wrong bytes twice: the registry holds them, a DigestMismatchError verdict naming both digests', async () => {
  const bad = flipped(good, 4);
  let n = 0;
  await assert.rejects(
    rereading(() => (n++, read(bad)), POLICY),
    (e: unknown) => e instanceof DigestMismatchError && !e.retryable && e.message.includes(sha256(bad)) && e.message.includes(digest) && /same again on a re-read/.test(e.message),
  );
  assert.equal(n, 2);
});

test('rereading leaves statuses to the transport below; withRetry retries any transient error', async () => {
  let n = 0;
  await assert.rejects(rereading(() => (n++, Promise.reject(new RegistryUnavailableError('503', { status: 503 }))), POLICY), RegistryUnavailableError);
  assert.equal(n, 1, 'a 503 after the transport gave up is not multiplied');
  let m = 0;
  assert.equal(await withRetry(() => (m++ < 2 ? Promise.reject(new RegistryUnavailableError('503')) : Promise.resolve('ok')), POLICY), 'ok');
  await assert.rejects(withRetry(() => Promise.reject(new OciError('400', { status: 400 })), POLICY), (e: unknown) => e instanceof OciError && !e.retryable);
  const seen = new Set<string>();
  concludeMismatch(new ReadMismatchError('m', 'sha256:x'), seen);
  assert.throws(() => concludeMismatch(new ReadMismatchError('m', 'sha256:x'), seen), DigestMismatchError);
});
