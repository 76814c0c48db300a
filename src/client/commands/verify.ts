// `promoflow verify IMAGE@DIGEST | IMAGE:TAG --policy FILE`: a consumer's check of a promoted digest at any registry
// (a mirror too), with no Temporal at hand: the signature, the SLSA provenance and the VSA verify with the trusted
// key, or keyless against a sigstore trust root by the expected identity and issuer, and meet the policy file
// (expected builder, required phases and approvals, the source policy). Prints a short summary (or --json); exit 0
// all checks pass, 1 a check fails (a malformed artifact too), 2 invalid input (arguments, policy file, trust-root
// settings), 3 the registry or the TUF repository is unreachable. Registry credentials come from docker's
// config.json, as cosign's do.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { TrustMaterial } from '@sigstore/verify';
import { InvalidReferenceError, parseReference } from '../../model';
import { dockerConfigCredentials, headManifest, RegistryClient } from '../../oci';
import { artifactStore } from '../../activities';
import {
  checkPromotion,
  isRegistryFault,
  loadPublicKey,
  publicKeyFingerprint,
  trustMaterialFromText,
  TrustRootConfigError,
  trustRootConfigFromEnv,
  TrustRootUnavailableError,
  TufTrustRoot,
  type IdentityPolicy,
  type PromotionPolicy,
} from '../../signing';
import { check, parse } from '../flags';
import { CliError, EXIT } from '../exit-codes';
import type { Io } from '../promote';

export const VERIFY_USAGE = `usage: promoflow verify <registry/image@sha256:… | registry/image:tag> --policy FILE [--json]
  checks the digest's signature, SLSA provenance and verification summary (VSA) against the policy file
  (a trusted key, or a keyless identity: issuer and subject, under a sigstore trust root)
exit codes: 0 verified · 1 a check failed · 2 invalid input · 3 registry or TUF repository unreachable`;

const fingerprint = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'a key fingerprint is sha256:<64 hex> (SHA-256 of the DER public key)');

const ISSUER_HINT = 'give the OIDC issuer of the signing certificate, e.g. https://token.actions.githubusercontent.com';

/** A keyless identity as a VSA's source policy records it: the issuer exactly, the subject or its pattern. */
const identity = {
  /** The OIDC issuer of the signing certificate, matched exactly. */
  issuer: z.string({ error: ISSUER_HINT }).min(1, ISSUER_HINT),
  /** The certificate SAN, matched exactly. */
  subject: z.string().min(1).optional(),
  /** A regular expression the whole certificate SAN must match (promoflow anchors it). */
  subjectRegExp: z.string().min(1).optional(),
};

/** The promoter's identity, as cosign's --certificate-identity[-regexp] / --certificate-oidc-issuer[-regexp]. */
const signerIdentity = {
  ...identity,
  issuer: z.string().min(1, ISSUER_HINT).optional(),
  /** Instead of issuer: a regular expression the whole issuer must match (promoflow anchors it). */
  issuerRegExp: z.string().min(1).optional(),
};

/** The policy file: what a consumer trusts and requires. Unknown fields are refused (a typo must not loosen it). */
export const verifyPolicySchema = z.strictObject({
  /** The promoter's public key (cosign.pub), relative to the policy file. */
  key: z.string().min(1).optional(),
  /** Or: the promoter's keyless identity (issuer | issuerRegExp, subject | subjectRegExp); trustedRoot (relative to the policy file) or, without it, TUF's. */
  keyless: z.strictObject({ ...signerIdentity, trustedRoot: z.string().min(1).optional() }).optional(),
  builder: z.string().url().optional(),
  requirePhases: z.array(z.string().min(1)).optional(),
  requireApprovals: z.array(z.union([z.string().min(1).transform((phase) => ({ phase })), z.strictObject({ phase: z.string().min(1), by: z.array(z.string().min(1)).min(1).optional() })])).optional(),
  sourceKeyFingerprint: fingerprint.optional(),
  /** The source policy the VSA must name when the source was signed keylessly. */
  sourceIdentity: z.strictObject(identity).optional(),
});

/** The fields of the file and of its objects, for the "unknown field" hint. */
const FIELDS: Record<string, string> = {
  '': 'key, keyless, builder, requirePhases, requireApprovals, sourceKeyFingerprint, sourceIdentity',
  keyless: 'issuer, issuerRegExp, subject, subjectRegExp, trustedRoot',
  sourceIdentity: 'issuer, subject, subjectRegExp',
  requireApprovals: 'phase, by',
};

const fail = (file: string, field: string, value: unknown, fix: string) => new CliError(`${file}: ${field}: ${JSON.stringify(value)}: ${fix}`, EXIT.INVALID);

type Opt<T> = T | undefined;

/** A regular expression from the file, or one line naming it. */
function compiles(file: string, field: string, re: string, example: string): string {
  try {
    new RegExp(re);
  } catch {
    throw fail(file, field, re, `not a regular expression: give one for the whole value, e.g. ${example}`);
  }
  return re;
}

