// Hostile input at the CLI and in rendered reports (issue 12, findings 6 and 10): a symlinked images.yaml that
// leads out of the manifest directory and an oversized manifest file are refused by the real CLI with exit 2 and a
// one-line reason; registry error text in the step summary and the Web UI details renders as text, never as
// Markdown or HTML.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderMarkdown } from '../../src/client/summary';
import { markdownCell } from '../../src/plan/markdown';
import { runCli } from '../../src/testing/harness';
import { renderDetails } from '../../src/workflows/details';
import type { EdgeResult, PromotionRunResult } from '../../src/contract';

const PROMOTER = 'registries:\n  - name: 127.0.0.1:5000/staging\n    src: true\n  - name: 127.0.0.1:5001/prod\n';

test('the CLI refuses a symlinked images.yaml leading out of the manifest directory, and an oversized manifest (exit 2, one line each)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'promoflow-test-hostile-input-'));
  try {
    mkdirSync(join(dir, 'repo'));
    mkdirSync(join(dir, 'secret'));
    writeFileSync(join(dir, 'secret', 'images.yaml'), `- name: x\n  dmap: {"sha256:${'a'.repeat(64)}": ["v1"]}\n`);
    writeFileSync(join(dir, 'repo', 'promoter-manifest.yaml'), PROMOTER);
    symlinkSync(join(dir, 'secret', 'images.yaml'), join(dir, 'repo', 'images.yaml'));
    writeFileSync(join(dir, 'inventory.json'), '{"repos": {}}');
    const linked = await runCli(['plan', join(dir, 'repo', 'promoter-manifest.yaml'), '--inventory', join(dir, 'inventory.json')]);
    assert.equal(linked.code, 2, linked.stderr);
    assert.match(linked.stderr, /repo\/images\.yaml: resolves \(through a symlink\) outside the manifest directory/);
    assert.equal(linked.stderr.split('\n').filter((l) => /images\.yaml/.test(l)).length, 1);
    assert.doesNotMatch(linked.stderr, /\n\s+at /, 'no stack trace');

    // An 11.7 MB manifest file took 1.2 GB to parse: it is refused from its size, before parsing.
    const big = join(dir, 'big.yaml');
    writeFileSync(big, `# ${'x'.repeat(11_700_000)}\n${PROMOTER}`);
    const huge = await runCli(['plan', big, '--inventory', join(dir, 'inventory.json')]);
    assert.equal(huge.code, 2, huge.stderr);
    assert.match(huge.stderr, /big\.yaml: is 11700\d{3} bytes, above the 4194304 byte limit for a manifest file/);
    assert.doesNotMatch(huge.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const HOSTILE = 'denied | <img src=x onerror=alert(1)>\n[click](https://evil.example) ![t](https://evil.example/t.png) **bold** `code` &amp;';

function assertInert(md: string): void {
  const row = md.split('\n').find((l) => l.includes('denied'));
  assert.ok(row, md);
  // Every Markdown or HTML metacharacter of the error is backslash-escaped.
  const error = row.slice(row.indexOf('denied'));
  assert.doesNotMatch(error, /(?<!\\)[<>[\]()!*`&]/, `not escaped: ${error}`);
  // The error stays inside its cell: the row keeps the table's column count (escaped pipes do not split it).
  assert.equal(row.split(/(?<!\\)\|/).length, md.split('\n').find((l) => l.startsWith('|---'))!.split('|').length);
  assert.ok(!md.includes('onerror=alert(1)>\n'), 'the newline did not end the row');
}

test('registry error text in the step summary and the Web UI details is escaped as text', () => {
  const edge: EdgeResult = { image: 'app', digest: `sha256:${'a'.repeat(64)}`, destination: 'prod', phase: 'production', status: 'failed', tags: ['v1'], errorType: 'Unauthorized', error: HOSTILE };
  const result: PromotionRunResult = { name: 'run', status: 'failed', phases: [{ name: 'production', status: 'failed' } as PromotionRunResult['phases'][number]], edges: [edge], counts: { promoted: 0, present: 0, failed: 1, lost: 0, skipped: 0 } as PromotionRunResult['counts'], decisions: [] };
  assertInert(renderMarkdown(result, { workflowId: 'w' }));
  assertInert(renderDetails({ name: 'run', status: 'failed', done: 1, total: 1, counts: result.counts, phases: [{ name: 'production', status: 'failed' }], edges: [edge] } as unknown as Parameters<typeof renderDetails>[0]));
});

test('markdownCell: text renders as itself; control characters become spaces; long text is cut', () => {
  assert.equal(markdownCell('a|b'), 'a\\|b');
  assert.equal(markdownCell('<x>'), '\\<x\\>');
  assert.equal(markdownCell('line1\r\nline2\u001b[31m'), 'line1 line2 \\[31m');
  assert.equal(markdownCell('plain words 123'), 'plain words 123');
  assert.ok(markdownCell('y'.repeat(5000)).length <= 501);
});
