// The native format: the documented sample loads with its defaults; every rule failure is a located error, all
// reported in one pass; inline secrets are refused without echoing them.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { formatError, loadSpec, ManifestLoadError } from '../../src/manifest/load';

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;
const dir = mkdtempSync(path.join(tmpdir(), 'promoflow-native-'));
let n = 0;
function write(text: string): string {
  const f = path.join(dir, `m${n++}.yaml`);
  writeFileSync(f, text);
  return f;
}
async function errorsOf(text: string): Promise<string[]> {
  try {
    await loadSpec(write(text));
  } catch (e) {
    assert.ok(e instanceof ManifestLoadError, `expected ManifestLoadError, got ${String(e)}`);
    return e.errors.map((x) => formatError(x).replace(/^.*?m\d+\.yaml/, 'f'));
  }
  assert.fail('expected the load to fail');
}

const SAMPLE = `apiVersion: promoflow.dev/v1alpha1
kind: Promotion
metadata: {name: sample}
source: {registry: "127.0.0.1:5000/staging"}
destinations:
  - {name: prod, registry: "127.0.0.1:5001/prod", canonical: true}
  - {name: mirror-eu, registry: "127.0.0.1:5002/mirror", region: eu-west1}
phases:
  - {name: production, destinations: [prod]}
  - {name: mirrors, destinations: [mirror-eu], soak: 30s, gates: {verify: true, approval: false}}
images:
  - name: sample
    dmap: {"${D1}": ["v1.0.0"]}
`;

test('the documented sample loads into a Spec', async () => {
  const r = await loadSpec(write(SAMPLE));
  assert.equal(r.format, 'native');
  assert.equal(r.spec.name, 'sample');
  assert.deepEqual(r.spec.source, { registry: '127.0.0.1:5000/staging' });
  assert.deepEqual(r.spec.destinations.map((d) => [d.name, d.canonical ?? false, d.region ?? null]), [['prod', true, null], ['mirror-eu', false, 'eu-west1']]);
  assert.deepEqual(r.spec.phases, [
    { name: 'production', destinations: ['prod'], soakSeconds: 0, gates: { verify: true, approval: false } },
    { name: 'mirrors', destinations: ['mirror-eu'], soakSeconds: 30, gates: { verify: true, approval: false } },
  ]);
  assert.deepEqual(r.spec.images.map((i) => [i.name, i.dmap, i.origin?.line]), [['sample', { [D1]: ['v1.0.0'] }, 12]]);
  assert.deepEqual(r.errors, []);
});

test('defaults: one phase "all", no signing; full policy fields map to the Spec', async () => {
  const r = await loadSpec(write(SAMPLE.replace(/phases:\n(.*\n){2}/, '')));
  assert.deepEqual(r.spec.phases, [{ name: 'all', destinations: ['prod', 'mirror-eu'], soakSeconds: 0, gates: { verify: true, approval: false } }]);
  assert.equal(r.spec.signing, undefined);
  const full = SAMPLE.replace('source: {registry: "127.0.0.1:5000/staging"}', 'source: {registry: "127.0.0.1:5000/staging", credentials: staging-ro, limits: {concurrency: 8, requestsPerSecond: 20}}')
    .replace('soak: 30s', 'soak: 1h30m')
    .replace('images:', 'signing: {key: "env://COSIGN_KEY", formats: [cosign-tag, bundle-referrer]}\nimages:')
    .replace('  - name: sample', '  - name: sample\n    allowTagMove: true');
  const s = (await loadSpec(write(full))).spec;
  assert.equal(s.source.credentials, 'staging-ro');
  assert.deepEqual(s.source.limits, { concurrency: 8, requestsPerSecond: 20 });
  assert.equal(s.phases[1]!.soakSeconds, 5400);
  assert.deepEqual(s.signing, { attest: true, formats: ['cosign-tag', 'bundle-referrer'], key: 'env://COSIGN_KEY' });
  assert.equal(s.images[0]!.allowTagMove, true);
});

