// The per-registry request limits on a virtual clock: what the token bucket lets through, and when, is arithmetic,
// so it is proven without wall time (the loopback wiring is in test/activities/registry-limits.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapLimit, Semaphore, TokenBucket, type Clock } from '../../src/oci/limits';

/** A clock that advances only when someone sleeps on it. */
function virtualClock(): Clock & { t: number } {
  const c = { t: 0, now: () => c.t, sleep: async (ms: number) => void (c.t += ms) };
  return c;
}

test('a token bucket lets a burst through, then exactly `rate` per second', async () => {
  const clock = virtualClock();
  const bucket = new TokenBucket(20, 20, clock);
  const at: number[] = [];
  await Promise.all(Array.from({ length: 60 }, () => bucket.take().then(() => at.push(clock.t))));
  assert.equal(at.length, 60);
  assert.equal(at.filter((t) => t === 0).length, 20, 'the burst goes at once');
  assert.ok(Math.abs(at[59]! - 2000) < 1, `40 more at 20/s end at 2 s, not ${at[59]} ms`);
  for (const s of at) assert.ok(at.filter((t) => t > s && t <= s + 1000).length <= 20, 'no second after the burst holds more than the rate');
});

test('a token bucket refills while idle, never beyond its burst', async () => {
  const clock = virtualClock();
  const bucket = new TokenBucket(5, 5, clock);
  for (let i = 0; i < 5; i++) await bucket.take();
  clock.t += 60_000; // a long idle minute refills 5 tokens, not 300
  const before = clock.t;
  for (let i = 0; i < 6; i++) await bucket.take();
  assert.ok(Math.abs(clock.t - before - 200) < 1, 'five from the refilled burst, the sixth waits 1/5 s');
});

test('a semaphore never admits more than its size, and mapLimit keeps order and the first error', async () => {
  const sem = new Semaphore(3);
  let inFlight = 0;
  let max = 0;
  await Promise.all(Array.from({ length: 20 }, () => sem.run(async () => {
    max = Math.max(max, ++inFlight);
    await new Promise((r) => setImmediate(r));
    inFlight--;
  })));
  assert.equal(max, 3);
  assert.deepEqual(await mapLimit([1, 2, 3, 4], 2, async (x) => x * 10), [10, 20, 30, 40]);
  await assert.rejects(mapLimit([1, 2, 3], 2, async (x) => { if (x === 2) throw new Error('two'); return x; }), /two/);
});