/** The subject of an identity from the file: exactly one of subject or subjectRegExp (a regular expression that compiles). */
function subjectOf(file: string, field: string, i: { subject?: Opt<string>; subjectRegExp?: Opt<string> }): { subject: string } | { subjectRegExp: string } {
  if (i.subject !== undefined && i.subjectRegExp === undefined) return { subject: i.subject };
  if (i.subjectRegExp === undefined) throw fail(file, field, i, 'names no identity: give subject (the certificate SAN, matched exactly) or subjectRegExp (a regular expression for the whole SAN)');
  if (i.subject !== undefined) throw fail(file, field, i, 'has both subject and subjectRegExp: give one');
  return { subjectRegExp: compiles(file, `${field}.subjectRegExp`, i.subjectRegExp, '^https://github\\.com/org/repo/\\.github/workflows/release\\.yml@refs/tags/v.*$') };
}

/** The promoter's identity: its subject, and exactly one of issuer or issuerRegExp. */
function signerIdentityOf(file: string, field: string, i: { issuer?: Opt<string>; issuerRegExp?: Opt<string>; subject?: Opt<string>; subjectRegExp?: Opt<string> }): IdentityPolicy {
  const subject = subjectOf(file, field, i);
  if (i.issuer !== undefined && i.issuerRegExp === undefined) return { issuer: i.issuer, ...subject };
  if (i.issuerRegExp === undefined) throw fail(file, field, i, `names no issuer: ${ISSUER_HINT} (issuer, matched exactly), or issuerRegExp`);
  if (i.issuer !== undefined) throw fail(file, field, i, 'has both issuer and issuerRegExp: give one');
  return { issuerRegExp: compiles(file, `${field}.issuerRegExp`, i.issuerRegExp, '^https://oidc\\.example\\.com/.*$'), ...subject };
}

export interface VerifyPolicyOptions {
  /** The environment the trust-root settings come from (PROMOFLOW_TUF_*, PROMOFLOW_TRUSTED_ROOT). */
  env?: NodeJS.ProcessEnv;
  /** Where the trust root's "using the cached root" notes go. */
  log?: (line: string) => void;
}

/**
 * The trust material of a keyless policy: its trustedRoot file, else the instance's trust root through TUF as a
 * worker obtains it (PROMOFLOW_TUF_MIRROR/_ROOT/_CACHE, offline PROMOFLOW_TRUSTED_ROOT).
 */
async function keylessTrust(file: string, trustedRoot: string | undefined, o: VerifyPolicyOptions): Promise<TrustMaterial> {
  if (trustedRoot !== undefined) {
    const path = resolve(dirname(file), trustedRoot);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw fail(file, 'keyless.trustedRoot', trustedRoot, `cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'}): give the sigstore trusted_root.json, relative to the policy file (promoflow trusted-root --out FILE writes one)`);
    }
    try {
      return trustMaterialFromText(text, path);
    } catch (e) {
      throw fail(file, 'keyless.trustedRoot', trustedRoot, `not a sigstore trusted_root.json (${(e as Error).message}): give the instance's trusted_root.json`);
    }
  }
  try {
    return await new TufTrustRoot(trustRootConfigFromEnv(o.env ?? process.env), o.log).material();
  } catch (e) {
    if (e instanceof TrustRootConfigError) throw new CliError(`promoflow verify: ${e.message}`, EXIT.INVALID);
    if (e instanceof TrustRootUnavailableError) throw new CliError(`promoflow verify: ${e.message.replace('(or signing.keyless.trustedRoot)', '(or keyless.trustedRoot in the policy file)')}`, EXIT.UNAVAILABLE);
    throw e;
  }
}

