// `promoflow verify IMAGE@DIGEST | IMAGE:TAG --policy FILE`: a consumer's check of a promoted digest at any registry
// (a mirror too), with no Temporal at hand: the signature, the SLSA provenance and the VSA verify with the trusted
// key and meet the policy file (expected builder, required phases and approvals, the source-policy key). Prints a
// short summary (or --json); exit 0 all checks pass, 1 a check fails, 2 invalid input (arguments, policy file),
// 3 the registry is unreachable. Registry credentials come from docker's config.json, as cosign's do.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InvalidReferenceError, parseReference } from '../../model';
import { dockerConfigCredentials, headManifest, RegistryClient } from '../../oci';
import { artifactStore } from '../../activities';
import { checkPromotion, loadPublicKey, publicKeyFingerprint, type PromotionPolicy } from '../../signing';
import { check, parse } from '../flags';
import { CliError, EXIT } from '../exit-codes';
import type { Io } from '../promote';

export const VERIFY_USAGE = `usage: promoflow verify <registry/image@sha256:… | registry/image:tag> --policy FILE [--json]
  checks the digest's cosign signature, SLSA provenance and verification summary (VSA) against the policy file
exit codes: 0 verified · 1 a check failed · 2 invalid input · 3 registry unreachable`;

const fingerprint = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'a key fingerprint is sha256:<64 hex> (SHA-256 of the DER public key)');

/** The policy file: what a consumer trusts and requires. Unknown fields are refused (a typo must not loosen it). */
export const verifyPolicySchema = z.strictObject({
  /** The promoter's public key (cosign.pub), relative to the policy file. */
  key: z.string().min(1),
  builder: z.string().url().optional(),
  requirePhases: z.array(z.string().min(1)).optional(),
  requireApprovals: z.array(z.union([z.string().min(1).transform((phase) => ({ phase })), z.strictObject({ phase: z.string().min(1), by: z.array(z.string().min(1)).min(1).optional() })])).optional(),
  sourceKeyFingerprint: fingerprint.optional(),
});

const fail = (file: string, field: string, value: unknown, fix: string) => new CliError(`${file}: ${field}: ${JSON.stringify(value)}: ${fix}`, EXIT.INVALID);

/** Read and validate the policy file; every error is one line naming the file, the field, the value and the fix. */
export async function loadVerifyPolicy(file: string): Promise<PromotionPolicy> {
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
    const i = r.error.issues[0]!;
    const field = i.path.join('.') || '(top)';
    let value: unknown = doc;
    for (const k of i.path) value = (value as Record<string | number, unknown> | undefined)?.[k as string];
    const hint = i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}: the fields are key, builder, requirePhases, requireApprovals, sourceKeyFingerprint` : i.message;
    throw fail(file, field, i.code === 'unrecognized_keys' ? i.keys : value, hint);
  }
  const keyPath = resolve(dirname(file), r.data.key);
  let publicKey: string;
  try {
    publicKey = await readFile(keyPath, 'utf8');
    loadPublicKey(publicKey);
  } catch (e) {
    throw fail(file, 'key', r.data.key, `not a readable PEM public key (${(e as NodeJS.ErrnoException).code ?? (e as Error).message.split('\n')[0]}): give the promoter's cosign.pub, relative to the policy file`);
  }
  return {
    publicKey,
    ...(r.data.builder ? { builder: r.data.builder } : {}),
    ...(r.data.requirePhases ? { requirePhases: r.data.requirePhases } : {}),
    ...(r.data.requireApprovals ? { requireApprovals: r.data.requireApprovals } : {}),
    ...(r.data.sourceKeyFingerprint ? { sourceKeyFingerprint: r.data.sourceKeyFingerprint } : {}),
  };
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('verify', argv, { policy: { type: 'string' } }, true);
  if (positionals.length !== 1) throw new CliError(`promoflow verify: ${positionals.length ? `unexpected argument ${positionals[1]}` : 'an image reference is required'}\n${VERIFY_USAGE}`, EXIT.INVALID);
  const policyFile = check(z.string({ error: 'promoflow verify needs --policy FILE (the trusted key and what to require)' }).min(1), values.policy, 'verify');
  let ref;
  try {
    ref = parseReference(positionals[0]!);
  } catch (e) {
    if (e instanceof InvalidReferenceError) throw new CliError(`promoflow verify: ${e.message}: give registry/image@sha256:<hex> or registry/image:tag`, EXIT.INVALID);
    throw e;
  }
  if (!ref.digest && !ref.tag) throw new CliError(`promoflow verify: ${positionals[0]}: give a digest (@sha256:…) or a tag`, EXIT.INVALID);
  const policy = await loadVerifyPolicy(policyFile);
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
    throw new CliError(`promoflow verify: ${name}: registry unreachable or refusing reads: ${(e as Error).message.split('\n')[0]}`, EXIT.UNAVAILABLE);
  }
  const target = `${name}@${report.digest}`;
  if (values.json) {
    io.stdout(JSON.stringify({ image: target, verified: report.ok, trustedKey: publicKeyFingerprint(loadPublicKey(policy.publicKey)), checks: report.checks, provenance: report.provenance, vsa: report.vsa }, null, 2));
  } else {
    const failed = report.checks.find((c) => !c.ok);
    const lines = [failed ? `promoflow verify: ${target}: FAILED: ${failed.check}: ${failed.detail}` : `promoflow verify: ${target}: verified`];
    for (const c of report.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check.padEnd(10)} ${c.detail}`);
    (failed ? io.stderr : io.stdout)(lines.join('\n'));
  }
  return report.ok ? EXIT.OK : EXIT.FAILED;
}
