// State store retention (mark and sweep): documents reachable from the roots are kept however old, unreachable
// ones go once older than the age, recent ones stay; a dry run removes nothing; writing a document again restarts
// its age.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectGarbage, refsIn } from '../../src/state/gc';
import { FsStateStore, putJson, StateMissingError, type StateRef } from '../../src/state/store';

const DAY = 86_400_000;

function age(dir: string, ms: number): void {
  const t = new Date(Date.now() - ms);
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else utimesSync(p, t, t);
    }
  };
  walk(dir);
}

test('mark from roots through nested references; sweep the old and unreachable; keep the recent; dry run removes nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'promoflow-gc-'));
  try {
    const store = new FsStateStore(dir);
    const leaf = await putJson(store, { edges: [{ image: 'a', digest: `sha256:${'1'.repeat(64)}` }] });
    const shard = await putJson(store, { batches: [] });
    const list = await putJson(store, { shards: [shard] });
    const root = await putJson(store, { parts: [leaf], shards: list });
    const orphan = await putJson(store, { edges: [] });
    mkdirSync(join(dir, 'sha256', 'ab'), { recursive: true });
    writeFileSync(join(dir, 'sha256', 'ab', `${'ab'.repeat(32)}.json.gz.123.x.tmp`), 'half');
    age(dir, 2 * DAY);
    const young = await putJson(store, { fresh: true });

    const dry = await collectGarbage(dir, { roots: [root, `sha256:${'f'.repeat(64)}`, 'not a ref'], olderThanMs: DAY, dryRun: true });
    assert.deepEqual(dry, { marked: 4, removed: 1, bytesFreed: dry.bytesFreed, young: 1, temporaries: 1 });
    await store.get(orphan);

    const r = await collectGarbage(dir, { roots: [root], olderThanMs: DAY });
    assert.equal(r.removed, 1);
    assert.equal(r.temporaries, 1);
    for (const kept of [leaf, shard, list, root, young]) await store.get(kept);
    await assert.rejects(store.get(orphan), StateMissingError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writing a document again restarts its age (a bundle re-stored for a new run is not swept)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'promoflow-gc-'));
  try {
    const store = new FsStateStore(dir);
    const doc = await putJson(store, { bundle: 1 });
    age(dir, 2 * DAY);
    assert.equal(await putJson(store, { bundle: 1 }), doc);
    const r = await collectGarbage(dir, { roots: [], olderThanMs: DAY });
    assert.equal(r.removed, 0);
    await store.get(doc);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('refsIn finds every state reference in a text once', () => {
  const a = `sha256:${'a'.repeat(64)}` as StateRef;
  assert.deepEqual(refsIn(`{"x":"${a}","y":["${a}"],"z":"sha256:short"}`), [a]);
});
