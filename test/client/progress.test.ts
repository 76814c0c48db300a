// Live progress: per-phase figures, the plain-line view's bounded rate (CI logs), and the terminal view redrawing
// one block in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { MAX_FAILURE_LINES, phaseLines, plainView, Rate, renderBlock, terminalView } from '../../src/client/progress';
import type { EdgeResult, PromotionProgress } from '../../src/contract';

const D = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

function edge(n: number, phase: string, destination: string, status: EdgeResult['status'] = 'promoted'): EdgeResult {
  return { image: `img${n}`, digest: D(n), destination, phase, status, tags: ['v1'], bytesCopied: status === 'promoted' ? 1 << 20 : 0, ...(status === 'failed' ? { errorType: 'Unauthorized', error: 'denied' } : {}) };
}

function progress(edges: EdgeResult[], over: Partial<PromotionProgress> = {}): PromotionProgress {
  return {
    name: 'run', status: 'running', currentPhase: 'production', total: 30, phaseTotals: { production: 10, mirrors: 20 }, done: edges.length,
    phases: [{ name: 'production', status: 'running' }, { name: 'mirrors', status: 'pending' }],
    edges, counts: { promoted: 0, present: 0, failed: 0, lost: 0, skipped: 0 }, decisions: [], ...over,
  };
}

test('phaseLines: edges done/total, failures and bytes per phase', () => {
  const p = progress([edge(1, 'production', 'prod'), edge(2, 'production', 'prod', 'failed'), edge(3, 'mirrors', 'eu'), edge(4, 'mirrors', 'eu', 'lost')]);
  assert.deepEqual(phaseLines(p), [
    { name: 'production', status: 'running', done: 2, total: 10, failed: 1, bytes: 1 << 20 },
    { name: 'mirrors', status: 'pending', done: 2, total: 20, failed: 1, bytes: 1 << 20 },
  ]);
  // A run started by an older build has no per-phase totals: shown as unknown, never invented.
  assert.equal(phaseLines(progress([], { phaseTotals: undefined }))[0]!.total, undefined);
  assert.match(renderBlock(progress([], { phaseTotals: undefined }), 0, 0), /0\/\?/);
});

test('rates print as whole bytes', () => {
  const line = renderBlock(progress([edge(1, 'production', 'prod')]), 129.0697, 1000).split('\n')[0]!;
  assert.match(line, / · 129 B\/s · /);
});

test('Rate: bytes per second over the window', () => {
  const r = new Rate(10_000);
  assert.equal(r.add(0, 0), 0);
  assert.equal(r.add(1000, 5_000_000), 5_000_000);
  assert.equal(r.add(2000, 6_000_000), 3_000_000);
  // Old samples leave the window.
  assert.equal(r.add(20_000, 6_000_000), 0);
});

test('renderBlock: one line per phase with a bar, done/total, status, bytes; failures named', () => {
  const edges = [...Array.from({ length: 5 }, (_, i) => edge(i, 'production', 'prod')), edge(9, 'production', 'prod', 'failed')];
  const text = renderBlock(progress(edges), 2 << 20, 42_000);
  const lines = text.split('\n');
  assert.match(lines[0]!, /^run: running · phase production · 6\/30 edges · 5\.0 MiB · 2\.0 MiB\/s · 42s$/);
  assert.match(lines[1]!, /^ {2}production \[#{14}\.{10}\] +6\/10 running +5\.0 MiB {2}1 failed$/);
  assert.match(lines[2]!, /^ {2}mirrors +\[\.{24}\] +0\/20 pending/);
  assert.match(lines[3]!, /✗ img9@sha256:000000000000 → prod: failed Unauthorized: denied/);
});

test('plainView: a status line at most once per interval, phase changes and failures at once, failures capped', () => {
  const lines: string[] = [];
  let now = 0;
  const view = plainView((l) => lines.push(l), { minIntervalMs: 10_000, now: () => now });
  const edges: EdgeResult[] = [];
  // 600 polls, one a second, each finishing one edge: ten minutes of a run.
  for (let i = 0; i < 600; i++) {
    edges.push(edge(i, 'production', 'prod'));
    view.update(progress([...edges]));
    now += 1000;
  }
  assert.ok(lines.length <= 61, `bounded: ${lines.length} lines for 600 polls`);
  assert.ok(lines.length >= 55, `but it keeps reporting: ${lines.length}`);
  assert.match(lines.at(-1)!, /^run: running · 59\d\/30 edges · production 59\d\/10 running · mirrors 0\/20 pending · 59\d\.0 MiB at 1\.0 MiB\/s$/);

  // A phase change is printed at once, without waiting for the interval.
  lines.length = 0;
  view.update(progress([...edges], { currentPhase: 'mirrors', phases: [{ name: 'production', status: 'done' }, { name: 'mirrors', status: 'running' }] }));
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /production 600\/10 done · mirrors 0\/20 running/);

  // Nothing moved: nothing printed, however long it waits.
  lines.length = 0;
  now += 60_000;
  view.update(progress([...edges], { currentPhase: 'mirrors', phases: [{ name: 'production', status: 'done' }, { name: 'mirrors', status: 'running' }] }));
  assert.equal(lines.length, 0);

  // Many failures at once: the first MAX_FAILURE_LINES, then how many more.
  for (let i = 0; i < MAX_FAILURE_LINES + 7; i++) edges.push(edge(1000 + i, 'mirrors', 'eu', 'failed'));
  view.update(progress([...edges], { currentPhase: 'mirrors', phases: [{ name: 'production', status: 'done' }, { name: 'mirrors', status: 'running' }] }));
  assert.equal(lines.filter((l) => l.startsWith('  ✗ ')).length, MAX_FAILURE_LINES);
  assert.equal(lines.at(-1), '  … 7 more failures (listed in the account)');
});

test('plainView --json: one JSON object per emitted line', () => {
  const lines: string[] = [];
  const view = plainView((l) => lines.push(l), { json: true, now: () => 0 });
  view.update(progress([edge(1, 'production', 'prod')]));
  const o = JSON.parse(lines[0]!) as { done: number; phases: Array<{ name: string; total: number }> };
  assert.equal(o.done, 1);
  assert.deepEqual(o.phases.map((p) => [p.name, p.total]), [['production', 10], ['mirrors', 20]]);
});

test('terminalView: redraws one block in place (erases the previous block), leaves the last one on done', async () => {
  let out = '';
  const stream = Object.assign(new Writable({ write: (c: Buffer, _e, cb) => ((out += c.toString()), cb()) }), { isTTY: true, columns: 120, rows: 40 }) as unknown as NodeJS.WriteStream;
  const view = await terminalView(stream);
  view.update(progress([edge(1, 'production', 'prod')]));
  const first = out;
  view.update(progress([edge(1, 'production', 'prod'), edge(2, 'production', 'prod')]));
  view.close();
  assert.match(first, /1\/10/);
  const second = out.slice(first.length);
  const ESC = '\u001b';
  assert.ok(second.includes(`${ESC}[2K`), 'erases the previous lines');
  assert.ok(second.includes(`${ESC}[1A`), 'moves the cursor up over them');
  assert.match(second, /2\/10/);
});