/** Read and validate the policy file; every error is one line naming the file, the field, the value and the fix. */
export async function loadVerifyPolicy(file: string, o: VerifyPolicyOptions = {}): Promise<PromotionPolicy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new CliError(`${file}: cannot read the policy file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): pass --policy FILE`, EXIT.INVALID);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new CliError(`${file}: not YAML or JSON: ${(e as Error).message.split('\n')[0]}`, EXIT.INVALID);
  }
  const r = verifyPolicySchema.safeParse(doc);
  if (!r.success) {
    // An unknown field first: a misspelt field is usually why a required one reads as missing.
    const i = r.error.issues.find((x) => x.code === 'unrecognized_keys') ?? r.error.issues[0]!;
    const field = i.path.join('.') || '(top)';
    let value: unknown = doc;
    for (const k of i.path) value = (value as Record<string | number, unknown> | undefined)?.[k as string];
    const hint = i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}: the fields are ${FIELDS[String(i.path[0] ?? '')] ?? FIELDS['']}` : i.message;
    throw fail(file, field, i.code === 'unrecognized_keys' ? i.keys : value, hint);
  }
  const p = r.data;
  if (!!p.key === !!p.keyless) {
    throw p.key ? fail(file, 'keyless', p.keyless, 'the policy has both key and keyless: keep the one the promoter signs with') : fail(file, '(top)', Object.keys(p), 'the policy names no signer: give key (the promoter\'s cosign.pub) or keyless {issuer, subject | subjectRegExp}');
  }
  if (p.sourceKeyFingerprint && p.sourceIdentity) throw fail(file, 'sourceIdentity', p.sourceIdentity, 'the policy has both sourceKeyFingerprint and sourceIdentity: a VSA names one source policy, keep the one the source is signed with');
  const sourceIdentity = p.sourceIdentity ? { issuer: p.sourceIdentity.issuer, ...subjectOf(file, 'sourceIdentity', p.sourceIdentity) } : undefined;
  let signer: PromotionPolicy['signer'];
  if (p.keyless) {
    const id = signerIdentityOf(file, 'keyless', p.keyless);
    const trust = await keylessTrust(file, p.keyless.trustedRoot, o);
    signer = { type: 'keyless', identity: id, trust: () => Promise.resolve(trust) };
  } else {
    const keyPath = resolve(dirname(file), p.key!);
    let publicKey: string;
    try {
      publicKey = await readFile(keyPath, 'utf8');
      loadPublicKey(publicKey);
    } catch (e) {
      throw fail(file, 'key', p.key, `not a readable PEM public key (${(e as NodeJS.ErrnoException).code ?? (e as Error).message.split('\n')[0]}): give the promoter's cosign.pub, relative to the policy file`);
    }
    signer = { type: 'key', publicKey };
  }
  return {
    signer,
    ...(p.builder ? { builder: p.builder } : {}),
    ...(p.requirePhases ? { requirePhases: p.requirePhases } : {}),
    ...(p.requireApprovals ? { requireApprovals: p.requireApprovals } : {}),
    ...(p.sourceKeyFingerprint ? { sourceKeyFingerprint: p.sourceKeyFingerprint } : {}),
    ...(sourceIdentity ? { sourceIdentity } : {}),
  };
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('verify', argv, { policy: { type: 'string' } }, true);
  if (positionals.length !== 1) throw new CliError(`promoflow verify: ${positionals.length ? `unexpected argument ${positionals[1]}` : 'an image reference is required'}\n${VERIFY_USAGE}`, EXIT.INVALID);
  const policyFile = check(z.string({ error: 'promoflow verify needs --policy FILE (the trusted key or keyless identity, and what to require)' }).min(1), values.policy, 'verify');
  let ref;
  try {
    ref = parseReference(positionals[0]!);
  } catch (e) {
    if (e instanceof InvalidReferenceError) throw new CliError(`promoflow verify: ${e.message}: give registry/image@sha256:<hex> or registry/image:tag`, EXIT.INVALID);
    throw e;
  }
  if (!ref.digest && !ref.tag) throw new CliError(`promoflow verify: ${positionals[0]}: give a digest (@sha256:…) or a tag`, EXIT.INVALID);
  const policy = await loadVerifyPolicy(policyFile, { log: (line) => io.stderr(line) });
  const client = new RegistryClient({ credentials: dockerConfigCredentials() });
  const repo = { registry: ref.registry, repository: ref.repository };
  const name = `${ref.registry}/${ref.repository}`;
  let report;
  try {
    let digest = ref.digest as string | undefined;
    if (!digest) {
      const head = await headManifest(client, repo, ref.tag!);
      if (!head) {
        io.stderr(`promoflow verify: ${name}:${ref.tag}: no such tag`);
        return EXIT.FAILED;
      }
      digest = head.digest;
    } else if (!(await headManifest(client, repo, digest))) {
      io.stderr(`promoflow verify: ${name}@${digest}: not in this registry`);
      return EXIT.FAILED;
    }
    report = await checkPromotion(artifactStore(client, repo), digest, policy);
  } catch (e) {
    // A malformed artifact is a failed check (checkPromotion reports it); only a registry fault is exit 3.
    if (!isRegistryFault(e)) throw new CliError(`promoflow verify: ${name}: ${(e as Error).message.split('\n')[0]}`, EXIT.FAILED);
    throw new CliError(`promoflow verify: ${name}: registry unreachable or refusing reads: ${(e as Error).message.split('\n')[0]}`, EXIT.UNAVAILABLE);
  }
  const target = `${name}@${report.digest}`;
  if (values.json) {
    io.stdout(JSON.stringify({ image: target, verified: report.ok, ...(policy.signer.type === 'key' ? { trustedKey: publicKeyFingerprint(loadPublicKey(policy.signer.publicKey)) } : { trustedIdentity: policy.signer.identity }), checks: report.checks, provenance: report.provenance, vsa: report.vsa }, null, 2));
  } else {
    const failed = report.checks.find((c) => !c.ok);
    const lines = [failed ? `promoflow verify: ${target}: FAILED: ${failed.check}: ${failed.detail}` : `promoflow verify: ${target}: verified`];
    for (const c of report.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check.padEnd(10)} ${c.detail}`);
    (failed ? io.stderr : io.stdout)(lines.join('\n'));
  }
  return report.ok ? EXIT.OK : EXIT.FAILED;
}
