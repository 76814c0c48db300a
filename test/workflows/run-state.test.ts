// The sharded run's state reducer (pure): counters add up per phase and destination, the failure sample stays
// bounded, decisions drive pause/abort, and the status follows from counters, decisions and the phase.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEvent, initialRunState, rolloutSoFar, runStatus, runTotals, doneEdges } from '../../src/workflows/run-state';
import type { FailureSample, ShardedRunInput } from '../../src/contract';

const input: ShardedRunInput = {
  name: 'r',
  bundle: `sha256:${'1'.repeat(64)}`,
  phases: [{ name: 'canary', soakSeconds: 0, verify: false, approval: true }, { name: 'global', soakSeconds: 0, verify: false, approval: false }],
  totalEdges: 10,
};
const failure = (i: number): FailureSample => ({ image: 'a', digest: `sha256:${String(i).padStart(64, '0')}`, destination: 'eu', phase: 'canary', outcome: 'failed', errorType: 'Unauthorized', error: 'denied' });

test('shard results add up per phase and destination; the failure sample is capped at 20', () => {
  const s = initialRunState(input, '2026-01-01T00:00:00Z');
  applyEvent(s, { type: 'phase-status', phase: 0, status: 'running', at: 't' });
  for (let i = 0; i < 30; i++) applyEvent(s, { type: 'shard-done', phase: 0, result: { counts: { eu: [1, 0, 1, 0, 0, 0] }, failures: [failure(i)], aborted: false } });
  assert.deepEqual(s.phases[0]!.counts.eu, [30, 0, 30, 0, 0, 0]);
  assert.equal(s.phases[0]!.shardsDone, 30);
  assert.equal(s.failures.length, 20);
  assert.equal(doneEdges(s), 60);
  assert.deepEqual(runTotals(s), [30, 0, 30, 0, 0, 0]);
});

test('status: planning, paused, awaiting approval, then failed/succeeded/aborted/rejected once finished', () => {
  const s = initialRunState(input, 't');
  applyEvent(s, { type: 'phase-status', phase: 0, status: 'running', at: 't' });
  assert.equal(runStatus(s), 'planning');
  applyEvent(s, { type: 'planned', phase: 0, plan: { planned: { shards: `sha256:${'2'.repeat(64)}`, sizes: [[10, 1]] }, skipped: {}, failures: [] } });
  assert.equal(runStatus(s), 'running');
  applyEvent(s, { type: 'decision', record: { kind: 'pause', by: 'me', at: 't' } });
  assert.equal(runStatus(s), 'paused');
  applyEvent(s, { type: 'decision', record: { kind: 'resume', by: 'me', at: 't' } });
  applyEvent(s, { type: 'awaiting', phase: 'canary' });
  assert.equal(runStatus(s), 'awaiting-approval');
  applyEvent(s, { type: 'awaiting', phase: undefined });
  applyEvent(s, { type: 'shard-done', phase: 0, result: { counts: { eu: [10, 0, 0, 0, 0, 0] }, failures: [], aborted: false } });
  applyEvent(s, { type: 'finished' });
  assert.equal(runStatus(s), 'succeeded');
  const a = structuredClone(s);
  applyEvent(a, { type: 'decision', record: { kind: 'abort', by: 'me', at: 't' } });
  assert.equal(runStatus(a), 'aborted');
  const f = structuredClone(s);
  applyEvent(f, { type: 'accounted', phase: 1, counts: { us: [0, 0, 0, 0, 1, 0] } });
  assert.equal(runStatus(f), 'failed', 'a skipped edge is not a success');
});

test('rollout record: earlier phases with start, end, soak served, verify gate and the approval; the running phase with its start; the same state gives the same record', () => {
  const gates = [{ name: 'canary', soakSeconds: 600, verify: true, approval: true }, { name: 'global', soakSeconds: 0, verify: false, approval: false }];
  const s = initialRunState({ ...input, phases: gates }, '2026-01-01T00:00:00Z');
  applyEvent(s, { type: 'phase-status', phase: 0, status: 'running', at: '2026-01-01T00:00:01Z' });
  assert.deepEqual(rolloutSoFar(s, gates, 0), [{ name: 'canary', startedAt: '2026-01-01T00:00:01Z', verifyGate: true }]);
  applyEvent(s, { type: 'decision', record: { kind: 'pause', by: 'ops', at: '2026-01-01T00:01:00Z' } });
  applyEvent(s, { type: 'decision', record: { kind: 'approve', by: 'alice', reason: 'healthy', phase: 'canary', at: '2026-01-01T00:20:00Z' } });
  applyEvent(s, { type: 'phase-status', phase: 0, status: 'done', at: '2026-01-01T00:20:00Z' });
  applyEvent(s, { type: 'phase-status', phase: 1, status: 'running', at: '2026-01-01T00:20:01Z' });
  const expected = [
    { name: 'canary', startedAt: '2026-01-01T00:00:01Z', finishedAt: '2026-01-01T00:20:00Z', soakSeconds: 600, verifyGate: true, approval: { by: 'alice', reason: 'healthy', at: '2026-01-01T00:20:00Z' } },
    { name: 'global', startedAt: '2026-01-01T00:20:01Z' },
  ];
  assert.deepEqual(rolloutSoFar(s, gates, 1), expected);
  assert.deepEqual(rolloutSoFar(JSON.parse(JSON.stringify(s)) as typeof s, gates, 1), expected, 'after continue-as-new (the state carried as JSON)');
});
