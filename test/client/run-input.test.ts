// Spec + plan → run input: only digests with work go into a run; the workflow ID is derived from the content;
// signing settings resolve to a key reference and a signing home, never a key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Spec } from '../../src/manifest/spec';
import { plan } from '../../src/plan/plan';
import { inventoryFromJson } from '../../src/plan/inventory';
import { runBundleFromSpec, runInputFromSpec, runSigning, workflowIdFor } from '../../src/client/run-input';
import { edgeCount } from '../../src/contract';
import { CliError } from '../../src/client/exit-codes';

const A = `sha256:${'a'.repeat(64)}` as const;
const B = `sha256:${'b'.repeat(64)}` as const;

function spec(over: Partial<Spec> = {}): Spec {
  return {
    name: 'demo',
    source: { registry: 'staging.example/s' },
    destinations: [
      { name: 'prod', registry: 'prod.example/p', canonical: true },
      { name: 'eu', registry: 'eu.example/m' },
    ],
    phases: [{ name: 'all', destinations: ['prod', 'eu'], soakSeconds: 0, gates: { verify: true, approval: false } }],
    images: [
      { name: 'app', dmap: { [A]: ['v1'] } },
      { name: 'tool', dmap: { [B]: [] } },
    ],
    files: ['promotion.yaml'],
    ...over,
  };
}

test('only image digests with something to do enter the run', () => {
  const s = spec();
  const inv = inventoryFromJson({
    repos: {
      'prod.example/p/app': { tags: { v1: A } },
      'eu.example/m/app': { tags: { v1: A } },
    },
  });
  const input = runInputFromSpec(s, { plan: plan(s, inv) });
  assert.deepEqual(input.items.map((i) => i.image), ['tool']);
  assert.equal(runInputFromSpec(s).items.length, 2, 'without a plan, everything');
});

test('the workflow ID is readable, stable for the same content, and changes with it', () => {
  const a = workflowIdFor(runInputFromSpec(spec()));
  assert.match(a, /^promote\/demo\/[0-9a-f]{12}$/);
  assert.equal(workflowIdFor(runInputFromSpec(spec())), a);
  assert.notEqual(workflowIdFor(runInputFromSpec(spec({ images: [{ name: 'app', dmap: { [A]: ['v2'] } }] }))), a);
  assert.match(workflowIdFor(runInputFromSpec(spec(), { commit: '0123456789abcdef' })), /^promote\/demo\/0123456789ab-[0-9a-f]{12}$/);
});

test('signing resolves to a key reference and the canonical destination as signing home', () => {
  const r = runSigning(spec({ signing: { key: 'file://keys/cosign.key', attest: true, formats: ['cosign-tag', 'bundle-referrer'] } }));
  assert.deepEqual(r, { key: 'file://keys/cosign.key', attest: true, bundles: true, dockerReference: 'prod.example/p', home: { name: 'prod', registry: 'prod.example/p', insecure: undefined, credentials: undefined } });
  const keyless = { issuer: 'https://ci.example', subject: 'ci@example.com', trustedRoot: 'file://trusted_root.json' };
  const k = runSigning(spec({ signing: { keyless, attest: true, formats: ['cosign-tag'] } }));
  assert.deepEqual([k.key, k.keyless, k.bundles], [undefined, keyless, true], 'keyless: bundles, no key');
  // No trustedRoot: the worker verifies against the instance's trust root through TUF.
  const publicGood = { issuer: keyless.issuer, subject: keyless.subject };
  assert.deepEqual(runSigning(spec({ signing: { keyless: publicGood, attest: true, formats: ['cosign-tag'] } })).keyless, publicGood);
  assert.throws(() => runSigning(spec({ signing: { key: 'env://K', attest: false, formats: ['bundle-referrer'] } })), (e: unknown) => e instanceof CliError && /always writes cosign-tag/.test(e.message));
});

test('the run bundle sends each digest only to the destinations where it has work', () => {
  const s = spec();
  // app@A is complete at prod but missing at eu; tool@B is missing everywhere.
  const inv = inventoryFromJson({ repos: { 'prod.example/p/app': { tags: { v1: A } } } });
  const bundle = runBundleFromSpec(s, plan(s, inv), { commit: 'abc' });
  assert.equal(bundle.commit, 'abc');
  assert.deepEqual(bundle.items.map((i) => [i.image, i.work]), [['app', ['eu']], ['tool', ['eu', 'prod']]]);
  assert.equal(edgeCount(bundle), 3, 'no confirm-only edge to prod for app');
});
