// kpromo formats beyond the corpus: inline images, images.yaml beside a plain manifest, strict fields, and a thin
// layout that cannot reach outside itself (imagesPath, symlinks). Also: the committed JSON Schema is current.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { nativeJsonSchema, SCHEMA_FILE } from '../../src/manifest/jsonschema';
import { formatError, loadSpec, ManifestLoadError } from '../../src/manifest/load';

const A = `sha256:${'a'.repeat(64)}`;
const regs = 'registries:\n- name: gcr.io/staging\n  src: true\n- name: eu.gcr.io/prod\n  service-account: sa@x.iam.gserviceaccount.com\n';
const tmp = () => mkdtempSync(path.join(tmpdir(), 'promoflow-kpromo-'));
const fail = async (p: string) => {
  try {
    await loadSpec(p);
  } catch (e) {
    assert.ok(e instanceof ManifestLoadError);
    return e.errors.map((x) => formatError({ ...x, file: path.basename(x.file) }));
  }
  return assert.fail('expected failure');
};

test('plain manifest: inline images; region from the host', async () => {
  const d = tmp();
  writeFileSync(path.join(d, 'promoter-manifest.yaml'), `${regs}images:\n- name: app\n  dmap:\n    "${A}": ["v1"]\n`);
  const r = await loadSpec(path.join(d, 'promoter-manifest.yaml'));
  assert.equal(r.format, 'kpromo');
  assert.deepEqual([r.spec.source.registry, r.spec.destinations.map((x) => [x.name, x.region]), r.spec.images[0]!.dmap], ['gcr.io/staging', [['eu.gcr.io/prod', 'eu']], { [A]: ['v1'] }]);
});

test('unknown fields, two sources and duplicate keys are errors', async () => {
  const d = tmp();
  const f = path.join(d, 'promoter-manifest.yaml');
  writeFileSync(f, 'registries:\n- name: gcr.io/a\n  src: true\n- name: gcr.io/b\n  src: true\n  token: abc\n');
  assert.deepEqual(await fail(f), ['promoter-manifest.yaml:6:3: registries[1].token: inline secrets are not allowed: expected no secret in a manifest: credentials are bound to registry hosts in the worker’s credential configuration; a registry may name one (credentials: <name>)']);
  writeFileSync(f, 'registries:\n- name: gcr.io/a\n  src: true\n- name: gcr.io/b\n  src: true\n  colour: red\n');
  assert.deepEqual(await fail(f), ['promoter-manifest.yaml:6:3: registries[1].colour: unknown field: expected only the fields this format defines (check spelling and indentation)']);
  writeFileSync(f, 'registries:\n- name: gcr.io/a\n  src: true\n- name: gcr.io/b\n  src: true\n');
  assert.deepEqual(await fail(f), ['promoter-manifest.yaml:5:8: registries[1].src: true is a second source registry: expected exactly one entry with src: true']);
  writeFileSync(f, `${regs}images:\n- name: app\n  dmap:\n    "${A}": ["v1"]\n    "${A}": ["v2"]\n`);
  assert.deepEqual(await fail(f), [`promoter-manifest.yaml:10:5: "${A}" duplicate key: expected each key once per mapping`]);
});

test('thin layout: imagesPath may not leave the layout, nor may a symlink', async () => {
  const root = tmp();
  const layout = path.join(root, 'layout');
  mkdirSync(path.join(layout, 'manifests', 'p'), { recursive: true });
  mkdirSync(path.join(layout, 'images', 'p'), { recursive: true });
  writeFileSync(path.join(root, 'secret.yaml'), `- name: app\n  dmap:\n    "${A}": ["v1"]\n`);
  const m = path.join(layout, 'manifests', 'p', 'promoter-manifest.yaml');
  writeFileSync(m, `${regs}imagesPath: ../../../secret.yaml\n`);
  writeFileSync(path.join(layout, 'images', 'p', 'images.yaml'), '');
  const errs = await fail(layout);
  assert.deepEqual(errs, ['promoter-manifest.yaml:6:13: imagesPath: "../../../secret.yaml" is not the images file of this project (kpromo ignores imagesPath and reads images/<project>/images.yaml): expected ../../images/p/images.yaml or no imagesPath']);
  writeFileSync(m, regs);
  writeFileSync(path.join(layout, 'images', 'p', 'images.yaml'), '');
  const link = path.join(layout, 'images', 'p', 'images.yaml');
  rmSync(link);
  symlinkSync(path.join(root, 'secret.yaml'), link);
  // Refused, not reported as "missing" (issue 12): nothing is read through the symlink.
  assert.deepEqual(await fail(layout), ['images.yaml: resolves (through a symlink) outside the manifest directory: expected an images.yaml file inside the directory given to promoflow']);
});

test('the committed JSON Schema matches the zod schema', () => {
  const committed = readFileSync(path.resolve(__dirname, '..', '..', SCHEMA_FILE), 'utf8');
  assert.equal(committed, nativeJsonSchema(), 'regenerate: node --import tsx src/manifest/jsonschema.ts');
});
