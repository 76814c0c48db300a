// The README's main job, run as a user runs it (`promoflow demo`) in a fresh state directory: it must end with
// the sample image promoted, signed and verified everywhere, the run listed by the Temporal server, and no
// temporal or docker-registry process left behind. A second run finds nothing to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { runCli, testStateDir } from '../../src/testing/harness';

function survivors(stateDir: string): string[] {
  let out = '';
  try {
    out = execFileSync('pgrep', ['-af', stateDir], { encoding: 'utf8' });
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
  return out.split('\n').filter((l) => l && !l.includes('pgrep'));
}

test('promoflow demo promotes, signs and verifies the sample image, then leaves nothing running', async () => {
  const stateDir = testStateDir('demo');
  try {
    const r = await runCli(['demo', '--state-dir', stateDir], { timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /demo: SUCCEEDED/);
    assert.match(r.stdout, /phase production: done[\s\S]*phase canary: done[\s\S]*phase mirrors: done/);
    // A signed run succeeds only when every destination's signatures verify (an edge whose signatures do not is failed).
    assert.equal(r.stdout.match(/^ {2}(prod|mirror-eu|mirror-us): 1 promoted, 0 already present, 0 failed/gm)?.length, 3);
    assert.doesNotMatch(r.stdout, /ran it: .*FAILED/);
    assert.equal(r.stdout.match(/^ {2}✓ (prod|mirror-eu|mirror-us): /gm)?.length, 3, 'skopeo confirms all three destinations');
    assert.match(r.stdout, /Completed\s+promote\/demo\/\S+\s+shardedRun/);
    assert.match(r.stdout, /cosign verify --key .*cosign\.pub --insecure-ignore-tlog=true/);
    assert.match(r.stderr, /environment stopped/);
    assert.deepEqual(survivors(stateDir), []);

    const again = await runCli(['demo', '--state-dir', stateDir], { timeoutMs: 180_000 });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /nothing to do: all 3 image × destination edges are already promoted/);
    assert.deepEqual(survivors(stateDir), []);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});
