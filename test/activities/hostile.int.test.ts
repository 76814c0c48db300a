// The worker's copy activity against the hostile registry (issue 12, finding 7): a source trickling its blob fails
// the attempt at the registry's minimum throughput, and the activity heartbeats only while bytes move, so a stalled
// transfer is not kept alive by a timer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities, createActivityDeps } from '../../src/activities';
import { runAsActivity } from '../../src/testing/activity-context';
import { startHostileRegistry } from '../../src/testing/hostile-registry';

test('copyToDestination: a trickling source fails the attempt at limits.minBytesPerSecond (retryable, limit named)', async () => {
  const h = await startHostileRegistry();
  const deps = createActivityDeps({ tuning: { http: { throughputWindowMs: 500 }, retry: { maxAttempts: 2, baseDelayMs: 10 } } });
  try {
    const bytes = Buffer.alloc(4096, 1);
    const layer = h.blob('staging/slow', bytes);
    h.serveBlob(layer.digest, { kind: 'trickle', bytes, intervalMs: 50 }, 'staging/slow');
    const img = h.image('staging/slow', { layers: [layer] });
    const t0 = Date.now();
    const err = await runAsActivity(() =>
      createActivities(deps).copyToDestination({ image: 'slow', digest: img.digest, tags: ['v1'], source: { registry: `${h.host}/staging`, limits: { minBytesPerSecond: 1000 } }, destination: { name: 'prod', registry: `${h.host}/prod` } }),
    ).then(
      () => assert.fail('the copy succeeded'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'RegistryUnavailable');
    assert.equal(err.nonRetryable, false);
    assert.match(err.message, /transfer slower than 1000 bytes\/s.*limits\.minBytesPerSecond/);
    // At ~20 B/s the blob alone takes over 200 s per attempt; each transfer ended after one 0.5 s window.
    assert.ok(Date.now() - t0 < 30_000, `took ${Date.now() - t0} ms`);
    assert.equal(h.uploaded.has(layer.digest), false, 'nothing partial was committed');
  } finally {
    deps.scopes.clientFor().close(); // the worker's shared blob cache goes with it
    await h.stop();
  }
});

test('copyToDestination heartbeats only when bytes moved since the last heartbeat', async () => {
  const h = await startHostileRegistry();
  // No throughput check here: the source stalls 1.5 s between bytes, longer than the activity's pulse period.
  const deps = createActivityDeps();
  try {
    const bytes = Buffer.from('abcd');
    const layer = h.blob('staging/stall', bytes);
    h.serveBlob(layer.digest, { kind: 'trickle', bytes, intervalMs: 1500 }, 'staging/stall');
    const img = h.image('staging/stall', { layers: [layer] });
    const beats: Array<{ done: string[]; bytes?: number }> = [];
    await runAsActivity(
      () => createActivities(deps).copyToDestination({ image: 'stall', digest: img.digest, tags: [], source: { registry: `${h.host}/staging`, limits: { minBytesPerSecond: 0 } }, destination: { name: 'prod', registry: `${h.host}/prod` } }),
      { heartbeatTimeoutMs: 600 },
      (d) => beats.push(d as { done: string[]; bytes?: number }),
    );
    assert.deepEqual(h.uploaded.get(layer.digest), bytes);
    // Over ~6 s of stalls a timer would have beaten ~30 times (every 200 ms); each beat here reports new progress:
    // either a blob or manifest finished, or more bytes arrived.
    for (let i = 1; i < beats.length; i++) {
      const [a, b] = [beats[i - 1]!, beats[i]!];
      assert.ok(b.done.length > a.done.length || (b.bytes ?? 0) > (a.bytes ?? 0), `heartbeat ${i} reports no progress: ${JSON.stringify([a, b])}`);
    }
    assert.ok(beats.some((b, i) => i > 0 && b.done.length === beats[i - 1]!.done.length), 'a pulse reported bytes of a blob still in flight');
  } finally {
    deps.scopes.clientFor().close(); // the worker's shared blob cache goes with it
    await h.stop();
  }
});
