// The batch activity without a worker (runAsActivity): a worker promotes at most its digest slots at once across
// all its batches; a batch whose edges hit transient failures records the rest, asks to be retried after its own
// backoff (1 s, 2 s, … 5 min by its count of transient attempts, kept in the heartbeat across crashes), and its
// retry resumes from the heartbeated progress without redoing finished edges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { shardedActivities, workerDigests, type EntryExecutor, type ExecutedEdge } from '../../src/activities/sharded';
import { FsStateStore, putJson } from '../../src/state';
import type { BatchInput, RunBundle } from '../../src/contract';
import { runAsActivity } from '../../src/testing/activity-context';
import { syntheticBundle } from '../../src/testing/synthetic-workload';

const run = { workflowId: 'w', runId: 'r', namespace: 'default', startedOn: '2026-12-08T00:00:00Z' };

async function planned(store: FsStateStore, bundle: RunBundle, batchEdges: number) {
  const acts = shardedActivities({ store, execute: async () => [], digests: 1 });
  const ref = await putJson(store, bundle);
  const plan = await runAsActivity(() => acts.planPhase({ bundle: ref, phase: 0, blocked: [], batchEdges, shardEdges: 1_000_000 }), { heartbeatTimeoutMs: 30_000 });
  return { ref, plan: plan.planned };
}

const batch = (bundle: BatchInput['bundle'], shards: BatchInput['shards'], i: number): BatchInput => ({ bundle, shards, shard: 0, batch: i, phaseName: 'global', run, retryWindowSeconds: 3600 });

test('PROMOFLOW_WORKER_DIGESTS: default 16, an integer from 1 to 1024, one line otherwise', () => {
  assert.equal(workerDigests({}), 16);
  assert.equal(workerDigests({ PROMOFLOW_WORKER_DIGESTS: '4' }), 4);
  assert.throws(() => workerDigests({ PROMOFLOW_WORKER_DIGESTS: 'many' }), /PROMOFLOW_WORKER_DIGESTS="many": expected an integer from 1 to 1024/);
  assert.throws(() => workerDigests({ PROMOFLOW_WORKER_DIGESTS: '0' }), /expected an integer/);
});

test('a worker promotes at most its digest slots at once, across all its batches', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'promoflow-batch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new FsStateStore(dir);
  const { ref, plan } = await planned(store, syntheticBundle({ projects: 1, digests: 48, destinations: 2 }), 32);
  let inFlight = 0;
  let peak = 0;
  const execute: EntryExecutor = async (e, ctx) => {
    peak = Math.max(peak, ++inFlight);
    await new Promise((r) => setImmediate(r));
    inFlight--;
    return e.dests.map((d): ExecutedEdge => ({ image: e.image, digest: e.digest, destination: d, phase: ctx.phase, outcome: 'promoted' }));
  };
  const acts = shardedActivities({ store, execute, digests: 3 });
  const results = await Promise.all([0, 1, 2].map((i) => runAsActivity(() => acts.promoteBatch(batch(ref, plan.shards, i)), { heartbeatTimeoutMs: 30_000, scheduledTimestampMs: Date.now() })));
  assert.equal(results.reduce((n, r) => n + (r.counts['region-01']?.[0] ?? 0) + (r.counts['region-02']?.[0] ?? 0), 0), 96, 'every edge promoted once');
  assert.equal(peak, 3, 'three batches of 8 concurrent digests each share the worker\'s 3 slots');
});

test('transient failures: the batch records the rest, backs off by its own count, and its retry redoes only what failed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'promoflow-batch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new FsStateStore(dir);
  const { ref, plan } = await planned(store, syntheticBundle({ projects: 1, digests: 4, destinations: 2 }), 100);
  const calls: string[] = [];
  let down = true;
  const execute: EntryExecutor = async (e, ctx) => {
    calls.push(...e.dests.map((d) => `${e.digest.slice(7, 11)}|${d}`));
    return e.dests.map((d): ExecutedEdge => (d === 'region-02' && down
      ? { image: e.image, digest: e.digest, destination: d, phase: ctx.phase, outcome: 'failed', errorType: 'RegistryUnavailable', error: 'down', transient: true }
      : { image: e.image, digest: e.digest, destination: d, phase: ctx.phase, outcome: 'promoted' }));
  };
  const acts = shardedActivities({ store, execute, digests: 4 });
  let details: unknown;
  const attempt = (heartbeatDetails: unknown) => runAsActivity(() => acts.promoteBatch(batch(ref, plan.shards, 0)), { heartbeatTimeoutMs: 30_000, scheduledTimestampMs: Date.now(), heartbeatDetails }, (d) => (details = d));

  // Three transient attempts in a row: 1 s, 2 s, 4 s (a crash in between keeps the count: it is in the heartbeat).
  for (const expected of ['1s', '2s', '4s']) {
    const err = await attempt(details).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ApplicationFailure && err.type === 'BatchIncomplete', String(err));
    assert.equal(err.nextRetryDelay, expected);
  }
  assert.equal(calls.length, 8 + 4 + 4 + 0, 'region-01 promoted once, only region-02 is retried');
  assert.deepEqual((details as { transient: number }).transient, 3);
  // A count of 20 caps at 5 minutes.
  const capped = await attempt({ ...(details as object), transient: 20 }).then(() => undefined, (e: unknown) => e);
  assert.equal((capped as ApplicationFailure).nextRetryDelay, '300s');
  down = false;
  const r = await attempt(details);
  assert.deepEqual([r.counts['region-01']?.[0], r.counts['region-02']?.[0]], [4, 4], 'the account holds every edge once, promoted');
});
