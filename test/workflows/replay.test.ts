// Determinism: every recorded history (test/fixtures/histories, written by scripts/record-histories.ts) replays
// on the current workflow code without a nondeterminism error. A change that breaks this must be guarded with
// patched() (see README, "Upgrading promoflow").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { REPO_ROOT } from '../../src/testing/harness';
import { installRuntime, workflowBundle } from '../../src/worker/worker';

const dir = join(REPO_ROOT, 'test', 'fixtures', 'histories');
/** fixture file → the workflow ID it was recorded under (child IDs derive from it). */
const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Record<string, string>;
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'index.json').sort();

test('recorded histories exist for both workflow types', () => {
  assert.ok(fixtures.some((f) => f.includes('-promotionRun-')));
  assert.ok(fixtures.some((f) => f.includes('-imagePromotion-')));
});

for (const f of fixtures) {
  test(`replays ${f}`, async () => {
    installRuntime();
    const history = historyFromJSON(JSON.parse(readFileSync(join(dir, f), 'utf8')));
    assert.ok(index[f], `${f} is listed in index.json`);
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, index[f]);
  });
}

test('the replayer does catch a divergence (child IDs derived from another workflow ID)', async () => {
  installRuntime();
  const f = fixtures.find((x) => x.includes('-promotionRun-'))!;
  const history = historyFromJSON(JSON.parse(readFileSync(join(dir, f), 'utf8')));
  await assert.rejects(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'promote/another/000000000000'), /[Nn]ondeterminism/);
});
