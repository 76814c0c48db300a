// The native manifest format (apiVersion promoflow.dev/v1alpha1, kind Promotion): its zod schema (also the source
// of the generated JSON Schema) and its reading into a Spec, with cross-field checks (names, phases, canonical).
import { z } from 'zod';
import { DEFAULT_LIMITS, DIGEST_RE, TAG_RE } from '../model';
import type { ManifestError } from './errors';
import { readImages, type Skipped } from './images';
import { durationSchema, findInlineSecrets, parseDuration, registrySchema, says, zodErrors } from './rules';
import type { Destination, Phase, RegistryEndpoint, SigningPolicy, SourceSigner, Spec } from './spec';
import { pathString, type YamlFile } from './yamldoc';

export const API_VERSION = 'promoflow.dev/v1alpha1';
export const KIND = 'Promotion';

// A manifest names at most which of the worker's configured credentials a registry uses: never a variable, a
// path or a helper (a pull request could otherwise send any secret of the CI runner or the worker to any host).
// Today's reference objects ({kind: env|file|docker-config}) get one line saying what to write instead.
export const CREDENTIAL_MIGRATION =
  'credentials: <name> of a credential the worker’s credential configuration binds to this registry’s host (promoflow worker --credentials FILE; README, Registry credentials), or no credentials field at all: the worker then uses the credential bound to the host';
const credentials = z
  .string({
    error: (iss) =>
      iss.input && typeof iss.input === 'object'
        ? says(`is a credential reference (kind: ${String((iss.input as { kind?: unknown }).kind ?? '?')}), which manifests may no longer hold: variables, files and docker configs are the operator's to bind to hosts`, CREDENTIAL_MIGRATION)
        : says('is not a credential name', CREDENTIAL_MIGRATION),
  })
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, says('is not a credential name', 'lowercase letters, digits, ., _ and - naming a credential in the worker’s credential configuration'))
  .describe('name of a credential in the worker’s credential configuration (bound to this registry’s host there)');
export const limitsSchema = z.strictObject({
  concurrency: z.number().int().min(1).max(1000).optional().describe('concurrent requests to this registry from one worker'),
  requestsPerSecond: z.number().positive().max(100000).optional().describe('requests per second to this registry from one worker'),
  maxManifestBytes: z.number().int().min(1024).max(64 << 20).optional().describe(`largest manifest or index accepted, bytes (default ${DEFAULT_LIMITS.maxManifestBytes})`),
  maxIndexChildren: z.number().int().min(1).max(1_000_000).optional().describe(`most manifests below one copied image, all index levels together (default ${DEFAULT_LIMITS.maxIndexChildren})`),
  maxIndexDepth: z.number().int().min(1).max(64).optional().describe(`deepest index nesting (default ${DEFAULT_LIMITS.maxIndexDepth})`),
  maxCopyBytes: z.number().int().min(1).optional().describe(`most bytes one image copy may move (default ${DEFAULT_LIMITS.maxCopyBytes})`),
  maxTags: z.number().int().min(1).max(10_000_000).optional().describe(`most tags listed for one repository (default ${DEFAULT_LIMITS.maxTags})`),
  maxArtifactBytes: z.number().int().min(1024).max(1 << 30).optional().describe(`largest signature or attestation layer read, bytes (default ${DEFAULT_LIMITS.maxArtifactBytes})`),
  minBytesPerSecond: z.number().int().min(0).optional().describe(`slowest transfer accepted, bytes per second over a minute; 0 turns the check off (default ${DEFAULT_LIMITS.minBytesPerSecond})`),
});
const endpoint = {
  registry: registrySchema.describe('repository prefix host[:port][/path]; the image name is appended'),
  insecure: z.boolean().optional().describe('allow plain HTTP (loopback registries always may)'),
  credentials: credentials.optional(),
  limits: limitsSchema.optional(),
};
export const nameSchema = z.string().regex(/^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/, says('is not a valid name', 'lowercase letters, digits, ., _ and - (at most 63)'));
export const gatesSchema = z.strictObject({
  verify: z.boolean().optional().describe('verify every destination of the phase before moving on (default true)'),
  approval: z.boolean().optional().describe('wait for a manual approval before moving on (default false)'),
});
const phase = z.strictObject({
  name: nameSchema,
  destinations: z.array(z.string()).min(1),
  soak: durationSchema.optional().describe('durable wait after the phase, e.g. 30s, 5m, 1h'),
  gates: gatesSchema.optional(),
});
const keyRef = z
  .string()
  .regex(/^(env:\/\/[A-Za-z_][A-Za-z0-9_]*|file:\/\/.+|(awskms|gcpkms|azurekms|hashivault|k8s):\/\/.+)$/, says('is not a key reference', 'env://VAR, file://path or a KMS URI (never the key itself)'));
