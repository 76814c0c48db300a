import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { simpleSigningPayload, parseSimpleSigningPayload } from '../../src/signing/simple-signing';
import { pae, parseEnvelope, serializeEnvelope, signEnvelope, INTOTO_PAYLOAD_TYPE } from '../../src/signing/dsse';
import { parseStatement, serializeStatement } from '../../src/signing/intoto';
import { promotionProvenanceStatement, SLSA_PROVENANCE_V1, PROMOTION_BUILD_TYPE } from '../../src/signing/slsa-provenance';
import { goJson } from '../../src/signing/encoding';
import { LocalKeySigner } from '../../src/signing/keys';
import { attestationStatements } from '../../src/signing/sign-image';
import { SLSA_VSA_V1 } from '../../src/signing/vsa';

const D = 'sha256:' + 'ab'.repeat(32);

describe('simple signing payload', () => {
  it('is exactly the bytes cosign writes', () => {
    assert.equal(
      simpleSigningPayload({ dockerReference: 'registry.k8s.io/pause', digest: D }).toString(),
      `{"critical":{"identity":{"docker-reference":"registry.k8s.io/pause"},"image":{"docker-manifest-digest":"${D}"},"type":"cosign container image signature"},"optional":null}`,
    );
  });
  it('puts sorted annotations in optional, Go-escaped', () => {
    const p = simpleSigningPayload({ dockerReference: '127.0.0.1:5000/a/b', digest: D, annotations: { z: '1', a: '<&>' } }).toString();
    assert.match(p, /"optional":\{"a":"\\u003c\\u0026\\u003e","z":"1"\}\}$/);
    assert.deepEqual(parseSimpleSigningPayload(Buffer.from(p)).optional, { a: '<&>', z: '1' });
  });
  it('refuses references cosign could not parse and bad digests', () => {
    assert.throws(() => simpleSigningPayload({ dockerReference: 'Registry/UPPER', digest: D }), /docker-reference/);
    assert.throws(() => simpleSigningPayload({ dockerReference: 'r.io/a:tag', digest: D }), /docker-reference/);
    assert.throws(() => simpleSigningPayload({ dockerReference: 'r.io/a', digest: 'sha256:zz' }), /sha256/);
    assert.throws(() => parseSimpleSigningPayload(Buffer.from('{"critical":{"identity":{"docker-reference":"a"},"image":{"docker-manifest-digest":"x"},"type":"other"}}')), /unknown type/);
  });
});

