// The drift diff (pure): each kind of drift found exactly once, with the right repair class; moved and unexpected
// tags are reported, not repaired, unless the manifest allows the tag move; and the repair plans built from it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { diffDrift, diffRepo, mergeReports, type DesiredRepo, type ObservedRepo } from '../../src/plan/drift';
import { desiredFor, batches } from '../../src/plan/desired';
import { renderDriftMarkdown, renderDriftText } from '../../src/plan/drift-render';
import { reconcileBatches, repairPromotions, signatureRepairs } from '../../src/workflows/reconcile';
import type { ReconcileInput } from '../../src/contract';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;
const SIGNED = { signatures: true, attestations: true };

const want: DesiredRepo = { destination: 'eu', image: 'app', entries: [{ digest: D1, tags: ['v1', 'latest'] }, { digest: D2, tags: [] }] };
const healthy = (): ObservedRepo => ({
  destination: 'eu',
  image: 'app',
  tags: { v1: D1, latest: D1, [`sha256-${'1'.repeat(64)}.sig`]: D3 },
  digests: [D1, D2],
  signatures: { [D1]: 'valid', [D2]: 'valid' },
  attestations: { [D1]: 'valid', [D2]: 'present' },
});
const kinds = (items: Array<{ kind: string; tag?: string; repair: string }>) => items.map((i) => `${i.kind}${i.tag ? `:${i.tag}` : ''}/${i.repair}`);

describe('diffRepo', () => {
  it('finds nothing when the repository holds exactly what is declared (artifact tags are not unexpected)', () => {
    assert.deepEqual(diffRepo(want, healthy(), SIGNED), []);
  });

  it('a missing image is one finding (its tags and signatures come with the copy)', () => {
    const o = { ...healthy(), digests: [D1], signatures: { [D1]: 'valid' as const }, attestations: { [D1]: 'valid' as const } };
    assert.deepEqual(kinds(diffRepo(want, o, SIGNED)), ['missing-image/promote']);
  });

  it('a missing tag, a moved tag and an unexpected tag', () => {
    const o = healthy();
    o.tags = { v1: D3, hotfix: D2 };
    const items = diffRepo(want, o, SIGNED);
    assert.deepEqual(kinds(items), ['moved-tag:v1/none', 'missing-tag:latest/promote', 'unexpected-tag:hotfix/none']);
    assert.equal(items[0]!.found, D3);
    assert.match(items[0]!.detail, /reported, not reset/);
  });

  it('a moved tag is repairable when the image allows tag moves, or the policy resets moved tags', () => {
    const o = { ...healthy(), tags: { v1: D3, latest: D1 } };
    assert.deepEqual(kinds(diffRepo({ ...want, entries: [{ ...want.entries[0]!, allowTagMove: true }, want.entries[1]!] }, o, SIGNED)), ['moved-tag:v1/promote']);
    assert.deepEqual(kinds(diffRepo(want, o, { ...SIGNED, resetMovedTags: true })), ['moved-tag:v1/promote']);
  });

  it('missing and invalid signatures and attestations, only when the policy asks for them', () => {
    const o = { ...healthy(), signatures: { [D1]: 'invalid' as const }, attestations: { [D2]: 'invalid' as const } };
    assert.deepEqual(kinds(diffRepo(want, o, SIGNED)), ['invalid-signature/signatures', 'missing-attestation/signatures', 'missing-signature/signatures', 'invalid-attestation/signatures']);
    assert.deepEqual(diffRepo(want, o, { signatures: false, attestations: false }), []);
  });

  it('an unreadable repository is one finding, never repaired', () => {
    assert.deepEqual(kinds(diffRepo(want, { ...healthy(), error: 'denied' }, SIGNED)), ['unreadable/none']);
  });
});

describe('diffDrift and reports', () => {
  it('counts by kind, repairable, repositories; a repository not inventoried is unreadable', () => {
    const r = diffDrift([want, { ...want, destination: 'us' }], [{ ...healthy(), tags: { v1: D1 } }], SIGNED);
    assert.equal(r.counts['missing-tag'], 1);
    assert.equal(r.counts.unreadable, 1);
    assert.equal(r.repairable, 1);
    assert.equal(r.repos, 2);
    const merged = mergeReports([r, r]);
    assert.equal(merged.items.length, 4);
    assert.equal(merged.repos, 4);
    assert.match(renderDriftMarkdown('x', r), /\| missing-tag \| eu \| app \| sha256:111111111111 \| latest \| promote \|/);
    assert.match(renderDriftText('x', r), /2 finding\(s\) in 2 repositories, 1 repairable/);
  });
});

const input = (over: Partial<ReconcileInput> = {}): ReconcileInput => ({
  name: 'n',
  manifestFiles: ['m.yaml'],
  source: { registry: 'staging.example/s' },
  destinations: [
    { name: 'prod', registry: 'prod.example/p' },
    { name: 'eu', registry: 'eu.example/p' },
  ],
  phases: [{ name: 'all', destinations: ['prod', 'eu'], soakSeconds: 0, verify: true, approval: false }],
  images: [
    { image: 'app', dmap: { [D1]: ['v1', 'latest'], [D2]: [] } },
    { image: 'tool', dmap: { [D3]: ['v3'] }, project: 'p1' },
  ],
  projects: [{ name: 'p1', source: { registry: 'staging.example/p1' }, destinations: ['eu'] }],
  policy: SIGNED,
  repair: true,
  ...over,
});

describe('desired state and repair plans', () => {
  it('desiredFor honours project destinations; batches split repositories', () => {
    const pd = new Map([['p1', ['eu']]]);
    assert.deepEqual(desiredFor('prod', input().images, pd).map((r) => r.image), ['app']);
    assert.deepEqual(desiredFor('eu', input().images, pd).map((r) => r.image), ['app', 'tool']);
    assert.deepEqual(batches([1, 2, 3], 2), [[1, 2], [3]]);
    assert.deepEqual(reconcileBatches(input({ batchSize: 1 })).map((b) => `${b.destination.name}:${b.repos.map((r) => r.image).join()}`), ['prod:app', 'eu:app', 'eu:tool']);
  });

  it('one promotion per destination, without the tags moved by hand', () => {
    const r = diffRepo({ destination: 'eu', image: 'app', entries: [{ digest: D1, tags: ['latest', 'v1'] }] }, { ...healthy(), tags: { v1: D3 } }, SIGNED);
    const plans = repairPromotions(input(), r);
    assert.equal(plans.length, 1);
    assert.equal(plans[0]!.destination, 'eu');
    assert.deepEqual(plans[0]!.run.items, [{ image: 'app', digest: D1, tags: ['latest'] }]);
    assert.deepEqual(plans[0]!.run.phases.map((p) => p.destinations), [['eu']]);
  });

  it('signature drift: replicated from peers and the source without a key; through the promotions with one', () => {
    const r = diffRepo(want, { ...healthy(), signatures: { [D2]: 'valid' } }, { signatures: true, attestations: false });
    assert.deepEqual(signatureRepairs(input(), r), [{ image: 'app', digest: D1, kinds: ['sig'], to: ['eu'], from: ['prod', 'source'] }]);
    assert.deepEqual(repairPromotions(input(), r), []);
    const signing = { key: 'file://k/cosign.key', attest: false, dockerReference: 'prod.example/p', home: { name: 'prod', registry: 'prod.example/p' } };
    assert.deepEqual(signatureRepairs(input({ signing }), r), []);
    assert.deepEqual(repairPromotions(input({ signing }), r)[0]!.run.items, [{ image: 'app', digest: D1, tags: ['latest', 'v1'] }]);
  });
});
