// `promoflow verify`'s policy file: a trusted key or a keyless identity (issuer + subject | subjectRegExp, a trusted
// root file or TUF's), exactly one; every mistake is one line naming the file, the field, the value and the fix,
// exit 2; an unreachable TUF repository with nothing cached is exit 3.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadVerifyPolicy } from '../../src/client/commands/verify';
import { CliError, EXIT } from '../../src/client/exit-codes';
import { freePort } from '../../src/dev/ports';
import { writeKeyPair } from '../../src/signing';
import { startMockSigstore } from '../../src/testing/sig-sigstore-mock';

let dir: string;
const write = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'promoflow-verify-policy-'));
  await writeKeyPair(join(dir, 'keys'), 'pw');
  const mock = await startMockSigstore();
  writeFileSync(join(dir, 'trusted_root.json'), JSON.stringify(mock.trustedRoot));
  await mock.stop();
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The CliError a policy load ends with: its exit code and its one line. */
async function refusal(file: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; line: string }> {
  try {
    await loadVerifyPolicy(file, { env });
  } catch (e) {
    assert.ok(e instanceof CliError, String(e));
    assert.doesNotMatch(e.message, /\n/, 'one line');
    return { code: e.exitCode, line: e.message };
  }
  assert.fail(`${file} was accepted`);
}

