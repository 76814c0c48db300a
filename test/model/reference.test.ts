import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReference, InvalidReferenceError, isLoopback, parseReference } from '../../src/model';

const D = `sha256:${'a'.repeat(64)}`;

test('docker.io defaults and normalisation', () => {
  assert.deepEqual(parseReference('busybox'), { registry: 'docker.io', repository: 'library/busybox' });
  assert.deepEqual(parseReference('index.docker.io/foo/bar:1'), { registry: 'docker.io', repository: 'foo/bar', tag: '1' });
  assert.deepEqual(parseReference('docker.io/busybox'), { registry: 'docker.io', repository: 'library/busybox' });
  assert.deepEqual(parseReference('org/app'), { registry: 'docker.io', repository: 'org/app' });
});

test('registries with ports, localhost, IPv6, tags and digests', () => {
  assert.deepEqual(parseReference(`localhost:5000/a/b:v1.2@${D}`), { registry: 'localhost:5000', repository: 'a/b', tag: 'v1.2', digest: D });
  assert.deepEqual(parseReference('localhost/app'), { registry: 'localhost', repository: 'app' });
  assert.deepEqual(parseReference(`[::1]:5000/app@${D}`), { registry: '[::1]:5000', repository: 'app', digest: D });
  assert.deepEqual(parseReference('registry.k8s.io/pause:3.9'), { registry: 'registry.k8s.io', repository: 'pause', tag: '3.9' });
  assert.deepEqual(parseReference('Example.COM/x'), { registry: 'example.com', repository: 'x' });
});

test('round trip', () => {
  for (const s of ['registry.k8s.io/pause:3.9', `127.0.0.1:5000/a/b-c/d_e@${D}`, `gcr.io/x/y:t@${D}`]) {
    assert.equal(formatReference(parseReference(s)), s);
  }
});

test('invalid references name the input', () => {
  for (const s of ['', 'org/UPPER', 'app:', 'app@sha256:abc', `app@sha512:${'a'.repeat(128)}`, 'a//b', 'app:-bad', 'has space', 'app:' + 'x'.repeat(129), '-lead']) {
    assert.throws(
      () => parseReference(s),
      (e: unknown) => e instanceof InvalidReferenceError && e.message.includes(JSON.stringify(s)) && e.retryable === false,
      s,
    );
  }
});

test('loopback detection', () => {
  assert.ok(isLoopback('127.0.0.1:5000'));
  assert.ok(isLoopback('127.8.9.10'));
  assert.ok(isLoopback('localhost:1'));
  assert.ok(isLoopback('[::1]:5000'));
  assert.ok(!isLoopback('128.0.0.1:5000'));
  assert.ok(!isLoopback('localhost.evil.com'));
  assert.ok(!isLoopback('127.0.0.1.nip.io'));
});
