import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { credentialsFromDockerConfig, dockerConfigCredentials, envCredentials, staticCredentials } from '../../src/oci';

const dir = mkdtempSync(join(tmpdir(), 'promoflow-test-oci-creds-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('config.json auths: key forms, Docker Hub aliases, username/password, identity and registry tokens', async () => {
  const src = credentialsFromDockerConfig({
    auths: {
      'https://index.docker.io/v1/': { auth: Buffer.from('hub:hub-pw').toString('base64') },
      'http://reg.example:5000/v2/': { username: 'u', password: 'p:with:colons' },
      'idt.example': { identitytoken: 'refresh' },
      'rt.example': { registrytoken: 'bearer' },
    },
  });
  assert.deepEqual(await src('docker.io'), { username: 'hub', password: 'hub-pw' });
  assert.deepEqual(await src('reg.example:5000'), { username: 'u', password: 'p:with:colons' });
  assert.deepEqual(await src('idt.example'), { username: '<token>', password: 'refresh' });
  assert.deepEqual(await src('rt.example'), { token: 'bearer' });
  assert.equal(await src('other.example'), undefined);
});

test('credHelpers and credsStore run docker-credential-* with the server on stdin', async () => {
  const bin = join(dir, 'bin');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(bin);
  const helper = join(bin, 'docker-credential-fake');
  writeFileSync(
    helper,
    `#!/bin/sh
read server
case "$server" in
  helped.example) echo '{"ServerURL":"helped.example","Username":"h","Secret":"from-helper"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"x","Username":"<token>","Secret":"hub-identity"}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`,
  );
  chmodSync(helper, 0o755);
  const oldPath = process.env.PATH;
  process.env.PATH = `${bin}${delimiter}${oldPath ?? ''}`;
  try {
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ credHelpers: { 'helped.example': 'fake' }, credsStore: 'fake', auths: { 'inline.example': { auth: Buffer.from('i:j').toString('base64') } } }));
    const src = dockerConfigCredentials({ path: cfg });
    assert.deepEqual(await src('helped.example'), { username: 'h', password: 'from-helper' });
    assert.deepEqual(await src('docker.io'), { username: '<token>', password: 'hub-identity' });
    assert.deepEqual(await src('inline.example'), { username: 'i', password: 'j' });
    assert.equal(await src('unknown.example'), undefined);
    const missing = dockerConfigCredentials({ path: join(dir, 'nope.json') });
    assert.equal(await missing('x'), undefined);
  } finally {
    process.env.PATH = oldPath;
  }
});

test('PROMOFLOW_REGISTRY_AUTH and static maps answer only for their hosts; a malformed env value never echoes its content', async () => {
  const env = envCredentials({ PROMOFLOW_REGISTRY_AUTH: JSON.stringify({ 'a.example': { token: 't' } }) });
  const flags = staticCredentials({ 'https://a.example/v2/': { username: 'flag', password: 'f' } });
  assert.deepEqual(await flags('a.example'), { username: 'flag', password: 'f' });
  assert.deepEqual(await env('a.example'), { token: 't' });
  assert.equal(await env('b.example'), undefined);
  assert.throws(() => envCredentials({ PROMOFLOW_REGISTRY_AUTH: '{"a": {"password": "leak-me"}}' }), (e: unknown) => !String(e).includes('leak-me'));
});