describe('verify policy file', () => {
  it('a keyless policy with a trusted root file (relative to the policy file) loads; subject or subjectRegExp', async () => {
    const exact = await loadVerifyPolicy(write('k1.yaml', 'keyless: {issuer: "https://ci.example", subject: ci@example.com, trustedRoot: trusted_root.json}\nsourceIdentity: {issuer: "https://b.example", subjectRegExp: "b@.*"}\n'));
    assert.equal(exact.signer.type, 'keyless');
    assert.deepEqual(exact.signer.type === 'keyless' && exact.signer.identity, { issuer: 'https://ci.example', subject: 'ci@example.com' });
    assert.ok(exact.signer.type === 'keyless' && (await exact.signer.trust()));
    assert.deepEqual(exact.sourceIdentity, { issuer: 'https://b.example', subjectRegExp: 'b@.*' });
    const re = await loadVerifyPolicy(write('k2.yaml', 'keyless: {issuerRegExp: "https://ci\\\\.example(/.*)?", subjectRegExp: "ci@example\\\\.(com|org)", trustedRoot: trusted_root.json}\n'));
    assert.deepEqual(re.signer.type === 'keyless' && re.signer.identity, { issuerRegExp: 'https://ci\\.example(/.*)?', subjectRegExp: 'ci@example\\.(com|org)' });
    const key = await loadVerifyPolicy(write('key.yaml', 'key: keys/cosign.pub\n'));
    assert.equal(key.signer.type, 'key');
  });

  const cases: Array<[string, string, RegExp]> = [
    ['both key and keyless', 'key: keys/cosign.pub\nkeyless: {issuer: "https://ci.example", subject: a@b}\n', /both\.yaml: keyless: \{"issuer":"https:\/\/ci\.example","subject":"a@b"\}: the policy has both key and keyless: keep the one the promoter signs with/],
    ['neither key nor keyless', 'builder: https://promoflow.dev/builder\n', /neither\.yaml: \(top\): \["builder"\]: the policy names no signer: give key .* or keyless \{issuer, subject \| subjectRegExp\}/],
    ['keyless without a subject', 'keyless: {issuer: "https://ci.example"}\n', /nosubject\.yaml: keyless: \{"issuer":"https:\/\/ci\.example"\}: names no identity: give subject .* or subjectRegExp/],
    ['keyless with subject and subjectRegExp', 'keyless: {issuer: "https://ci.example", subject: a, subjectRegExp: a}\n', /twosubjects\.yaml: keyless: .*: has both subject and subjectRegExp: give one/],
    ['a subjectRegExp that does not compile', 'keyless: {issuer: "https://ci.example", subjectRegExp: "(unclosed"}\n', /badre\.yaml: keyless\.subjectRegExp: "\(unclosed": not a regular expression/],
    ['keyless without an issuer', 'keyless: {subject: a@b}\n', /noissuer\.yaml: keyless: \{"subject":"a@b"\}: names no issuer: give the OIDC issuer of the signing certificate, e\.g\. https:\/\/token\.actions\.githubusercontent\.com \(issuer, matched exactly\), or issuerRegExp$/],
    ['keyless with issuer and issuerRegExp', 'keyless: {issuer: "https://ci.example", issuerRegExp: "https://.*", subject: a@b}\n', /twoissuers\.yaml: keyless: .*: has both issuer and issuerRegExp: give one/],
    ['an issuerRegExp that does not compile', 'keyless: {issuerRegExp: "[", subject: a@b}\n', /badissuerre\.yaml: keyless\.issuerRegExp: "\[": not a regular expression: give one for the whole value/],
    ['a source identity without an issuer', 'key: keys/cosign.pub\nsourceIdentity: {subject: b@c}\n', /srcnoissuer\.yaml: sourceIdentity\.issuer: undefined: give the OIDC issuer of the signing certificate/],
    ['an issuer pattern in sourceIdentity (the VSA records an exact issuer)', 'key: keys/cosign.pub\nsourceIdentity: {issuerRegExp: ".*", subject: b@c}\n', /srcissuerre\.yaml: sourceIdentity: \["issuerRegExp"\]: unknown field\(s\) issuerRegExp: the fields are issuer, subject, subjectRegExp$/],
    ['an unknown field in keyless', 'keyless: {issuer: "https://ci.example", subject: a@b, identity: x}\n', /typo\.yaml: keyless: \["identity"\]: unknown field\(s\) identity: the fields are issuer, issuerRegExp, subject, subjectRegExp, trustedRoot/],
    ['an unreadable trusted root', 'keyless: {issuer: "https://ci.example", subject: a@b, trustedRoot: missing.json}\n', /noroot\.yaml: keyless\.trustedRoot: "missing\.json": cannot read it \(ENOENT\): give the sigstore trusted_root\.json, relative to the policy file/],
    ['a trusted root that is not one', 'keyless: {issuer: "https://ci.example", subject: a@b, trustedRoot: keys/cosign.pub}\n', /notroot\.yaml: keyless\.trustedRoot: "keys\/cosign\.pub": not a sigstore trusted_root\.json \(.*not JSON.*\)/],
    ['both source requirements', `key: keys/cosign.pub\nsourceKeyFingerprint: sha256:${'a'.repeat(64)}\nsourceIdentity: {issuer: "https://b.example", subject: b@c}\n`, /bothsources\.yaml: sourceIdentity: .*: the policy has both sourceKeyFingerprint and sourceIdentity/],
    ['a source identity without a subject', 'key: keys/cosign.pub\nsourceIdentity: {issuer: "https://b.example"}\n', /srcnosubject\.yaml: sourceIdentity: .*: names no identity/],
    ['an unknown field in sourceIdentity', 'key: keys/cosign.pub\nsourceIdentity: {issuer: "https://b.example", subject: b, trustedRoot: x}\n', /srctypo\.yaml: sourceIdentity: \["trustedRoot"\]: unknown field\(s\) trustedRoot: the fields are issuer, subject, subjectRegExp$/],
    ['an unknown top-level field', 'key: keys/cosign.pub\nsourceIdentities: []\n', /toptypo\.yaml: \(top\): \["sourceIdentities"\]: unknown field\(s\) sourceIdentities: the fields are key, keyless, builder, requirePhases, requireApprovals, sourceKeyFingerprint, sourceIdentity/],
  ];
  const names = ['both', 'neither', 'nosubject', 'twosubjects', 'badre', 'noissuer', 'twoissuers', 'badissuerre', 'srcnoissuer', 'srcissuerre', 'typo', 'noroot', 'notroot', 'bothsources', 'srcnosubject', 'srctypo', 'toptypo'];
  cases.forEach(([what, text, line], i) => {
    it(`${what}: exit 2, one line naming file, field, value and fix`, async () => {
      const r = await refusal(write(`${names[i]}.yaml`, text));
      assert.equal(r.code, EXIT.INVALID);
      assert.match(r.line, line);
    });
  });

  it('keyless without trustedRoot takes TUF: a bad TUF setting is exit 2, an unreachable repository with nothing cached exit 3', async () => {
    const file = write('tuf.yaml', 'keyless: {issuer: "https://ci.example", subject: a@b}\n');
    const bad = await refusal(file, { PROMOFLOW_TUF_MIRROR: 'http://tuf.example.com' });
    assert.equal(bad.code, EXIT.INVALID);
    assert.match(bad.line, /PROMOFLOW_TUF_MIRROR="http:\/\/tuf\.example\.com" is not HTTPS/);
    const port = await freePort();
    const down = await refusal(file, { PROMOFLOW_TUF_MIRROR: `http://127.0.0.1:${port}`, PROMOFLOW_TUF_ROOT: join(dir, 'trusted_root.json'), PROMOFLOW_TUF_CACHE: join(dir, 'tuf-cache') });
    assert.equal(down.code, EXIT.UNAVAILABLE);
    assert.match(down.line, /promoflow verify: sigstore trust root: the TUF repository http:\/\/127\.0\.0\.1:\d+ is unreachable .*\(or keyless\.trustedRoot in the policy file\)/);
  });
});
