// The real-registry scale run, short (bench/scale-real.ts is the full 100,000 edges): 120 images × 5 destination
// registries, signed and attested, promoted by three worker processes while one is SIGKILLed every 4 s (the first 5
// kills; bench:scale-real kills until the end; 200 edges now finish before a kill every 10 s would come). Every edge is accounted exactly once and verified (status --json), the
// second run of the manifest has nothing to do (no workflow, no copy), and a reconcile finds no drift.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScaleReal } from '../../src/testing/scale-real';

test('scale-real, short: 3 workers with SIGKILLs, every edge accounted and verified, the second run has nothing to do, no drift', { timeout: 600_000 }, async () => {
  const lines: string[] = [];
  const r = await runScaleReal({ images: 120, destinations: 5, workers: 3, killEverySeconds: 4, maxKills: 5, deadlineSeconds: 540, groups: 6, histories: false, workerDigests: 3, workerActivities: 3, log: (l) => lines.push(l) });
  const why = JSON.stringify({ first: r.first, second: r.second, reconcile: r.reconcile, log: lines });
  assert.ok(r.kills >= 1, `no worker was killed: ${why}`);
  assert.equal(r.first.exit, 0, why);
  assert.equal(r.first.accounted, r.edges, why);
  assert.equal(r.first.unique, r.edges, why);
  assert.equal(r.first.verified, r.edges, why);
  assert.equal(r.second.exit, 0, why);
  assert.ok(r.second.nothingToDo, why);
  assert.equal(r.reconcile.exit, 0, why);
  assert.equal(r.reconcile.findings, 0, why);
});
