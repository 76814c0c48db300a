// The kpromo compatibility contract (docs/kpromo.md), one test per row of its edge-case table, each on a small
// manifest tree: what kpromo does with it (its model, manifest/kpromo-reference.ts, read from promo-tools' code) and
// what promoflow does, side by side. Rows that need registry state (tag move, lost) plan against an inventory.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { kpromoReference } from '../../src/manifest/kpromo-reference';
import { formatError, fsSourceFor, loadSpec, ManifestLoadError, type LoadOptions } from '../../src/manifest/load';
import { inventoryFromJson } from '../../src/plan/inventory';
import { plan } from '../../src/plan/plan';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const REGS = 'registries:\n- name: gcr.io/staging\n  src: true\n- name: eu.gcr.io/prod\n';

/** A thin layout (or any tree) from relative path → content. */
function tree(files: Record<string, string>): string {
  const d = mkdtempSync(path.join(tmpdir(), 'promoflow-contract-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(d, rel)), { recursive: true });
    writeFileSync(path.join(d, rel), text);
  }
  return d;
}
const thin = (manifest: string, images?: string, extra: Record<string, string> = {}) =>
  tree({ 'manifests/p/promoter-manifest.yaml': manifest, ...(images === undefined ? {} : { 'images/p/images.yaml': images }), ...extra });

/** kpromo's verdict: its edges as `registry/image:tag@digest`, and whether it fails the run. */
async function kpromo(p: string) {
  const { source, rel } = await fsSourceFor(p);
  const r = await kpromoReference(source, rel);
  return { edges: r.edges.map((e) => `${e.registry}/${e.image}:${e.tag}@${e.digest.slice(7, 8)}`).sort(), fails: r.failures.length > 0, failures: r.failures, redundant: r.redundant };
}

/** promoflow's verdict: errors (file name:line), or the spec's tag edges and warnings. */
async function promoflow(p: string, opts: LoadOptions = {}) {
  try {
    const r = await loadSpec(p, opts);
    const pl = plan(r.spec, inventoryFromJson({ repos: {} }));
    const edges = pl.phases.flatMap((ph) => ph.edges.filter((e) => e.kind === 'copy').flatMap((e) => (e.tags.length ? e.tags : ['']).map((t) => `${e.target}:${t}@${e.digest.slice(7, 8)}`))).sort();
    return { ok: true as const, edges, errors: r.errors.map((e) => short(formatError(e))), warnings: r.warnings.map((e) => short(formatError(e))), counts: pl.counts };
  } catch (e) {
    assert.ok(e instanceof ManifestLoadError, String(e));
    return { ok: false as const, errors: e.errors.map((x) => short(formatError(x))) };
  }
}
/** The file's own name instead of its temporary directory. */
const short = (line: string) => line.replace(/^[^:]*\/(?=[^/:]+\.yaml)/, '');

test('tag with +: kpromo accepts it in a thin manifest (its copy fails later); promoflow reports file:line, --skip-invalid isolates the digest', async () => {
  const d = thin(REGS, `- name: app\n  dmap:\n    "${A}": ["v1+build"]\n    "${B}": ["v2"]\n`);
  const k = await kpromo(d);
  assert.deepEqual([k.fails, k.edges], [false, ['eu.gcr.io/prod/app:v1+build@a', 'eu.gcr.io/prod/app:v2@b']]);
  const strict = await promoflow(d);
  assert.deepEqual(strict.errors, ['images.yaml:3:81: images[0].dmap["sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"][0]: "v1+build" is not a valid tag: expected a tag matching ^\\w[\\w.-]{0,127}$']);
  const isolated = await promoflow(d, { skipInvalid: true });
  assert.deepEqual(isolated.ok && isolated.edges, ['eu.gcr.io/prod/app:v2@b']);
  // A plain manifest: kpromo validates tags there and fails the run.
  const plain = tree({ 'promoter-manifest.yaml': `${REGS}images:\n- name: app\n  dmap:\n    "${A}": ["v1+build"]\n` });
  assert.deepEqual((await kpromo(path.join(plain, 'promoter-manifest.yaml'))).failures.map(short), ['promoter-manifest.yaml: invalid tag: v1+build']);
});

test('uppercase digest: kpromo plans it (then finds it _LOST_); promoflow reports it with file:line', async () => {
  const upper = `sha256:${'A'.repeat(64)}`;
  const d = thin(REGS, `- name: app\n  dmap:\n    "${upper}": ["v1"]\n`);
  const k = await kpromo(d);
  assert.deepEqual([k.fails, k.edges.length], [false, 1]);
  const p = await promoflow(d);
  assert.match(p.errors.join(), /images\.yaml:3:5: images\[0\]\.dmap: "sha256:A{64}" is not a digest: expected sha256: followed by 64 lowercase hex characters/);
});

test('duplicate key: both refuse the file (kpromo the whole run; promoflow --skip-invalid drops that file only)', async () => {
  const d = thin(REGS, `- name: app\n  dmap:\n    "${A}": ["v1"]\n    "${A}": ["v2"]\n`, { 'manifests/q/promoter-manifest.yaml': REGS.replace('staging', 'other'), 'images/q/images.yaml': `- name: ok\n  dmap:\n    "${B}": ["v1"]\n` });
  const k = await kpromo(d);
  assert.equal(k.fails, true);
  const p = await promoflow(d);
  assert.deepEqual(p.errors, [`images.yaml:4:5: "${A}" duplicate key: expected each key once per mapping`]);
  const isolated = await promoflow(d, { skipInvalid: true });
  assert.deepEqual(isolated.ok && isolated.edges, ['eu.gcr.io/prod/ok:v1@b']);
});

test('image twice in one file: both promote the union of its entries', async () => {
  const d = thin(REGS, `- name: app\n  dmap:\n    "${A}": ["v1"]\n- name: app\n  dmap:\n    "${A}": ["v1.0"]\n    "${B}": []\n`);
  const k = await kpromo(d);
  const p = await promoflow(d);
  assert.deepEqual(k.edges, ['eu.gcr.io/prod/app:@b', 'eu.gcr.io/prod/app:v1.0@a', 'eu.gcr.io/prod/app:v1@a']);
  assert.deepEqual(p.ok && p.edges, k.edges);
});

test('overlap within a manifest and across manifests: kpromo fails the run; promoflow refuses those edges (exit 2; --skip-invalid plans the rest)', async () => {
  const within = thin(REGS, `- name: app\n  dmap:\n    "${A}": ["v1"]\n    "${B}": ["v1"]\n`);
  assert.match((await kpromo(within)).failures.join(), /overlapping edges detected: eu\.gcr\.io\/prod\/app:v1/);
  const p = await promoflow(within);
  assert.deepEqual(p.ok && [p.counts.overlap, p.counts.copy], [2, 0]);
  const across = tree({
    'manifests/p/promoter-manifest.yaml': REGS,
    'images/p/images.yaml': `- name: app\n  dmap:\n    "${A}": ["v1"]\n`,
    'manifests/q/promoter-manifest.yaml': REGS.replace('staging', 'other'),
    'images/q/images.yaml': `- name: app\n  dmap:\n    "${B}": ["v1"]\n    "${B}x": []\n`.replace(`    "${B}x": []\n`, ''),
  });
  assert.equal((await kpromo(across)).fails, true);
  const q = await promoflow(across);
  assert.deepEqual(q.ok && q.counts.overlap, 2);
});

test('redundant promotion: the same digest and tag from two manifests is planned once by both', async () => {
  const d = tree({
    'manifests/p/promoter-manifest.yaml': REGS,
    'images/p/images.yaml': `- name: app\n  dmap:\n    "${A}": ["v1"]\n`,
    'manifests/q/promoter-manifest.yaml': REGS.replace('staging', 'other'),
    'images/q/images.yaml': `- name: app\n  dmap:\n    "${A}": ["v1"]\n`,
  });
  const k = await kpromo(d);
  assert.deepEqual([k.edges, k.redundant], [['eu.gcr.io/prod/app:v1@a'], 1]);
  const p = await promoflow(d);
  assert.deepEqual(p.ok && [p.edges, p.counts.redundant], [['eu.gcr.io/prod/app:v1@a'], 1]);
});

test('empty dmap: a thin manifest promotes nothing (promoflow warns); a plain manifest is refused by both', async () => {
  const d = thin(REGS, '- name: app\n  dmap: {}\n');
  assert.deepEqual(await kpromo(d), { edges: [], fails: false, failures: [], redundant: 0 });
  const p = await promoflow(d);
  assert.deepEqual(p.ok && p.warnings, ['images.yaml:2:9: images[0].dmap: is empty: the image promotes nothing: expected at least one "sha256:<hex>": [tags] entry']);
  const plain = path.join(tree({ 'promoter-manifest.yaml': `${REGS}images:\n- name: app\n  dmap: {}\n` }), 'promoter-manifest.yaml');
  assert.match((await kpromo(plain)).failures.join(), /'dmap' field cannot be empty/);
  assert.deepEqual((await promoflow(plain)).errors, ['promoter-manifest.yaml:7:9: images[0].dmap: is empty: the image promotes nothing: expected at least one "sha256:<hex>": [tags] entry']);
});

test('empty registries: kpromo fails the run (no source); promoflow refuses that manifest (--skip-invalid drops the project)', async () => {
  const d = thin('registries: []\n', `- name: app\n  dmap:\n    "${A}": ["v1"]\n`);
  assert.match((await kpromo(d)).failures.join(), /could not find source registry/);
  assert.deepEqual((await promoflow(d)).errors, ['promoter-manifest.yaml:1:13: registries: is empty: expected one source (src: true) and at least one destination']);
});

test('missing images.yaml and a nested manifest: kpromo fails the whole run; promoflow warns and plans the rest, or fails with --strict-layout', async () => {
  const d = tree({
    'manifests/p/promoter-manifest.yaml': REGS,
    'images/p/images.yaml': `- name: app\n  dmap:\n    "${A}": ["v1"]\n`,
    'manifests/noimages/promoter-manifest.yaml': REGS,
    'manifests/p/deeper/promoter-manifest.yaml': REGS,
  });
  const k = await kpromo(d);
  assert.equal(k.failures.length, 2);
  assert.match(k.failures[0]!, /^corresponding file .*\/images\/noimages\/images\.yaml does not exist$/);
  assert.match(k.failures[1]!, /^unexpected manifest path .*\/manifests\/p\/deeper\/promoter-manifest\.yaml$/);
  const p = await promoflow(d);
  assert.ok(p.ok);
  assert.deepEqual(p.edges, ['eu.gcr.io/prod/app:v1@a']);
  assert.deepEqual(p.warnings.filter((w) => /kpromo fails/.test(w)), [
    'images.yaml: is missing: project noimages promotes nothing (kpromo fails the whole run here): expected an images.yaml for every promoter manifest',
    'promoter-manifest.yaml: is nested too deep: not read (kpromo fails the whole run on it): expected manifests/<project>/promoter-manifest.yaml',
  ]);
  const strict = await promoflow(d, { strictLayout: true, skipInvalid: true });
  assert.deepEqual([strict.ok, strict.errors.length], [false, 2]);
});

test('two src: true: kpromo takes the first and promotes to the second as a destination; promoflow refuses', async () => {
  const d = thin('registries:\n- name: gcr.io/staging\n  src: true\n- name: gcr.io/other\n  src: true\n- name: eu.gcr.io/prod\n', `- name: app\n  dmap:\n    "${A}": ["v1"]\n`);
  assert.deepEqual((await kpromo(d)).edges, ['eu.gcr.io/prod/app:v1@a', 'gcr.io/other/app:v1@a']);
  assert.deepEqual((await promoflow(d)).errors, ['promoter-manifest.yaml:5:8: registries[1].src: true is a second source registry: expected exactly one entry with src: true']);
});

test('provenance: in a thin manifest, imagesPath in a plain one: unknown fields to both', async () => {
  const d = thin(`${REGS}provenance:\n  required: true\n`, `- name: app\n  dmap:\n    "${A}": ["v1"]\n`);
  assert.match((await kpromo(d)).failures.join(), /field provenance not found/);
  assert.deepEqual((await promoflow(d)).errors, ['promoter-manifest.yaml:5:1: provenance: unknown field: expected only the fields this format defines (check spelling and indentation)']);
  const plain = path.join(tree({ 'promoter-manifest.yaml': `${REGS}imagesPath: images.yaml\n`, 'images.yaml': `- name: app\n  dmap:\n    "${A}": ["v1"]\n` }), 'promoter-manifest.yaml');
  assert.match((await kpromo(plain)).failures.join(), /field imagesPath not found/);
  const p = await promoflow(plain);
  assert.ok(p.errors.includes('promoter-manifest.yaml:5:1: imagesPath: unknown field: expected only the fields this format defines (check spelling and indentation)'));
});

test('an images.yaml beside a plain manifest: kpromo never reads it; promoflow refuses rather than promote what kpromo would not', async () => {
  const plain = path.join(tree({ 'promoter-manifest.yaml': REGS, 'images.yaml': `- name: app\n  dmap:\n    "${A}": ["v1"]\n` }), 'promoter-manifest.yaml');
  assert.deepEqual(await kpromo(plain), { edges: [], fails: false, failures: [], redundant: 0 });
  assert.match((await promoflow(plain)).errors.join(), /images\.yaml: is beside a plain promoter manifest, which kpromo reads images from inline only/);
});

test('destination listed twice: collapsed by both (promoflow says so)', async () => {
  const d = thin(`${REGS}- name: eu.gcr.io/prod\n`, `- name: app\n  dmap:\n    "${A}": ["v1"]\n`);
  assert.deepEqual((await kpromo(d)).edges, ['eu.gcr.io/prod/app:v1@a']);
  const p = await promoflow(d);
  assert.deepEqual(p.ok && [p.edges, p.warnings], [['eu.gcr.io/prod/app:v1@a'], ['promoter-manifest.yaml:5:9: registries[2].name: "eu.gcr.io/prod" is listed twice: collapsed into one destination (kpromo de-duplicates it too): expected each destination once (first: registries[1])']]);
});

test('null tag list: a tagless edge for both (promoflow warns)', async () => {
  const d = thin(REGS, `- name: app\n  dmap:\n    "${A}":\n`);
  assert.deepEqual((await kpromo(d)).edges, ['eu.gcr.io/prod/app:@a']);
  const p = await promoflow(d);
  assert.deepEqual(p.ok && [p.edges, p.warnings.length], [['eu.gcr.io/prod/app:@a'], 1]);
});

test('trailing / and an upper-case host: normalised (with a warning) to the edges kpromo means; an upper-case repository path is refused (kpromo fails reading it)', async () => {
  const d = thin('registries:\n- name: gcr.io/staging/\n  src: true\n- name: EU.gcr.io/prod/\n', `- name: app\n  dmap:\n    "${A}": ["v1"]\n`);
  const p = await promoflow(d);
  assert.deepEqual(p.ok && [p.edges, p.warnings.length], [['eu.gcr.io/prod/app:v1@a'], 2]);
  assert.equal((await kpromo(d)).edges.length, 1);
  const upper = thin('registries:\n- name: gcr.io/staging\n  src: true\n- name: eu.gcr.io/Prod\n', `- name: App\n  dmap:\n    "${A}": ["v1"]\n`);
  assert.deepEqual((await promoflow(upper)).errors, [
    'images.yaml:1:9: images[0].name: "App" is not a valid image name: expected lowercase repository path components like foo/bar-baz',
    'promoter-manifest.yaml:4:9: registries[1].name: "eu.gcr.io/Prod" is not a valid registry: expected lowercase host[:port][/path] without scheme (OCI repository paths are lowercase)',
  ]);
});

test('tag move and lost digest (registry state): a tag move is refused by both; a lost digest is reported and skipped by both', async () => {
  const d = thin(REGS, `- name: app\n  dmap:\n    "${A}": ["v1"]\n    "${B}": ["v2"]\n`);
  const r = await loadSpec(d);
  const inv = inventoryFromJson({ repos: { 'gcr.io/staging/app': { digests: [A] }, 'eu.gcr.io/prod/app': { tags: { v1: B } } } });
  const p = plan(r.spec, inv);
  assert.deepEqual(p.phases[0]!.edges.map((e) => [e.digest.slice(7, 8), e.kind]), [['a', 'tag-move'], ['b', 'lost']]);
  assert.deepEqual([p.counts.tagMove, p.counts.lost, p.lost.length], [1, 1, 1]);
});

test('a plain manifest is named after its file or directory, never "."', async () => {
  const dir = tree({ 'k8s-staging-foo/promoter-manifest.yaml': `${REGS}images:\n- name: app\n  dmap:\n    "${A}": ["v1"]\n`, 'prod-promotion.yaml': `${REGS}images: []\n` });
  assert.equal((await loadSpec(path.join(dir, 'k8s-staging-foo', 'promoter-manifest.yaml'))).spec.name, 'k8s-staging-foo');
  assert.equal((await loadSpec(path.join(dir, 'k8s-staging-foo'))).spec.name, 'k8s-staging-foo');
  assert.equal((await loadSpec(path.join(dir, 'prod-promotion.yaml'))).spec.name, 'prod-promotion');
  const cwd = process.cwd();
  process.chdir(path.join(dir, 'k8s-staging-foo'));
  try {
    assert.equal((await loadSpec('promoter-manifest.yaml')).spec.name, 'k8s-staging-foo');
  } finally {
    process.chdir(cwd);
  }
});

test('layout details: a project dir without a manifest, an orphan images.yaml, imagesPath, service-account, a manifest without destinations', async () => {
  const d = tree({
    'manifests/p/promoter-manifest.yaml': `registries:\n- name: gcr.io/staging\n  src: true\n  service-account: sa@x.iam.gserviceaccount.com\n- name: eu.gcr.io/prod\n  service-account: sa@x.iam.gserviceaccount.com\nimagesPath: ../../images/p/images.yaml\n`,
    'images/p/images.yaml': `- name: app\n  dmap:\n    "${A}": ["v1"]\n`,
    'manifests/empty/README.md': 'no manifest here\n',
    'manifests/nodest/promoter-manifest.yaml': 'registries:\n- name: gcr.io/other\n  src: true\n',
    'images/nodest/images.yaml': `- name: other\n  dmap:\n    "${B}": ["v1"]\n`,
    'images/orphan/images.yaml': '- name: x\n  dmap:\n    "not-a-digest": ["v1"]\n',
  });
  const k = await kpromo(d);
  assert.deepEqual([k.fails, k.edges], [false, ['eu.gcr.io/prod/app:v1@a']]);
  const p = await promoflow(d);
  assert.ok(p.ok);
  assert.deepEqual(p.edges, k.edges);
  assert.deepEqual(p.errors, []);
  assert.ok(p.warnings.some((w) => /registries: has no destination registry: the manifest promotes nothing/.test(w)));
  assert.ok(p.warnings.some((w) => /images\.yaml: has no manifests\/orphan\/promoter-manifest\.yaml: not promoted/.test(w)));
  assert.ok(p.warnings.some((w) => /"not-a-digest" is not a digest/.test(w)), 'an orphan is validated, as a warning');
  // imagesPath naming any other file: kpromo ignores it, promoflow says the manifest is wrong.
  const other = thin(`${REGS}imagesPath: ../../images/q/images.yaml\n`, `- name: app\n  dmap:\n    "${A}": ["v1"]\n`);
  assert.equal((await kpromo(other)).edges.length, 1);
  assert.match((await promoflow(other)).errors.join(), /imagesPath: "\.\.\/\.\.\/images\/q\/images\.yaml" is not the images file of this project/);
  // No manifest at all.
  const none = tree({ 'manifests/.keep': '', 'images/.keep': '' });
  assert.match((await kpromo(none)).failures.join(), /no manifests found/);
  assert.match((await promoflow(none)).errors.join(), /manifests: holds no promoter manifests/);
});

test('a thin layout needs both manifests/ and images/ directories: both tools refuse it', async () => {
  const d = tree({ 'manifests/p/promoter-manifest.yaml': REGS });
  assert.match((await kpromo(d)).failures.join(), /stat directory .*images: not a directory/);
  assert.deepEqual((await promoflow(d)).errors, [`${path.join(d, 'images')}: is not a directory: expected the thin layout: manifests/<project>/promoter-manifest.yaml and images/<project>/images.yaml`]);
});
