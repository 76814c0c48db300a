// The planner: each edge kind, phase assignment, overlap across images, and that no-ops are only counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Digest } from '../../src/model';
import type { Spec } from '../../src/manifest/spec';
import { inventoryFromJson } from '../../src/plan/inventory';
import { plan } from '../../src/plan/plan';

const d = (c: string) => `sha256:${c.repeat(64)}` as Digest;
const [A, B, C] = [d('a'), d('b'), d('c')];
const spec = (images: Spec['images'], extra: Partial<Spec> = {}): Spec => ({
  name: 't',
  source: { registry: 'src.io/s' },
  destinations: [{ name: 'prod', registry: 'prod.io/p' }, { name: 'eu', registry: 'eu.io/m' }],
  phases: [
    { name: 'production', destinations: ['prod'], soakSeconds: 0, gates: { verify: true, approval: false } },
    { name: 'mirrors', destinations: ['eu'], soakSeconds: 30, gates: { verify: true, approval: false } },
  ],
  images,
  files: ['m.yaml'],
  ...extra,
});

test('classifies copy, tag-only, no-op and assigns phases', () => {
  const inv = inventoryFromJson({ repos: { 'prod.io/p/x': { tags: { v1: A } }, 'eu.io/m/x': { digests: [A] } } });
  const p = plan(spec([{ name: 'x', dmap: { [A]: ['v1'], [B]: ['v2'] } }]), inv);
  assert.deepEqual(p.counts, { edges: 4, copy: 2, tagOnly: 1, signatures: 0, noop: 1, tagMove: 0, overlap: 0, lost: 0, redundant: 0 });
  assert.deepEqual(p.phases.map((ph) => ph.edges.map((e) => [e.kind, e.digest === A ? 'A' : 'B', e.destination, e.tags.join(','), e.target])), [
    [['copy', 'B', 'prod', 'v2', 'prod.io/p/x']],
    [['tag-only', 'A', 'eu', 'v1', 'eu.io/m/x'], ['copy', 'B', 'eu', 'v2', 'eu.io/m/x']],
  ]);
  assert.equal(p.phases[0]!.counts.noop, 1);
});

test('a moved tag is refused unless allowTagMove, and the message names file, image, tag, digests, destination', () => {
  const inv = inventoryFromJson({ repos: { 'prod.io/p/x': { tags: { v1: B } }, 'eu.io/m/x': { tags: { v1: A } } } });
  const p = plan(spec([{ name: 'x', dmap: { [A]: ['v1'] }, origin: { file: 'images.yaml', line: 3 } }]), inv);
  const e = p.phases[0]!.edges[0]!;
  assert.equal(e.kind, 'tag-move');
  assert.equal(e.message, `images.yaml: image x: tag v1 points to ${B} at prod (prod.io/p/x), the manifest wants ${A}: tag move refused (allowTagMove: true allows it)`);
  const allowed = plan(spec([{ name: 'x', dmap: { [A]: ['v1'] }, allowTagMove: true }]), inv);
  assert.deepEqual(allowed.phases[0]!.edges.map((x) => [x.kind, x.moves]), [['copy', [{ tag: 'v1', from: B }]]]);
});

test('two digests for one destination tag is an overlap, also across images sharing a repository', () => {
  const p = plan(spec([{ name: 'x', dmap: { [A]: ['v1'], [B]: ['v1'], [C]: ['v3'] } }]), inventoryFromJson({ repos: {} }));
  assert.equal(p.counts.overlap, 4);
  assert.equal(p.counts.copy, 2);
  const projects: Spec['projects'] = [
    { name: 'one', source: { registry: 'src.io/one' }, destinations: ['prod'] },
    { name: 'two', source: { registry: 'src.io/two' }, destinations: ['prod'] },
  ];
  const cross = plan(spec([{ name: 'x', project: 'one', dmap: { [A]: ['v1'] } }, { name: 'x', project: 'two', dmap: { [B]: ['v1'], [A]: ['v1'] } }], { projects }), inventoryFromJson({ repos: {} }));
  assert.deepEqual(cross.phases[0]!.edges.map((e) => [e.kind, e.source]), [['overlap', 'src.io/one/x'], ['overlap', 'src.io/two/x'], ['overlap', 'src.io/two/x']]);
  // The same digest twice for one tag is fine.
  const same = plan(spec([{ name: 'x', project: 'one', dmap: { [A]: ['v1'] } }, { name: 'x', project: 'two', dmap: { [A]: ['v1'] } }], { projects }), inventoryFromJson({ repos: {} }));
  assert.equal(same.counts.overlap, 0);
});

