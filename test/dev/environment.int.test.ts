// The embedded environment: a real Temporal dev server with promoflow's search attributes and real registries,
// all answering on loopback, and none of their processes left after stop().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync, chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { spawn } from 'node:child_process';
import { REPO_ROOT, startTestEnvironment, testStateDir } from '../../src/testing/harness';
import { isNativeBinary, resolveTemporalBinary } from '../../src/dev/temporal';
import { SEARCH_ATTRIBUTES } from '../../src/contract';

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat); // a zombie has exited
  } catch {
    return false;
  }
}

test('environment: Temporal and two registries start on loopback and stop without leftovers', async () => {
  const env = await startTestEnvironment('env', { registries: ['a', 'b'] });
  const pids = [env.temporalServer!.process.pid, ...Object.values(env.registryServers).map((r) => r.process.pid)];
  try {
    assert.match(env.temporal!.address, /^127\.0\.0\.1:\d+$/);
    const conn = await Connection.connect({ address: env.temporal!.address });
    try {
      const sa = await conn.operatorService.listSearchAttributes({ namespace: 'default' });
      for (const name of Object.keys(SEARCH_ATTRIBUTES)) assert.ok(sa.customAttributes?.[name] !== undefined, `${name} registered`);
    } finally {
      await conn.close();
    }
    for (const host of Object.values(env.registries)) {
      assert.match(host, /^127\.0\.0\.1:\d+$/);
      const r = await fetch(`http://${host}/v2/`);
      assert.equal(r.status, 200);
    }
    assert.ok(existsSync(join(env.stateDir, 'temporal', 'temporal.db')), 'SQLite persistence under the state dir');
    assert.ok(pids.every(alive));
  } finally {
    await env.cleanup();
  }
  assert.deepEqual(pids.filter(alive), [], 'no temporal or docker-registry process outlives stop()');
});

test('temporal binary resolution refuses script shims and finds the real binary', () => {
  const dir = testStateDir('shim');
  const shim = join(dir, 'temporal');
  writeFileSync(shim, '#!/bin/sh\nexec real-temporal "$@"\n');
  chmodSync(shim, 0o755);
  assert.equal(isNativeBinary(shim), false);
  const real = resolveTemporalBinary(shim);
  assert.notEqual(real, shim);
  assert.equal(isNativeBinary(real), true);
});

test('servers die with their parent even when it is SIGKILLed (no exit hook can run)', async () => {
  const stateDir = testStateDir('orphan');
  const script = `require('tsx/cjs'); require(${JSON.stringify(join(REPO_ROOT, 'src', 'dev', 'registry.ts'))}).startRegistry({ name: 'orphan', stateDir: ${JSON.stringify(stateDir)} }).then((r) => { console.log(r.process.pid); });`;
  const child = spawn(process.execPath, ['-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.on('exit', () => reject(new Error('the parent exited before starting the registry')));
  });
  assert.ok(alive(pid), 'the registry runs');
  child.kill('SIGKILL');
  const deadline = Date.now() + 10_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(alive(pid), false, 'the registry died with its parent');
});
