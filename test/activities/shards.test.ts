// Sharding a phase (pure): only destinations with work, blocked images become skipped records, batches and shards
// respect their edge bounds, shards follow repository group × registry-group task queue, and the shard count is capped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shardPhase } from '../../src/activities/shards';
import { syntheticBundle } from '../../src/testing/synthetic-workload';

const edgesOf = (s: { batches: Array<Array<{ dests: string[] }>> }) => s.batches.flat().reduce((n, e) => n + e.dests.length, 0);

test('every edge of the phase lands in exactly one batch; batches and shards stay within their bounds', () => {
  const b = syntheticBundle({ projects: 5, digests: 500, destinations: 6 });
  const { shards, skipped } = shardPhase(b, 0, new Set(), { batchEdges: 50, shardEdges: 300, maxShards: 1000 });
  assert.equal(skipped.length, 0);
  assert.equal(shards.reduce((n, s) => n + edgesOf(s), 0), 3000);
  for (const s of shards) {
    assert.ok(edgesOf(s) <= 300, `shard of ${edgesOf(s)} edges`);
    for (const batch of s.batches) assert.ok(batch.reduce((n, e) => n + e.dests.length, 0) <= 50);
    assert.equal(new Set(s.batches.flat().map((e) => e.project)).size, 1, 'one repository group per shard');
  }
  const seen = new Set(shards.flatMap((s) => s.batches.flat().flatMap((e) => e.dests.map((d) => `${e.digest}|${d}`))));
  assert.equal(seen.size, 3000, 'no edge twice');
});

test('only destinations where a digest has work are included; blocked digests become skipped records', () => {
  const b = syntheticBundle({ projects: 1, digests: 3, destinations: 3 });
  b.items[0]!.work = ['region-02'];
  b.items[1]!.work = [];
  const blocked = new Set([`${b.items[2]!.image}@${b.items[2]!.digest}`]);
  const { shards, skipped } = shardPhase(b, 0, blocked, { batchEdges: 100, shardEdges: 100, maxShards: 10 });
  const entries = shards.flatMap((s) => s.batches.flat());
  assert.deepEqual(entries.map((e) => [e.digest, e.dests]), [[b.items[0]!.digest, ['region-02']]]);
  assert.equal(skipped.length, 3);
  assert.ok(skipped.every((r) => r.outcome === 'skipped' && r.errorType === 'EarlierPhaseFailed' && r.digest === b.items[2]!.digest));
});

test('a destination group with its own task queue gets its own shards; the shard count is capped by growing shards', () => {
  const b = syntheticBundle({ projects: 2, digests: 40, destinations: 4 });
  b.destinations[3] = { ...b.destinations[3]!, taskQueue: 'eu' };
  const { shards } = shardPhase(b, 0, new Set(), { batchEdges: 10, shardEdges: 10, maxShards: 1000 });
  const eu = shards.filter((s) => s.taskQueue === 'eu');
  assert.ok(eu.length > 0 && eu.every((s) => s.batches.flat().every((e) => e.dests.join() === 'region-04')));
  assert.ok(shards.filter((s) => !s.taskQueue).every((s) => s.batches.flat().every((e) => !e.dests.includes('region-04'))));
  const capped = shardPhase(b, 0, new Set(), { batchEdges: 10, shardEdges: 10, maxShards: 4 });
  // Two projects × two queues is the floor; the cap of 4 holds.
  assert.equal(capped.shards.length, 4);
});

test('wholeRepos (inventory): a repository is never split across batches or shards, and every edge still lands once', () => {
  // One project, 12 images with 40 digests each (interleaved in bundle order): batches of 30 edges would cut images.
  const b = syntheticBundle({ projects: 1, digests: 480, destinations: 2 });
  const { shards } = shardPhase(b, 0, new Set(), { batchEdges: 30, shardEdges: 200, maxShards: 1000, wholeRepos: true });
  const batchOf = new Map<string, string>();
  shards.forEach((s, si) =>
    s.batches.forEach((batch, bi) => {
      for (const e of batch) {
        assert.equal(batchOf.get(e.image) ?? `${si}/${bi}`, `${si}/${bi}`, `${e.image} is in one batch`);
        batchOf.set(e.image, `${si}/${bi}`);
      }
    }),
  );
  assert.equal(batchOf.size, 12);
  assert.equal(shards.reduce((n, s) => n + edgesOf(s), 0), 960);
});
