// Endpoint settings registered from activity inputs reach the worker's OCI client: credential references resolve
// on the worker, and a registry the manifest marks insecure may be spoken to in plain HTTP (others may not).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CredentialStore, resolveCredentialRef } from '../../src/activities/credentials';
import { createActivityDeps } from '../../src/activities';

test('a registry marked insecure in the manifest is allowed plain HTTP by the worker client; others are not', () => {
  const deps = createActivityDeps();
  assert.equal(deps.client.plainHttpAllowed('registry.internal:5000'), false);
  deps.credentials.register({ registry: 'registry.internal:5000/mirror', insecure: true });
  assert.equal(deps.client.plainHttpAllowed('registry.internal:5000'), true);
  assert.equal(deps.client.plainHttpAllowed('other.internal:5000'), false);
  assert.equal(deps.client.plainHttpAllowed('127.0.0.1:5000'), true, 'loopback always may');
});

test('credential references resolve from the worker environment, and a missing variable is named', () => {
  process.env.PF_TEST_USER = 'robot';
  process.env.PF_TEST_PASS = 's3cret';
  try {
    assert.deepEqual(resolveCredentialRef({ kind: 'env', usernameEnv: 'PF_TEST_USER', passwordEnv: 'PF_TEST_PASS' }), { username: 'robot', password: 's3cret' });
    assert.deepEqual(resolveCredentialRef({ kind: 'env', passwordEnv: 'PF_TEST_PASS' }), { token: 's3cret' });
    assert.throws(() => resolveCredentialRef({ kind: 'env', passwordEnv: 'PF_TEST_MISSING' }), /PF_TEST_MISSING is not set on the worker/);
    const store = new CredentialStore();
    store.register({ registry: 'reg.example/p', credentials: { kind: 'env', passwordEnv: 'PF_TEST_PASS' } });
    assert.deepEqual(store.lookup('reg.example'), { token: 's3cret' });
    assert.equal(store.lookup('other.example'), undefined);
  } finally {
    delete process.env.PF_TEST_USER;
    delete process.env.PF_TEST_PASS;
  }
});
