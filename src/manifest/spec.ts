// The validated promotion spec: the one in-memory shape that every manifest format (native, kpromo) loads into,
// and the only manifest type the planner, workflows and CLI see. Pure data: no I/O, no secrets (a registry names at
// most which of the worker's configured credentials it uses).
import type { Digest, RegistryLimits } from '../model';

export interface RegistryEndpoint {
  /** Repository prefix: host[:port][/path]. An image `name` is appended as `<registry>/<name>`. */
  registry: string;
  /** Plain HTTP allowed (loopback registries are always allowed plain HTTP). */
  insecure?: boolean;
  /**
   * Name of a credential in the operator's credential configuration (worker and planning host), which binds it to
   * hosts; absent = the credential bound to this registry's host, if any.
   */
  credentials?: string;
  limits?: RegistryLimits;
}

export interface Destination extends RegistryEndpoint {
  /** Unique name used by phases, reports and the CLI (e.g. `prod`, `eu-west1`). */
  name: string;
  region?: string;
  /** The canonical destination: its reference is the docker-reference written into signatures. */
  canonical?: boolean;
  /** Registry-group task queue: registry work for this destination runs only on workers polling it. */
  taskQueue?: string;
}

export interface PhaseGates {
  /** Verify every destination of the phase holds the exact digests and tags before moving on. */
  verify: boolean;
  /** Wait for a manual approval (Temporal Update) before moving on. */
  approval: boolean;
}

export interface Phase {
  name: string;
  destinations: string[];
  /** Durable sleep after the phase, before its gates release the next one. */
  soakSeconds: number;
  gates: PhaseGates;
}

/** Keyless signing: Fulcio certificate for the worker's OIDC identity, Rekor entry; references and URLs only. */
export interface KeylessPolicy {
  /** OIDC issuer of the signing identity, matched exactly. */
  issuer: string;
  /** The signing identity (certificate SAN), matched exactly; or subjectRegExp. */
  subject?: string;
  /** A regular expression the whole certificate SAN must match (anchored by promoflow), for those who want one. */
  subjectRegExp?: string;
  /** HTTPS only (plain HTTP to loopback for tests): it receives the worker's OIDC token. */
  fulcioURL?: string;
  rekorURL?: string;
  /** `file://` reference to the sigstore trusted_root.json that verification trusts (needed to promote). */
  trustedRoot?: string;
}

/**
 * Who must have signed a source digest: the builder's public key (a reference), or its keyless identity (a sigstore
 * bundle by that issuer and subject, verified against `trustedRoot` or the instance's trust root through TUF).
 */
export type SourceSigner = { key: string; keyless?: undefined } | { keyless: Pick<KeylessPolicy, 'issuer' | 'subject' | 'subjectRegExp' | 'trustedRoot'>; key?: undefined };

export interface SigningPolicy {
  /** Key reference (`env://VAR`, `file://path`, or a KMS URI) or keyless. */
  key?: string;
  keyless?: KeylessPolicy;
  attest: boolean;
  /** Signature storage formats to write. */
  formats: Array<'cosign-tag' | 'bundle-referrer'>;
  /** docker-reference written into payloads; defaults to the canonical destination's repository. */
  dockerReference?: string;
}

export interface ImageSpec {
  /** Repository name relative to the source and destination prefixes (e.g. `kube-apiserver`, `foo/bar`). */
  name: string;
  /** digest → tags (an empty list promotes the digest untagged). */
  dmap: Record<Digest, string[]>;
  /** Allow moving a tag that already points to another digest at a destination. */
  allowTagMove?: boolean;
  /** Which `Spec.projects` entry the image belongs to (kpromo thin layout); absent = the spec's own source/destinations. */
  project?: string;
  /** Where the image entry was declared (for error messages and reports). */
  origin?: Origin;
}

/**
 * One kpromo project (thin layout: `manifests/<project>/promoter-manifest.yaml`): its own source and the subset of
 * `Spec.destinations` it promotes to. Images with `project` set use these instead of `Spec.source`/all destinations.
 */
export interface Project {
  name: string;
  source: RegistryEndpoint;
  /** Names of `Spec.destinations` entries. */
  destinations: string[];
  /** The promoter manifest the project was read from. */
  file?: string;
}

/** Where a value came from, for error messages and reports. */
export interface Origin {
  file: string;
  line?: number;
  column?: number;
}

export interface Spec {
  name: string;
  source: RegistryEndpoint;
  destinations: Destination[];
  phases: Phase[];
  images: ImageSpec[];
  signing?: SigningPolicy;
  /** Source policy: every source digest must carry a valid signature by this signer before anything is copied. */
  sourcePolicy?: { signedBy: SourceSigner };
  /** Several sources in one spec (kpromo thin layout). When present, `source` is the first project's source. */
  projects?: Project[];
  /** The manifest files the spec was read from (repo-relative when possible). */
  files: string[];
}