// HTTPS only (plain HTTP to loopback for offline tests); the worker enforces the same rule (requireSigstoreURL).
const sigstoreURL = z
  .string()
  .regex(/^(https:\/\/[^\s/]+|http:\/\/(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d+)?)(\/\S*)?$/, says('is not an HTTPS URL', 'https://host[/path]: it receives the worker’s OIDC token (plain http only to loopback)'));
export const signingSchema = z.strictObject({
  key: keyRef.optional(),
  keyless: z
    .strictObject({
      issuer: z.url().describe('OIDC issuer of the signing identity (also enforced on verification)'),
      subject: z.string().min(1).optional().describe('the identity (certificate SAN) that signs, matched exactly, e.g. the CI workflow'),
      subjectRegExp: z.string().min(1).optional().describe('instead of subject: a regular expression the whole certificate SAN must match (anchored)'),
      fulcioURL: sigstoreURL.optional().describe('Fulcio, HTTPS (default: the public-good instance); it receives the worker’s OIDC token'),
      rekorURL: sigstoreURL.optional().describe('Rekor, HTTPS (default: the public-good instance)'),
      // A manifest choosing which worker variable is sent to Fulcio would let a pull request send any worker secret to
      // its own HTTPS endpoint: the token's variable is the operator's (SIGSTORE_ID_TOKEN on the worker), never a manifest's.
      tokenEnv: z
        .unknown()
        .refine(() => false, says('is no longer read from manifests: which worker variable holds the OIDC token is the operator’s choice', 'no tokenEnv; the worker reads SIGSTORE_ID_TOKEN'))
        .optional()
        .describe('not allowed: the worker reads its OIDC token from SIGSTORE_ID_TOKEN'),
      trustedRoot: z
        .string()
        .regex(/^file:\/\/.+$/, says('is not a file reference', 'file://path to a sigstore trusted_root.json'))
        .optional()
        .describe('trusted root for verification: file://trusted_root.json on the worker (default: the instance’s trust root through TUF, public-good sigstore unless the worker sets PROMOFLOW_TUF_MIRROR)'),
    })
    .optional(),
  attest: z.boolean().optional().describe('attach a SLSA provenance attestation (default true)'),
  formats: z.array(z.enum(['cosign-tag', 'bundle-referrer'])).min(1).optional().describe('signature storage formats (default [cosign-tag])'),
  dockerReference: z.string().optional(),
});
const sourcePolicy = z.strictObject({
  signedBy: z.strictObject({
    key: keyRef.optional().describe('public key (PEM) of the trusted builder: file://path or env://VAR'),
    keyless: z
      .strictObject({
        issuer: z.url().describe('OIDC issuer of the builder’s signing certificate, matched exactly'),
        subject: z.string().min(1).optional().describe('the builder’s identity (certificate SAN), matched exactly, e.g. its CI workflow'),
        subjectRegExp: z.string().min(1).optional().describe('instead of subject: a regular expression the whole certificate SAN must match (anchored)'),
        trustedRoot: z
          .string()
          .regex(/^file:\/\/.+$/, says('is not a file reference', 'file://path to a sigstore trusted_root.json'))
          .optional()
          .describe('trusted root for verification: file://trusted_root.json on the worker (default: the instance’s trust root through TUF)'),
      })
      .optional()
      .describe('instead of key: the builder signed keylessly (a sigstore bundle referrer, as cosign v3 writes by default)'),
  }),
}).describe('refuse to promote a source image unless its cosign signature (by the key) or sigstore bundle (by the keyless identity) verifies');
const imageEntry = z.strictObject({
  name: z.string(),
  dmap: z.record(z.string().regex(DIGEST_RE), z.array(z.string().regex(TAG_RE))),
  allowTagMove: z.boolean().optional().describe('allow moving a tag that points to another digest at a destination'),
});

/** The document schema; `images` is read entry by entry by images.ts so that one bad entry can be isolated. */
const documentShape = {
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(KIND),
  metadata: z.strictObject({ name: nameSchema, description: z.string().optional() }),
  source: z.strictObject(endpoint),
  destinations: z
    .array(
      z.strictObject({
        ...endpoint,
        name: nameSchema,
        region: z.string().optional(),
        canonical: z.boolean().optional(),
        taskQueue: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, says('is not a task queue name', 'letters, digits, ., _ and -'))
          .optional()
          .describe('registry-group task queue: copies to this destination run only on workers polling it (rate-limited with --queue-rps)'),
      }),
    )
    .min(1),
  phases: z.array(phase).min(1).optional().describe('rollout order; default: one phase "all" with every destination'),
  signing: signingSchema.optional(),
  sourcePolicy: sourcePolicy.optional(),
  images: z.unknown(),
};
const documentSchema = z.strictObject(documentShape);
/** For the JSON Schema only: the same document with `images` typed. */
export const nativeJsonSchemaSource = z.strictObject({ ...documentShape, images: z.array(imageEntry) });

