// The filesystem state store: content-addressed (the reference is the sha256 of the bytes), idempotent writes,
// verified reads, and a clear error naming the store when a reference is absent or a file is damaged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { FsStateStore, getJson, putJson, refOf, StateCorruptError, StateMissingError } from '../../src/state/store';

test('put returns the digest of the bytes; get returns them; a second put of the same bytes is the same reference', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'promoflow-store-'));
  try {
    const store = new FsStateStore(dir);
    const ref = await putJson(store, { a: 1 });
    assert.equal(ref, refOf(Buffer.from('{"a":1}')));
    assert.equal(await putJson(store, { a: 1 }), ref);
    assert.deepEqual(await getJson(store, ref, z.object({ a: z.number() }), 'doc'), { a: 1 });
    await assert.rejects(getJson(store, ref, z.object({ b: z.string() }), 'doc'), StateCorruptError, 'the shape is checked');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an absent reference names the store; a damaged file is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'promoflow-store-'));
  try {
    const store = new FsStateStore(dir);
    await assert.rejects(store.get(`sha256:${'a'.repeat(64)}`), (e: Error) => e instanceof StateMissingError && e.message.includes(dir) && e.message.includes('PROMOFLOW_STATE_STORE'));
    const ref = await store.put(Buffer.from('original'));
    const sub = join(dir, 'sha256', ref.slice(7, 9));
    writeFileSync(join(sub, readdirSync(sub)[0]!), gzipSync(Buffer.from('tampered')));
    await assert.rejects(store.get(ref), StateCorruptError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