test('a digest missing from the source is lost and does not block the others', () => {
  const inv = inventoryFromJson({ repos: { 'src.io/s/x': { digests: [A] } } });
  const p = plan(spec([{ name: 'x', dmap: { [A]: ['v1'], [B]: ['v2'] } }]), inv);
  assert.equal(p.counts.copy, 2);
  assert.equal(p.counts.lost, 2);
  assert.deepEqual(p.lost.map((l) => [l.digest, l.source]), [[B, 'src.io/s/x']]);
});

test("kpromo's _LOST_: a lost digest already at a destination with a tag missing (or moved) is lost, not a tag change; fully promoted is a no-op", () => {
  const inv = inventoryFromJson({
    repos: {
      'src.io/s/x': { digests: [A] },
      // B is at prod already (tag v2 missing) and at eu with v2 moved away to A; C is fully promoted at prod.
      'prod.io/p/x': { digests: [B], tags: { v3: C } },
      'eu.io/m/x': { tags: { v2: A } },
    },
  });
  const p = plan(spec([{ name: 'x', dmap: { [B]: ['v2'], [C]: ['v3'] }, origin: { file: 'images.yaml', line: 4 } }]), inv);
  const kinds = p.phases.flatMap((ph) => ph.edges.map((e) => [e.digest === B ? 'B' : 'C', e.destination, e.kind]));
  assert.deepEqual(kinds, [['B', 'prod', 'lost'], ['B', 'eu', 'lost'], ['C', 'eu', 'lost']]);
  assert.equal(p.counts.noop, 1, 'C is at prod with its tag: nothing to do, lost or not');
  assert.equal(p.counts.tagMove + p.counts.tagOnly, 0);
  assert.match(p.phases[0]!.edges[0]!.message!, /^images\.yaml: image x: sha256:b{64} is not in the source src\.io\/s\/x \(already at prod, tags missing\)$/);
  assert.deepEqual(p.lost.map((l) => l.digest), [B, C]);
});

test('redundant promotions (same digest, same destination repository, tags already covered) are planned once', () => {
  const projects: Spec['projects'] = [
    { name: 'one', source: { registry: 'src.io/one' }, destinations: ['prod', 'eu'] },
    { name: 'two', source: { registry: 'src.io/two' }, destinations: ['prod'] },
  ];
  const p = plan(spec([{ name: 'x', project: 'one', dmap: { [A]: ['v1', 'v2'], [B]: [] } }, { name: 'x', project: 'two', dmap: { [A]: ['v1'], [B]: [], [C]: ['v3'] } }], { projects }), inventoryFromJson({ repos: {} }));
  assert.deepEqual(p.phases.flatMap((ph) => ph.edges.map((e) => [e.project, e.digest[7], e.destination])), [['one', 'a', 'prod'], ['one', 'b', 'prod'], ['two', 'c', 'prod'], ['one', 'a', 'eu'], ['one', 'b', 'eu']]);
  assert.equal(p.counts.redundant, 2);
  assert.equal(p.counts.edges, 7);
  // A later image with a tag the first does not set is not redundant: it is planned (the copy is idempotent).
  const more = plan(spec([{ name: 'x', project: 'one', dmap: { [A]: ['v1'] } }, { name: 'x', project: 'two', dmap: { [A]: ['v1', 'v9'] } }], { projects }), inventoryFromJson({ repos: {} }));
  assert.equal(more.counts.redundant, 0);
  assert.equal(more.phases[0]!.edges.length, 2);
});

test('with a signing policy, a promoted digest missing its signature or attestation is planned', () => {
  const inv = inventoryFromJson({ repos: { 'prod.io/p/x': { tags: { v1: A }, signatures: [A], attestations: [] }, 'eu.io/m/x': { tags: { v1: A }, signatures: [A], attestations: [A] } } });
  const p = plan(spec([{ name: 'x', dmap: { [A]: ['v1'] } }], { signing: { key: 'env://K', attest: true, formats: ['cosign-tag'] } }), inv);
  assert.deepEqual(p.phases[0]!.edges.map((e) => [e.kind, e.sign]), [['signatures', { signature: false, attestation: true }]]);
  assert.equal(p.counts.noop, 1);
});