export function isNativeDocument(data: unknown): boolean {
  return typeof data === 'object' && data !== null && ('apiVersion' in data || 'kind' in data);
}

export interface ReadResult {
  spec?: Spec;
  errors: ManifestError[];
  warnings: ManifestError[];
  skipped: Skipped[];
}

function toEndpoint(e: { registry: string; insecure?: boolean | undefined; credentials?: string | undefined; limits?: z.infer<typeof limitsSchema> | undefined }): RegistryEndpoint {
  const out: RegistryEndpoint = { registry: e.registry };
  if (e.insecure !== undefined) out.insecure = e.insecure;
  if (e.credentials) out.credentials = e.credentials;
  if (e.limits) out.limits = { ...e.limits };
  return out;
}

/** A manifest's signing block → the policy; `err` reports the cross-field problems (located by the caller). */
export function signingPolicyOf(s: z.infer<typeof signingSchema>, hasCanonical: boolean, err: (message: string, expected: string, sub?: Array<string | number>, value?: unknown) => void): SigningPolicy {
  if (!!s.key === !!s.keyless) err(s.key ? 'has both key and keyless' : 'has neither key nor keyless', 'exactly one of key (a reference) or keyless {issuer, subject}');
  if (s.keyless) checkIdentity(s.keyless, err);
  if (!s.dockerReference && !hasCanonical) err('needs a docker-reference for signatures', 'canonical: true on one destination, or signing.dockerReference');
  const policy: SigningPolicy = { attest: s.attest ?? true, formats: [...new Set(s.formats ?? (['cosign-tag'] as const))] };
  if (s.key) policy.key = s.key;
  if (s.keyless) policy.keyless = s.keyless;
  if (s.dockerReference) policy.dockerReference = s.dockerReference;
  return policy;
}

/** A keyless identity's cross-field rules: exactly one of subject or subjectRegExp, and a regular expression that compiles. */
function checkIdentity(k: { subject?: string | undefined; subjectRegExp?: string | undefined }, err: (message: string, expected: string, sub?: Array<string | number>, value?: unknown) => void): void {
  if ((k.subject === undefined) === (k.subjectRegExp === undefined)) {
    err(k.subject === undefined ? 'names no identity' : 'has both subject and subjectRegExp', 'subject (the certificate SAN, matched exactly) or subjectRegExp (a regular expression for the whole SAN)', ['keyless']);
  }
  if (k.subjectRegExp !== undefined) {
    try {
      new RegExp(k.subjectRegExp);
    } catch {
      err('is not a regular expression', 'a JavaScript regular expression for the whole certificate SAN, e.g. ^https://github\\.com/org/repo/\\.github/workflows/release\\.yml@refs/tags/v.*$', ['keyless', 'subjectRegExp'], k.subjectRegExp);
    }
  }
}

/** A source policy's signedBy → the spec's: exactly one of key or keyless (undefined when it reported an error). */
export function sourceSignerOf(s: z.infer<typeof sourcePolicy>['signedBy'], err: (message: string, expected: string, sub?: Array<string | number>, value?: unknown) => void): SourceSigner | undefined {
  if (!!s.key === !!s.keyless) {
    err(s.key ? 'has both key and keyless' : 'has neither key nor keyless', 'exactly one of key (the builder’s public key reference) or keyless {issuer, subject}');
    return undefined;
  }
  if (s.key) return { key: s.key };
  const k = s.keyless!;
  let bad = false;
  checkIdentity(k, (...a) => ((bad = true), err(...a)));
  if (bad) return undefined;
  return { keyless: { issuer: k.issuer, ...(k.subject !== undefined ? { subject: k.subject } : {}), ...(k.subjectRegExp !== undefined ? { subjectRegExp: k.subjectRegExp } : {}), ...(k.trustedRoot !== undefined ? { trustedRoot: k.trustedRoot } : {}) } };
}

