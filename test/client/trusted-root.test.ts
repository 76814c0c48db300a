// `promoflow trusted-root`: the trust root a worker would use, through a TUF repository on loopback, written for an
// air-gapped worker; an unreachable repository with nothing cached is exit 3 with one line, a bad setting exit 2
// (for the worker too, at start).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/client/cli';
import { CliError, EXIT } from '../../src/client/exit-codes';
import { freePort } from '../../src/dev/ports';
import { startMockSigstore, type MockSigstore } from '../../src/testing/sig-sigstore-mock';
import { startTufRepository, type LocalTufRepository } from '../../src/testing/tuf-repository';

let tmp: string;
let mock: MockSigstore;
let tuf: LocalTufRepository;
const VARS = ['PROMOFLOW_TUF_MIRROR', 'PROMOFLOW_TUF_ROOT', 'PROMOFLOW_TUF_CACHE', 'PROMOFLOW_TRUSTED_ROOT'];

async function cli(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  Object.assign(process.env, env);
  try {
    return { code: await main(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) }), stdout: out.join('\n'), stderr: err.join('\n') };
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    return { code: e.exitCode, stdout: out.join('\n'), stderr: [...err, e.message].join('\n') };
  } finally {
    for (const v of VARS) delete process.env[v];
  }
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'promoflow-trusted-root-'));
  mock = await startMockSigstore();
  tuf = await startTufRepository(mock.trustedRoot);
  writeFileSync(join(tmp, 'root.json'), tuf.rootJson);
});
after(async () => {
  await tuf?.stop();
  await mock?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('trusted-root --out writes the trusted_root.json the TUF repository publishes', async () => {
  const out = join(tmp, 'trusted_root.json');
  const r = await cli(['trusted-root', '--out', out], { PROMOFLOW_TUF_MIRROR: tuf.url, PROMOFLOW_TUF_ROOT: join(tmp, 'root.json'), PROMOFLOW_TUF_CACHE: join(tmp, 'cache') });
  assert.equal(r.code, EXIT.OK, r.stderr);
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), mock.trustedRoot);
  assert.match(r.stderr, new RegExp(`from the TUF repository ${tuf.url} written to .*trusted_root\\.json`));
});

test('trusted-root: unreachable with nothing cached is exit 3, one line; a bad setting is exit 2', async () => {
  const mirror = `http://127.0.0.1:${await freePort()}`; // nothing listens there
  const down = await cli(['trusted-root'], { PROMOFLOW_TUF_MIRROR: mirror, PROMOFLOW_TUF_ROOT: join(tmp, 'root.json'), PROMOFLOW_TUF_CACHE: join(tmp, 'cache-empty') });
  assert.equal(down.code, EXIT.UNAVAILABLE, down.stderr);
  assert.equal(down.stdout, '');
  assert.match(down.stderr, new RegExp(`^promoflow trusted-root: sigstore trust root: the TUF repository ${mirror} is unreachable .*set`));
  assert.match(down.stderr, /set PROMOFLOW_TRUSTED_ROOT=path\/to\/trusted_root\.json/);
  assert.doesNotMatch(down.stderr, /\n/);
  const bad = await cli(['trusted-root'], { PROMOFLOW_TUF_MIRROR: 'https://tuf.internal.example' });
  assert.equal(bad.code, EXIT.INVALID);
  assert.match(bad.stderr, /needs PROMOFLOW_TUF_ROOT/);
  const worker = await cli(['worker', '--temporal-address', '127.0.0.1:1'], { PROMOFLOW_TUF_MIRROR: 'ftp://tuf.example' });
  assert.equal(worker.code, EXIT.INVALID, 'a worker refuses to start with a bad setting: ' + worker.stderr);
  assert.match(worker.stderr, /PROMOFLOW_TUF_MIRROR="ftp:\/\/tuf\.example" is not HTTPS/);
  writeFileSync(join(tmp, 'garbled.json'), '{');
  const garbled = await cli(['trusted-root'], { PROMOFLOW_TUF_MIRROR: mirror, PROMOFLOW_TUF_ROOT: join(tmp, 'garbled.json'), PROMOFLOW_TUF_CACHE: join(tmp, 'cache-garbled') });
  assert.equal(garbled.code, EXIT.INVALID, 'a garbled initial root is a setting to fix, not an outage');
  assert.match(garbled.stderr, /PROMOFLOW_TUF_ROOT=.*garbled\.json: not a readable TUF root\.json \(not JSON\)/);
});
