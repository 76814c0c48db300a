// Image references: parsing and normalisation of `[registry/]repository[:tag][@sha256:…]` following the Docker
// reference grammar, with docker.io defaults (docker.io, library/ for single-component names).
import { isDigest, type Digest } from './digest';

/** A reference that does not parse: never retryable (the OCI client and activities classify it by name). */
export class InvalidReferenceError extends Error {
  override name = 'InvalidReferenceError';
  readonly retryable = false;
}

export interface RepositoryRef {
  /** host[:port]; Docker Hub is always `docker.io`. */
  registry: string;
  repository: string;
}

export interface Reference extends RepositoryRef {
  tag?: string;
  digest?: Digest;
}

export const DOCKER_HUB = 'docker.io';
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** One repository path component (distribution's grammar, without anchors so that larger patterns reuse it). */
export const COMPONENT_PATTERN = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const COMPONENT = new RegExp(`^${COMPONENT_PATTERN}$`);
/** The one tag regex: a word character, then up to 127 word characters, dots or dashes. */
export const TAG_RE = /^\w[\w.-]{0,127}$/;
const TAG = TAG_RE;
// host (DNS labels or IPv4), or a bracketed IPv6 literal; optional port.
const HOST = /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$/;

export function isTag(s: string): boolean {
  return TAG.test(s);
}

function fail(input: string, why: string): never {
  throw new InvalidReferenceError(`invalid image reference ${JSON.stringify(input)}: ${why}`);
}

/** Normalise a registry host as written by a user (Docker Hub aliases → docker.io, lower-case host). */
export function normaliseRegistry(host: string): string {
  const h = host.toLowerCase();
  return HUB_ALIASES.has(h) ? DOCKER_HUB : h;
}

export function parseRepository(s: string): RepositoryRef {
  const r = parseReference(s);
  if (r.tag !== undefined || r.digest !== undefined) fail(s, 'expected a repository without tag or digest');
  return { registry: r.registry, repository: r.repository };
}

export function parseReference(s: string): Reference {
  if (typeof s !== 'string' || s.length === 0) fail(String(s), 'empty');
  if (s.length > 512) fail(s.slice(0, 64) + '…', 'longer than 512 characters');
  if (/\s/.test(s)) fail(s, 'contains whitespace');
  let rest = s;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) fail(s, `digest ${JSON.stringify(d)} is not sha256:<64 lower-case hex>`);
    digest = d;
    rest = rest.slice(0, at);
  }
  let registry = DOCKER_HUB;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[') || first !== first.toLowerCase()) {
      if (!HOST.test(first)) fail(s, `registry host ${JSON.stringify(first)} is not a valid host[:port]`);
      registry = normaliseRegistry(first);
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) fail(s, `tag ${JSON.stringify(tag)} must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  }
  if (rest.length === 0) fail(s, 'missing repository name');
  const components = rest.split('/');
  for (const c of components) {
    if (!COMPONENT.test(c)) fail(s, `repository component ${JSON.stringify(c)} must be lower-case alphanumerics separated by '.', '_', '__' or '-'`);
  }
  let repository = rest;
  if (registry === DOCKER_HUB && components.length === 1) repository = `library/${rest}`;
  if (registry.length + 1 + repository.length > 255) fail(s, 'name longer than 255 characters');
  const ref: Reference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

export function formatRepository(r: RepositoryRef): string {
  return `${r.registry}/${r.repository}`;
}

export function formatReference(r: Reference): string {
  return `${r.registry}/${r.repository}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}

/** The host that serves the registry API: Docker Hub's API lives on registry-1.docker.io. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
}

export function isLoopback(registry: string): boolean {
  let host = registry;
  if (host.startsWith('[')) host = host.slice(1, host.indexOf(']'));
  else if (host.includes(':')) host = host.slice(0, host.lastIndexOf(':'));
  host = host.toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