test('a bad digest is reported as file:line:col: path: value message: expected', async () => {
  const errs = await errorsOf(SAMPLE.replace(D1, 'sha256:abc'));
  assert.deepEqual(errs, ['f:13:12: images[0].dmap: "sha256:abc" is not a digest: expected sha256: followed by 64 lowercase hex characters']);
});

test('all errors of a load come in one pass, each located', async () => {
  const bad = SAMPLE.replace('metadata: {name: sample}', 'metadata: {name: sample, color: blue}')
    .replace('soak: 30s', 'soak: 30 seconds')
    .replace('["v1.0.0"]', '["v1.0.0", "-bad"]');
  const errs = await errorsOf(bad);
  assert.deepEqual(errs, [
    'f:3:26: metadata.color: unknown field: expected only the fields this format defines (check spelling and indentation)',
    'f:10:54: phases[1].soak: "30 seconds" is not a duration: expected a string like 30s, 5m, 1h or 1h30m',
    'f:13:98: images[0].dmap["sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"][1]: "-bad" is not a valid tag: expected a tag matching ^\\w[\\w.-]{0,127}$',
  ]);
  // Cross-field rules run once the document has a valid shape; then they too are all reported together.
  const cross = await errorsOf(SAMPLE.replace('destinations: [prod]}', 'destinations: [prod, nowhere]}').replace('name: mirror-eu, registry: "127.0.0.1:5002/mirror"', 'name: mirror-eu, registry: "127.0.0.1:5001/prod", canonical: true'));
  assert.deepEqual(cross, [
    'f:7:33: destinations[1].registry: "127.0.0.1:5001/prod" is listed twice: expected each registry once (first: destinations[0])',
    'f:7:67: destinations[1].canonical: true a second canonical destination: expected at most one destination with canonical: true',
    'f:9:45: phases[0].destinations[1]: "nowhere" is not a destination: expected one of prod, mirror-eu',
  ]);
});

test('inline secrets are refused, and their value never appears in the message', async () => {
  const errs = await errorsOf(SAMPLE.replace('source: {registry: "127.0.0.1:5000/staging"}', 'source: {registry: "127.0.0.1:5000/staging", credentials: {kind: env, passwordEnv: X, password: hunter2}}'));
  assert.ok(errs.some((e) => /^f:4:87: source\.credentials\.password: inline secrets are not allowed: expected no secret in a manifest/.test(e)), errs.join('\n'));
  assert.doesNotMatch(errs.join('\n'), /hunter2/);
  const key = await errorsOf(SAMPLE.replace('images:', 'signing: {key: "-----BEGIN EC PRIVATE KEY-----\\nMHc"}\nimages:'));
  assert.ok(key.some((e) => /signing\.key: "<redacted>" is an inline private key/.test(e)), key.join('\n'));
  assert.doesNotMatch(key.join('\n'), /MHc/);
});

test('today\'s credential references (kind: env|file|docker-config) get one line saying what to write instead', async () => {
  for (const ref of ['{kind: env, passwordEnv: TEMPORAL_API_KEY}', '{kind: file, path: /proc/self/environ}', '{kind: docker-config}']) {
    const errs = await errorsOf(SAMPLE.replace('source: {registry: "127.0.0.1:5000/staging"}', `source: {registry: "127.0.0.1:5000/staging", credentials: ${ref}}`));
    assert.equal(errs.length, 1, errs.join('\n'));
    assert.match(errs[0]!, /^f:4:\d+: source\.credentials: .*is a credential reference \(kind: [a-z-]+\), which manifests may no longer hold.*: expected credentials: <name> of a credential the worker’s credential configuration binds to this registry’s host/);
  }
  assert.match((await errorsOf(SAMPLE.replace('source: {registry: "127.0.0.1:5000/staging"}', 'source: {registry: "127.0.0.1:5000/staging", credentials: "$HOME/x"}')))[0]!, /source\.credentials: "\$HOME\/x" is not a credential name/);
});

