// Diff-scoped runs: only added/changed digests are planned, and an error already present at the base revision
// does not block a new promotion (checked through a real git repository).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadDiffScoped } from '../../src/manifest/git';
import { ManifestLoadError } from '../../src/manifest/load';

const hex = (c: string) => c.repeat(64);
const manifest = 'registries:\n- name: gcr.io/staging\n  src: true\n- name: r.io/prod\n';
const images = (lines: string[]) => `- name: app\n  dmap:\n${lines.map((l) => `    ${l}\n`).join('')}`;

test('plans only digests added or re-tagged since the base revision; old errors do not block', async () => {
  const repo = mkdtempSync(path.join(tmpdir(), 'promoflow-diff-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'pipe' });
  git('init', '-q');
  git('config', 'user.email', 't@example.com');
  git('config', 'user.name', 't');
  mkdirSync(path.join(repo, 'k8s', 'manifests', 'p'), { recursive: true });
  mkdirSync(path.join(repo, 'k8s', 'images', 'p'), { recursive: true });
  writeFileSync(path.join(repo, 'k8s', 'manifests', 'p', 'promoter-manifest.yaml'), manifest);
  const file = path.join(repo, 'k8s', 'images', 'p', 'images.yaml');
  writeFileSync(file, images([`"sha256:${hex('a')}": ["v1"]`, `"sha256:${hex('b')}": ["v2"]`, `"sha256:bad": ["old"]`]));
  git('add', '.');
  git('commit', '-qm', 'base');
  writeFileSync(file, images([`"sha256:${hex('a')}": ["v1"]`, `"sha256:${hex('b')}": ["v2", "latest"]`, `"sha256:bad": ["old"]`, `"sha256:${hex('c')}": ["v3"]`]));
  git('commit', '-qam', 'head');
  const dir = path.join(repo, 'k8s');
  const r = await loadDiffScoped(dir, 'HEAD~1', 'HEAD');
  assert.deepEqual(r.spec.images.map((i) => Object.keys(i.dmap).map((d) => d.slice(7, 8))), [['b', 'c']]);
  assert.deepEqual([r.added, r.changed, r.unchanged], [1, 1, 1]);
  assert.deepEqual(r.preexisting.map((e) => e.value), ['sha256:bad']);
  assert.deepEqual(r.errors, []);
  // Working tree as head: a newly introduced bad digest fails the load (strict) or is isolated (skipInvalid).
  writeFileSync(file, images([`"sha256:${hex('a')}": ["v1"]`, `"sha256:bad": ["old"]`, `"sha256:nope": ["new"]`]));
  await assert.rejects(loadDiffScoped(dir, 'HEAD'), (e: unknown) => e instanceof ManifestLoadError && e.errors.length === 1 && e.errors[0]!.value === 'sha256:nope');
  const iso = await loadDiffScoped(dir, 'HEAD', undefined, { skipInvalid: true });
  assert.deepEqual(iso.errors.map((e) => e.value), ['sha256:nope']);
  await assert.rejects(loadDiffScoped(dir, 'no-such-rev'), (e: unknown) => e instanceof ManifestLoadError && /not a revision/.test(e.format()));
});
