// The real registry.k8s.io manifests (../shared/corpus/k8s-io, see its SOURCE.md): every file is read by the kpromo
// reader; the defects kpromo lets through are pinned exactly; the counts match an independent line-based count.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { formatError, loadSpec, ManifestLoadError } from '../../src/manifest/load';

const repoRoot = path.resolve(__dirname, '..', '..');
const corpus = path.resolve(repoRoot, '..', 'shared', 'corpus', 'k8s-io', 'registry.k8s.io');
const absent = !existsSync(corpus);
const rel = (f: string) => path.relative(corpus, path.resolve(f)).split(path.sep).join('/');

/** Each one visible in the file at that line: `sed -n <line>p <file>`. */
const DEFECTS = [
  'images/k8s-staging-ingress-nginx/images.yaml:434:5: images[14].dmap: "sha256:23eb4b1775fbaa2adca55c73cf0341e1224d6308689b6f4b3aa1523312eb81c" is not a digest: expected sha256: followed by 64 lowercase hex characters',
  'images/k8s-staging-minikube/images.yaml:9:5: images[2].dmap: "cfa73b9a4e08b996a6948dfd597b7b5734466a74d49776ccb332bc4db9e6dfa4" is not a digest: expected sha256: followed by 64 lowercase hex characters',
];
/** kpromo de-duplicates it silently: collapsed, with a warning. */
const BOSKOS = 'manifests/k8s-staging-boskos/promoter-manifest.yaml:47:9: registries[22].name: "us-west1-docker.pkg.dev/k8s-artifacts-prod/images/boskos" is listed twice: collapsed into one destination (kpromo de-duplicates it too): expected each destination once (first: registries[21])';

test('strict load of the thin layout fails with exactly the pinned defects', { skip: absent && '../shared/corpus absent: corpus tests skipped' }, async () => {
  await assert.rejects(loadSpec(corpus), (e: unknown) => {
    assert.ok(e instanceof ManifestLoadError);
    assert.deepEqual(e.errors.map((x) => formatError({ ...x, file: rel(x.file) })), DEFECTS);
    return true;
  });
});

test('each pinned defect is really at that line of that file', { skip: absent && '../shared/corpus absent' }, () => {
  for (const d of [...DEFECTS, BOSKOS]) {
    const [file, line] = d.split(':');
    const value = /"([^"]+)"/.exec(d)![1]!;
    const text = readFileSync(path.join(corpus, file!), 'utf8').split(/\r?\n/)[Number(line) - 1]!;
    assert.ok(text.includes(value), `${file}:${line} holds ${value}`);
  }
});

/** Independent count: regexes over the raw text, no YAML parser. */
function lineCount(files: string[]) {
  let names = 0;
  let digests = 0;
  let tags = 0;
  const distinct = new Set<string>();
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    let current = '';
    for (const line of text.split(/\r?\n/)) {
      const name = /^- name: *(\S+)/.exec(line);
      if (name) {
        names++;
        current = name[1]!;
        continue;
      }
      // Any digest-like key, well-formed or not (the loader, not this count, judges them).
      const flow = /^\s+"?(sha256:\w*|[0-9a-f]{32,})"?: *\[(.*)\]/.exec(line);
      const block = /^\s+"?(sha256:\w*|[0-9a-f]{32,})"?: *$/.exec(line);
      if (flow || block) {
        digests++;
        distinct.add(`${f}|${current}|${(flow ?? block)![1]}`);
        if (flow) tags += flow[2]!.split(',').filter((t) => t.trim()).length;
      } else if (/^\s+- \S/.test(line)) tags++;
    }
  }
  return { names, digests, tags, distinct: distinct.size };
}