test('keyless: exactly one of subject (exact) or subjectRegExp; Fulcio and Rekor over HTTPS only (loopback excepted)', async () => {
  const keyless = (k: string) => SAMPLE.replace('images:', `signing: {keyless: {issuer: "https://ci.example", ${k}}}\nimages:`);
  assert.deepEqual((await loadSpec(write(keyless('subject: ci@example.com, fulcioURL: "https://fulcio.example", rekorURL: "http://127.0.0.1:3000"')))).errors, []);
  assert.equal((await loadSpec(write(keyless('subjectRegExp: "ci-[0-9]+@example\\\\.com"')))).spec.signing?.keyless?.subjectRegExp, 'ci-[0-9]+@example\\.com');
  const fulcio = await errorsOf(keyless('subject: ci@example.com, fulcioURL: "http://fulcio.example"'));
  assert.equal(fulcio.length, 1, fulcio.join('\n'));
  assert.match(fulcio[0]!, /signing\.keyless\.fulcioURL: "http:\/\/fulcio\.example" is not an HTTPS URL: expected https:\/\/host\[\/path\]: it receives the worker’s OIDC token/);
  assert.match((await errorsOf(keyless('subject: ci@example.com, rekorURL: "http://10.0.0.1/"')))[0]!, /signing\.keyless\.rekorURL: .* is not an HTTPS URL/);
  assert.match((await errorsOf(keyless('subject: a, subjectRegExp: b')))[0]!, /signing\.keyless: has both subject and subjectRegExp/);
  assert.match((await errorsOf(keyless('trustedRoot: "file://root.json"')))[0]!, /signing\.keyless: names no identity/);
  // The manifest cannot choose which worker variable is sent to Fulcio as the OIDC token.
  assert.match((await errorsOf(keyless('subject: ci@example.com, tokenEnv: TEMPORAL_API_KEY')))[0]!, /signing\.keyless\.tokenEnv: .*is no longer read from manifests.*expected no tokenEnv; the worker reads SIGSTORE_ID_TOKEN/);
  assert.match((await errorsOf(keyless('subjectRegExp: "(unclosed"')))[0]!, /signing\.keyless\.subjectRegExp: "\(unclosed" is not a regular expression/);
});

test('duplicate keys, wrong apiVersion, missing fields, duplicate names and phases are errors', async () => {
  assert.deepEqual(await errorsOf(SAMPLE.replace('kind: Promotion', 'kind: Promotion\nkind: Promotion')), ['f:3:1: "kind" duplicate key: expected each key once per mapping']);
  assert.deepEqual(await errorsOf(SAMPLE.replace('v1alpha1', 'v2')), ['f:1:13: apiVersion: "promoflow.dev/v2" is not allowed: expected one of "promoflow.dev/v1alpha1"']);
  assert.deepEqual(await errorsOf(SAMPLE.replace('source: {registry: "127.0.0.1:5000/staging"}\n', '')), ['f:1:1: source: is required: expected object']);
  const dup = await errorsOf(SAMPLE.replace('name: mirror-eu, registry', 'name: prod, registry').replace('[mirror-eu]', '[prod]'));
  assert.ok(dup.includes('f:7:12: destinations[1].name: "prod" is used twice: expected unique destination names (first: destinations[0])'), dup.join('\n'));
  assert.ok(dup.some((e) => e.includes('is already in phase production')), dup.join('\n'));
  const unplaced = await errorsOf(SAMPLE.replace('  - {name: mirrors, destinations: [mirror-eu], soak: 30s, gates: {verify: true, approval: false}}\n', ''));
  assert.deepEqual(unplaced, ['f:9:3: phases: "mirror-eu" destination is in no phase: expected every destination listed in exactly one phase']);
  const twice = await errorsOf(SAMPLE.replace('images:\n', `images:\n  - name: sample\n    dmap: {"${D2}": []}\n`));
  assert.ok(twice.some((e) => e.includes('images[1].name: "sample" is listed twice')), twice.join('\n'));
});