describe('DSSE', () => {
  it('PAE follows the spec (byte lengths, not characters)', () => {
    assert.equal(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString(), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    assert.equal(pae('t', Buffer.from('é')).toString(), 'DSSEv1 1 t 2 é');
  });
  it('envelope round-trips in cosign field order with keyid ""', async () => {
    const signer = new LocalKeySigner(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
    const env = await signEnvelope(INTOTO_PAYLOAD_TYPE, Buffer.from('{}'), signer);
    const bytes = serializeEnvelope(env);
    assert.match(bytes.toString(), /^\{"payloadType":"application\/vnd.in-toto\+json","payload":"e30=","signatures":\[\{"keyid":"","sig":"[A-Za-z0-9+/=]+"\}\]\}$/);
    assert.deepEqual(parseEnvelope(bytes).payload, Buffer.from('{}'));
    assert.throws(() => parseEnvelope(Buffer.from('{"payloadType":"x","payload":"e30=","signatures":[]}')), /malformed/);
  });
});

describe('SLSA provenance v1 statement', () => {
  const input = {
    digest: D,
    sourceRepository: 'staging.example/app',
    destinations: ['prod.example/app:v1', 'mirror.example/app:v1'],
    manifestPath: 'images.yaml',
    gitCommit: 'c0ffee',
    promoflowVersion: '1.2.3',
    workflowId: 'wf',
    runId: 'run',
    startedOn: '2026-11-26T10:00:00Z',
    finishedOn: '2026-11-26T10:00:05.123Z',
  };
  it('has only the four top-level fields and the promotion facts', () => {
    const st = promotionProvenanceStatement(input);
    const parsed = JSON.parse(serializeStatement(st).toString()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), ['_type', 'subject', 'predicateType', 'predicate']);
    assert.equal(st.predicateType, SLSA_PROVENANCE_V1);
    assert.deepEqual(st.subject, [{ name: 'prod.example/app', digest: { sha256: 'ab'.repeat(32) } }]);
    const p = st.predicate;
    assert.equal(p.buildDefinition.buildType, PROMOTION_BUILD_TYPE);
    assert.deepEqual(p.buildDefinition.externalParameters, { source: `staging.example/app@${D}`, destinations: input.destinations, manifestPath: 'images.yaml', gitCommit: 'c0ffee' });
    assert.deepEqual(p.buildDefinition.resolvedDependencies, [{ uri: `staging.example/app@${D}`, name: 'staging.example/app', digest: { sha256: 'ab'.repeat(32) } }]);
    assert.equal(p.runDetails.builder.id, 'https://promoflow.dev/builder@v1.2.3');
    assert.deepEqual(p.runDetails.metadata, { invocationId: 'wf/run', startedOn: input.startedOn, finishedOn: input.finishedOn });
    parseStatement(serializeStatement(st));
  });
  it('is deterministic and validates timestamps', () => {
    assert.deepEqual(serializeStatement(promotionProvenanceStatement(input)), serializeStatement(promotionProvenanceStatement(input)));
    assert.throws(() => promotionProvenanceStatement({ ...input, startedOn: 'yesterday' }), /RFC 3339/);
  });
  it('strict parse refuses extra top-level fields (as cosign >= 3.0.6 does)', () => {
    assert.throws(() => parseStatement(Buffer.from(goJson({ _type: 'x', subject: [{ digest: { sha256: 'a' } }], predicateType: 'p', predicate: {}, extra: 1 }))), /malformed/);
  });
});

describe('rollout record and VSA', () => {
  const prov = {
    sourceRepository: 'staging.example/app',
    destinations: ['prod.example/app'],
    manifestPath: 'images.yaml',
    promoflowVersion: '1.2.3',
    workflowId: 'wf',
    runId: 'run',
    startedOn: '2026-11-26T10:00:00Z',
    finishedOn: '2026-11-26T10:30:00Z',
    rollout: {
      tags: ['v1'],
      phases: [
        { name: 'canary', startedAt: '2026-11-26T10:00:01Z', finishedAt: '2026-11-26T10:29:00Z', soakSeconds: 600, verifyGate: true, approval: { by: 'alice', reason: 'healthy', at: '2026-11-26T10:29:00Z' } },
        { name: 'global', startedAt: '2026-11-26T10:30:00Z' },
      ],
    },
    verification: {
      sourcePolicy: { type: 'key' as const, keyFingerprint: `sha256:${'cd'.repeat(32)}` },
      signingPolicy: { type: 'key' as const, keyFingerprint: `sha256:${'ef'.repeat(32)}` },
      inputAttestations: [{ uri: `staging.example/app:sha256-${'ab'.repeat(32)}.sig`, digest: `sha256:${'12'.repeat(32)}` }],
    },
  };
  it('the provenance carries the rollout; the VSA names the policy, the input attestations and the result; the same inputs give the same bytes', () => {
    const [[pt, p], [vt, v]] = attestationStatements(prov, D) as [[string, Buffer], [string, Buffer]];
    assert.equal(pt, SLSA_PROVENANCE_V1);
    assert.equal(vt, SLSA_VSA_V1);
    const ps = parseStatement(p) as { predicate: { buildDefinition: { externalParameters: { rollout: unknown } } } };
    assert.deepEqual(ps.predicate.buildDefinition.externalParameters.rollout, prov.rollout);
    const vs = parseStatement(v) as { subject: unknown; predicate: { verifier: { id: string }; timeVerified: string; resourceUri: string; policy: { digest: { sha256: string }; annotations: unknown }; inputAttestations: unknown; verificationResult: string } };
    assert.deepEqual(vs.subject, [{ name: 'prod.example/app', digest: { sha256: 'ab'.repeat(32) } }]);
    assert.equal(vs.predicate.verifier.id, 'https://promoflow.dev/verifier');
    assert.equal(vs.predicate.timeVerified, prov.finishedOn);
    assert.equal(vs.predicate.resourceUri, `staging.example/app@${D}`);
    assert.deepEqual(vs.predicate.policy.annotations, { source: prov.verification.sourcePolicy, signing: prov.verification.signingPolicy });
    assert.match(vs.predicate.policy.digest.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(vs.predicate.inputAttestations, [{ uri: prov.verification.inputAttestations[0]!.uri, digest: { sha256: '12'.repeat(32) }, mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json' }]);
    assert.equal(vs.predicate.verificationResult, 'PASSED');
    assert.deepEqual(attestationStatements(prov, D), attestationStatements(JSON.parse(JSON.stringify(prov)) as typeof prov, D), 'a retry writes identical bytes');
    assert.throws(() => attestationStatements({ ...prov, rollout: { tags: [], phases: [{ name: 'x', startedAt: 'now' }] } }, D), /rollout phase x startedAt must be an RFC 3339 timestamp/);
    const { verification: _v, ...noVsa } = prov;
    assert.deepEqual(attestationStatements(noVsa, D).map(([t]) => t), [SLSA_PROVENANCE_V1], 'no verification inputs: provenance only');
  });
});