export function readNative(y: YamlFile): ReadResult {
  const res: ReadResult = { errors: [], warnings: [], skipped: [] };
  const data = y.data;
  const err = (path: (string | number)[], value: unknown, message: string, expected?: string, key = false) =>
    res.errors.push({ file: y.file, ...y.locate(path, key), path: pathString(path), value, message, expected });
  res.errors.push(...findInlineSecrets(y, data));
  const r = documentSchema.safeParse(data);
  if (!r.success) {
    res.errors.push(...zodErrors(y, r.error.issues, data));
    // Without a valid frame (source, destinations, phases) no spec exists; still read images to report all errors.
    if (typeof data === 'object' && data !== null && 'images' in data) {
      const imgs = readImages(y, (data as { images: unknown }).images, ['images'], ['images'], { native: true });
      res.errors.push(...imgs.errors);
    }
    return res;
  }
  const m = r.data;
  const destinations: Destination[] = m.destinations.map((d) => {
    const out: Destination = { ...toEndpoint(d), name: d.name };
    if (d.region !== undefined) out.region = d.region;
    if (d.taskQueue !== undefined) out.taskQueue = d.taskQueue;
    if (d.canonical !== undefined) out.canonical = d.canonical;
    return out;
  });
  const byName = new Map<string, number>();
  const byRegistry = new Map<string, number>();
  destinations.forEach((d, i) => {
    if (byName.has(d.name)) err(['destinations', i, 'name'], d.name, 'is used twice', `unique destination names (first: destinations[${byName.get(d.name)}])`);
    else byName.set(d.name, i);
    if (byRegistry.has(d.registry)) err(['destinations', i, 'registry'], d.registry, 'is listed twice', `each registry once (first: destinations[${byRegistry.get(d.registry)}])`);
    else byRegistry.set(d.registry, i);
    if (d.registry === m.source.registry) err(['destinations', i, 'registry'], d.registry, 'is the source registry', 'a destination different from the source');
  });
  const canon = destinations.flatMap((d, i) => (d.canonical ? [i] : []));
  if (canon.length > 1) err(['destinations', canon[1]!, 'canonical'], true, 'a second canonical destination', 'at most one destination with canonical: true');

  let phases: Phase[];
  if (!m.phases) {
    phases = [{ name: 'all', destinations: destinations.map((d) => d.name), soakSeconds: 0, gates: { verify: true, approval: false } }];
  } else {
    const seenPhase = new Set<string>();
    const placed = new Map<string, string>();
    phases = m.phases.map((p, i) => {
      if (seenPhase.has(p.name)) err(['phases', i, 'name'], p.name, 'is used twice', 'unique phase names');
      seenPhase.add(p.name);
      p.destinations.forEach((dn, j) => {
        if (!byName.has(dn)) err(['phases', i, 'destinations', j], dn, 'is not a destination', `one of ${[...byName.keys()].join(', ')}`);
        else if (placed.has(dn)) err(['phases', i, 'destinations', j], dn, `is already in phase ${placed.get(dn)}`, 'each destination in exactly one phase');
        else placed.set(dn, p.name);
      });
      return {
        name: p.name,
        destinations: [...new Set(p.destinations)],
        soakSeconds: p.soak ? parseDuration(p.soak)! : 0,
        gates: { verify: p.gates?.verify ?? true, approval: p.gates?.approval ?? false },
      };
    });
    for (const d of destinations) if (!placed.has(d.name)) err(['phases'], d.name, 'destination is in no phase', 'every destination listed in exactly one phase');
  }

  let signingPolicy: SigningPolicy | undefined;
  if (m.signing) signingPolicy = signingPolicyOf(m.signing, canon.length > 0 || destinations.length === 1, (message, expected, sub = [], value) => err(['signing', ...sub], value, message, expected));

  const imgs = readImages(y, m.images, ['images'], ['images'], { native: true });
  if (m.images === undefined || m.images === null) err(['images'], undefined, 'is required', 'a list of {name, dmap} entries ([] for none)', true);
  res.errors.push(...imgs.errors);
  res.warnings.push(...imgs.warnings);
  res.skipped.push(...imgs.skipped);
  const spec: Spec = { name: m.metadata.name, source: toEndpoint(m.source), destinations, phases, images: imgs.images, files: [y.file] };
  if (signingPolicy) spec.signing = signingPolicy;
  if (m.sourcePolicy) {
    const by = sourceSignerOf(m.sourcePolicy.signedBy, (message, expected, sub = [], value) => err(['sourcePolicy', 'signedBy', ...sub], value, message, expected));
    if (by) spec.sourcePolicy = { signedBy: by };
  }
  // Frame errors (anything outside the image entries) leave no trustworthy spec, even when isolating.
  const frameErrors = res.errors.length - imgs.errors.length;
  if (frameErrors === 0) res.spec = spec;
  return res;
}
