// The taxonomy at the activity boundary: one case per class of error, each mapped to its failure type, transient
// (retryable) or a verdict (not), with the taxonomy's class; unknown errors are transient within the budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { classify, SourceLostError, TagMoveError } from '../../src/activities/failures';
import { KeyRefError } from '../../src/activities/key-refs';
import { ACTIVITY_FAILURES, EDGE_FAILURES, failureClass, NON_RETRYABLE_FAILURES } from '../../src/contract/failures';
import { BlobUnknownError, DigestMismatchError, ManifestTooLargeError, ManifestUnknownError, OciError, ReadMismatchError, RegistryUnavailableError, TooManyRequestsError, UnauthorizedError } from '../../src/oci';
import { networkError } from '../../src/oci/transport';
import { SignatureVerificationError } from '../../src/signing';

const req = { method: 'GET' as const, url: new URL('http://127.0.0.1:5000/v2/a/blobs/sha256:0'), registry: '127.0.0.1:5000' };

const cases: Array<[string, unknown, string, 'transient' | 'verdict']> = [
  ['connection reset', networkError(req, Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), 'RegistryUnavailable', 'transient'],
  ['connection refused (registry restarting)', networkError(req, Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), 'RegistryUnavailable', 'transient'],
  ['timeout', networkError(req, Object.assign(new Error('no data for 60000 ms'), { code: 'ETIMEDOUT' })), 'RegistryUnavailable', 'transient'],
  ['5xx', new RegistryUnavailableError('GET …: 503 UNAVAILABLE', { status: 503 }), 'RegistryUnavailable', 'transient'],
  ['429 with Retry-After', new TooManyRequestsError('GET …: 429', { retryAfterMs: 1000 }), 'TooManyRequests', 'transient'],
  ['digest mismatch on one read', new ReadMismatchError('GET blob …: content digest is sha256:b…, expected sha256:a…', 'sha256:b'), 'ReadMismatch', 'transient'],
  ['not found right after a write', new ManifestUnknownError('GET manifest …: not found'), 'RegistryError', 'transient'],
  ['blob not found', new BlobUnknownError('GET blob …: not found'), 'RegistryError', 'transient'],
  ['an unknown library error', new TypeError('fetch failed'), 'RegistryError', 'transient'],
  ['the same wrong bytes on re-read', new DigestMismatchError('GET blob …, and the same again on a re-read'), 'DigestMismatch', 'verdict'],
  ['a tag move', new TagMoveError('tag move refused: …'), 'TagMove', 'verdict'],
  ['a missing source', new SourceLostError('… is not in the source registry'), 'SourceLost', 'verdict'],
  ['a policy refusal', new SignatureVerificationError('source policy: … is not signed by the trusted key'), 'SourceUnsigned', 'verdict'],
  ['credentials refused', new UnauthorizedError('401'), 'Unauthorized', 'verdict'],
  ['an invalid manifest', new OciError('PUT manifest: 400 MANIFEST_INVALID', { status: 400, code: 'MANIFEST_INVALID' }), 'InvalidManifest', 'verdict'],
  ['a permanent 4xx', new OciError('PUT …: unexpected 405', { status: 405 }), 'RegistryRefused', 'verdict'],
  ['a manifest too large', new ManifestTooLargeError('too large'), 'ManifestTooLarge', 'verdict'],
  ['no signing key', new KeyRefError('signing key: env://X is not set'), 'SigningKeyUnavailable', 'verdict'],
];

for (const [what, error, type, cls] of cases) {
  test(`${what} → ${type} (${cls})`, () => {
    const f = classify(error);
    assert.equal(f.type, type);
    assert.equal(f.nonRetryable, cls === 'verdict');
    assert.equal(failureClass(type), cls);
    assert.equal(NON_RETRYABLE_FAILURES.includes(type), cls === 'verdict');
    assert.ok(!f.message.includes('\n'), 'one line');
  });
}

test('an ApplicationFailure passes through; every failure type in the taxonomy has a class and a meaning', () => {
  const a = ApplicationFailure.create({ type: 'SignatureMissing', message: 'm', nonRetryable: true });
  assert.equal(classify(a), a);
  for (const [name, info] of Object.entries({ ...ACTIVITY_FAILURES, ...EDGE_FAILURES })) {
    assert.ok(info.means.length > 10, name);
    assert.equal(failureClass(name), info.class);
  }
  assert.equal(failureClass('NoSuchFailure'), undefined);
});