test('skipInvalid isolates a bad digest entry and keeps the rest; frame errors still fail', async () => {
  const f = write(SAMPLE.replace(`"${D1}": ["v1.0.0"]`, `"${D1}": ["v1.0.0"], "sha256:nope": ["v2"], "${D2}": ["v3"]`));
  await assert.rejects(loadSpec(f), ManifestLoadError);
  const r = await loadSpec(f, { skipInvalid: true });
  assert.deepEqual(Object.keys(r.spec.images[0]!.dmap), [D1, D2]);
  assert.equal(r.errors.length, 1);
  assert.deepEqual(r.skipped.map((s) => [s.what, s.path]), [['digest', 'images[0].dmap["sha256:nope"]']]);
  await assert.rejects(loadSpec(write(SAMPLE.replace('127.0.0.1:5000/staging', 'HTTP://x')), { skipInvalid: true }), ManifestLoadError);
});

test('missing files and non-manifests are errors, not stack traces', async () => {
  await assert.rejects(loadSpec(path.join(dir, 'absent.yaml')), (e: unknown) => e instanceof ManifestLoadError && /no such file/.test(e.format()));
  await assert.rejects(loadSpec(write('just: a mapping\n')), (e: unknown) => e instanceof ManifestLoadError && /is not a manifest/.test(e.format()));
  await assert.rejects(loadSpec(write('a: [\n')), (e: unknown) => e instanceof ManifestLoadError && /invalid YAML/.test(e.format()));
});

test('source policy: signedBy a key or a keyless identity (issuer + subject | subjectRegExp, optional file:// trusted root), exactly one', async () => {
  const by = (k: string) => SAMPLE.replace('images:', `sourcePolicy: {signedBy: ${k}}\nimages:`);
  assert.deepEqual((await loadSpec(write(by('{key: "file://builder.pub"}')))).spec.sourcePolicy, { signedBy: { key: 'file://builder.pub' } });
  const keyless = await loadSpec(write(by('{keyless: {issuer: "https://ci.example", subject: builder@example.com, trustedRoot: "file://root.json"}}')));
  assert.deepEqual(keyless.errors, []);
  assert.deepEqual(keyless.spec.sourcePolicy, { signedBy: { keyless: { issuer: 'https://ci.example', subject: 'builder@example.com', trustedRoot: 'file://root.json' } } });
  assert.equal((await loadSpec(write(by('{keyless: {issuer: "https://ci.example", subjectRegExp: "b-[0-9]+@example\\\\.com"}}')))).spec.sourcePolicy?.signedBy.keyless?.subjectRegExp, 'b-[0-9]+@example\\.com');
  assert.match((await errorsOf(by('{key: "file://b.pub", keyless: {issuer: "https://ci.example", subject: b}}')))[0]!, /sourcePolicy\.signedBy: has both key and keyless: expected exactly one of key .* or keyless \{issuer, subject\}/);
  assert.match((await errorsOf(by('{}')))[0]!, /sourcePolicy\.signedBy: has neither key nor keyless/);
  assert.match((await errorsOf(by('{keyless: {issuer: "https://ci.example"}}')))[0]!, /sourcePolicy\.signedBy\.keyless: names no identity/);
  assert.match((await errorsOf(by('{keyless: {issuer: "https://ci.example", subject: a, subjectRegExp: a}}')))[0]!, /sourcePolicy\.signedBy\.keyless: has both subject and subjectRegExp/);
  assert.match((await errorsOf(by('{keyless: {issuer: "https://ci.example", subjectRegExp: "(x"}}')))[0]!, /sourcePolicy\.signedBy\.keyless\.subjectRegExp: "\(x" is not a regular expression/);
  assert.match((await errorsOf(by('{keyless: {issuer: "https://ci.example", subject: a, trustedRoot: root.json}}')))[0]!, /sourcePolicy\.signedBy\.keyless\.trustedRoot: "root\.json" is not a file reference/);
});