test('isolating load: every project loads but the defects; counts match an independent count', { skip: absent && '../shared/corpus absent' }, async () => {
  const r = await loadSpec(corpus, { skipInvalid: true });
  assert.equal(r.format, 'kpromo-thin');
  assert.deepEqual(r.errors.map((x) => formatError({ ...x, file: rel(x.file) })), DEFECTS);
  assert.deepEqual(r.skipped.map((s) => `${rel(s.file)}:${s.line} ${s.what}`).sort(), [
    'images/k8s-staging-ingress-nginx/images.yaml:434 digest',
    'images/k8s-staging-minikube/images.yaml:9 digest',
  ]);
  assert.ok(r.warnings.map((x) => formatError({ ...x, file: rel(x.file) })).includes(BOSKOS));

  const manifests = readdirSync(path.join(corpus, 'manifests')).filter((p) => existsSync(path.join(corpus, 'manifests', p, 'promoter-manifest.yaml')));
  const promoted = manifests.filter((p) => existsSync(path.join(corpus, 'images', p, 'images.yaml')));
  const allImages = readdirSync(path.join(corpus, 'images')).filter((p) => existsSync(path.join(corpus, 'images', p, 'images.yaml')));
  // SOURCE.md: 108 project manifests (+1 stray), 90 images.yaml.
  assert.equal(manifests.length, 108);
  assert.equal(allImages.length, 90);
  assert.equal(r.spec.projects!.length, 108);

  const all = lineCount(allImages.map((p) => path.join(corpus, 'images', p, 'images.yaml')));
  assert.deepEqual({ names: all.names, digests: all.digests, tags: all.tags }, { names: 873, digests: 7042, tags: 7114 }); // SOURCE.md's figures
  const count = lineCount(promoted.map((p) => path.join(corpus, 'images', p, 'images.yaml')));
  // Every entry of every images.yaml is read (orphans validated too); only projects with a manifest are promoted,
  // without the two malformed digests (one tag each).
  assert.equal(r.imageEntries, all.names);
  const specDigests = r.spec.images.reduce((n, i) => n + Object.keys(i.dmap).length, 0);
  const specTags = r.spec.images.reduce((n, i) => n + Object.values(i.dmap).reduce((m, t) => m + t.length, 0), 0);
  assert.equal(specDigests, count.distinct - 2);
  // etcdadm lists two digests twice under one name (re-tagged in a later release block): merged, tags united.
  assert.equal(count.digests - count.distinct, 2);
  assert.equal(specTags, count.tags - 2);
  const distinctNames = new Set(r.spec.images.map((i) => `${i.project}/${i.name}`)).size;
  assert.equal(r.spec.images.length, distinctNames);
  // Destinations: every distinct registry named by the manifests (SOURCE.md: 2359 distinct full names).
  assert.equal(r.spec.destinations.length, 2359);
  const stray = r.warnings.filter((w) => rel(w.file) === 'images/k8s-staging-aws-encryption-provider/promoter-manifest.yaml');
  assert.equal(stray.length, 1);
});

test('the stray promoter manifest under images/ reads as a plain kpromo manifest', { skip: absent && '../shared/corpus absent' }, async () => {
  const r = await loadSpec(path.join(corpus, 'images', 'k8s-staging-aws-encryption-provider', 'promoter-manifest.yaml'));
  assert.equal(r.format, 'kpromo');
  assert.equal(r.spec.source.registry, 'gcr.io/k8s-staging-aws-encryption-provider');
  assert.equal(r.spec.destinations.length, 22);
  assert.equal(r.spec.images.length, 0);
});

/** Projects with a manifest but no images.yaml in this corpus (SOURCE.md: 108 manifests, 90 images.yaml). */
const WITHOUT_IMAGES = 20;

test('--strict-layout fails like kpromo: every manifest without its images.yaml, and the real defects', { skip: absent && '../shared/corpus absent' }, async () => {
  await assert.rejects(loadSpec(corpus, { strictLayout: true, skipInvalid: true }), (e: unknown) => {
    assert.ok(e instanceof ManifestLoadError);
    const layout = e.errors.filter((x) => /is missing: project .* promotes nothing \(kpromo fails the whole run here\)/.test(x.message));
    assert.equal(layout.length, WITHOUT_IMAGES);
    assert.ok(layout.every((x) => /^images\/k8s-staging-[a-z0-9-]+\/images\.yaml$/.test(rel(x.file))));
    assert.equal(e.errors.length, WITHOUT_IMAGES + DEFECTS.length);
    return true;
  });
});

test('the overlay beside the layout: canary region, then the Americas, then the rest; canonical and limits per registry', { skip: absent && '../shared/corpus absent' }, async () => {
  const r = await loadSpec(corpus, { skipInvalid: true, overlay: path.join(repoRoot, 'examples', 'k8s-io', 'promoflow-overlay.yaml') });
  const s = r.spec;
  assert.equal(s.name, 'registry-k8s-io');
  assert.deepEqual(s.phases.map((p) => [p.name, p.soakSeconds, p.gates.verify]), [['canary', 1800, true], ['americas', 900, true], ['rest-of-world', 0, true]]);
  const regionOfName = (n: string) => s.destinations.find((d) => d.name === n)!.region;
  assert.ok(s.phases[0]!.destinations.every((n) => regionOfName(n) === 'us-central1'));
  // SOURCE.md: 108 distinct us-central1 destinations; every destination in exactly one phase.
  assert.equal(s.phases[0]!.destinations.length, 108);
  assert.equal(s.phases.reduce((n, p) => n + p.destinations.length, 0), s.destinations.length);
  assert.deepEqual(new Set(s.phases[1]!.destinations.map(regionOfName)), new Set(['us-east1', 'us-east4', 'us-east5', 'us-south1', 'us-west1', 'us-west2', 'southamerica-west1']));
  // One signing home per project: its us-central1 destination.
  const canonical = s.destinations.filter((d) => d.canonical);
  assert.equal(canonical.length, 108);
  assert.ok(canonical.every((d) => d.registry.startsWith('us-central1-docker.pkg.dev/k8s-artifacts-prod/images')));
  assert.deepEqual(s.destinations.find((d) => d.registry.startsWith('eu.gcr.io'))!.limits, { concurrency: 8, requestsPerSecond: 20 });
  assert.deepEqual(s.destinations.find((d) => d.registry.startsWith('europe-west1'))!.limits, { concurrency: 16, requestsPerSecond: 40 });
});
