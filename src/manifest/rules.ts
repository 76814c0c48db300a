// The value rules shared by every manifest format (digests, tags, names, registries, durations, secret detection)
// and the translation of zod issues into located ManifestErrors.
import { z } from 'zod';
import { COMPONENT_PATTERN, DIGEST_RE, TAG_RE } from '../model';
import type { ManifestError } from './errors';
import { pathString, pathString as shown, type PathSeg, type YamlFile } from './yamldoc';

/** zod messages carry "problem|expected" so one string yields both halves of a ManifestError. */
export const says = (problem: string, expected: string): string => `${problem}|${expected}`;

/** OCI distribution repository path components. */
export const IMAGE_NAME_RE = new RegExp(`^${COMPONENT_PATTERN}(?:/${COMPONENT_PATTERN})*$`);
/** host[:port][/path], lowercase. */
export const REGISTRY_RE = new RegExp(`^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]{1,5})?(?:/${COMPONENT_PATTERN})*$`);

export const digestSchema = z.string({ error: says('is not a digest', 'a string sha256:<64 hex>') }).regex(DIGEST_RE, says('is not a digest', 'sha256: followed by 64 lowercase hex characters'));
export const tagSchema = z.string({ error: says('is not a tag', 'a string') }).regex(TAG_RE, says('is not a valid tag', 'a tag matching ^\\w[\\w.-]{0,127}$'));
export const imageNameSchema = z.string({ error: says('is not an image name', 'a string') }).regex(IMAGE_NAME_RE, says('is not a valid image name', 'lowercase repository path components like foo/bar-baz'));
export const registrySchema = z.string({ error: says('is not a registry', 'a string host[:port][/path]') }).regex(REGISTRY_RE, says('is not a valid registry', 'lowercase host[:port][/path] without scheme or trailing slash'));

const DURATION_RE = /^(?=\d)(?:(\d{1,6})h)?(?:(\d{1,6})m)?(?:(\d{1,7})s)?$/;
/** `30s`, `5m`, `1h30m`, `0s` → seconds; undefined when malformed. */
export function parseDuration(s: string): number | undefined {
  const m = DURATION_RE.exec(s);
  if (!m) return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}
// A regex rather than a refinement so that the JSON Schema carries the rule too.
export const durationSchema = z
  .string({ error: says('is not a duration', 'a string like 30s, 5m, 1h or 1h30m') })
  .regex(DURATION_RE, says('is not a duration', 'a string like 30s, 5m, 1h or 1h30m'));

/** Field names that would hold a secret inline: refused anywhere in a manifest. */
const SECRET_KEYS = new Set(['password', 'passwd', 'pass', 'token', 'secret', 'auth', 'identitytoken', 'accesstoken', 'registrytoken', 'privatekey', 'apikey', 'clientsecret', 'credential']);

export function isSecretKey(k: string): boolean {
  return SECRET_KEYS.has(k.toLowerCase().replace(/[-_]/g, ''));
}

const PEM_RE = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/** Finds inline secrets (by field name, or a PEM private key as any value) anywhere in the data. */
export function findInlineSecrets(y: YamlFile, data: unknown, base: PathSeg[] = []): ManifestError[] {
  const out: ManifestError[] = [];
  const walk = (v: unknown, path: PathSeg[]) => {
    if (typeof v === 'string' && PEM_RE.test(v)) {
      out.push({ file: y.file, ...y.locate(path), path: pathString(path), value: '<redacted>', message: 'is an inline private key', expected: 'a key reference such as env://VAR or file://path' });
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (isSecretKey(k)) {
          out.push({
            file: y.file,
            ...y.locate([...path, k], true),
            path: pathString([...path, k]),
            message: 'inline secrets are not allowed',
            expected: 'no secret in a manifest: credentials are bound to registry hosts in the worker’s credential configuration; a registry may name one (credentials: <name>)',
          });
        } else walk(x, [...path, k]);
      }
    }
  };
  walk(data, base);
  return out;
}

function valueAt(data: unknown, path: readonly PathSeg[]): unknown {
  let v: unknown = data;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[seg as string];
  }
  return v;
}

/** zod issues → ManifestErrors located in the YAML; `root` is the data the schema was applied to, at `base`. */
export function zodErrors(y: YamlFile, issues: readonly z.core.$ZodIssue[], root: unknown, base: PathSeg[] = [], displayBase: PathSeg[] = base): ManifestError[] {
  const out: ManifestError[] = [];
  // Located by `base` (where the data sits in the YAML), shown with `displayBase` (e.g. images.yaml's list as `images`).
  const pathString = (p: PathSeg[]) => shown([...displayBase, ...p.slice(base.length)]);
  for (const issue of issues) {
    const rel = issue.path as PathSeg[];
    const path = [...base, ...rel];
    const [problem, expected] = issue.message.includes('|') ? issue.message.split('|', 2) : [undefined, undefined];
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) {
        if (isSecretKey(k)) continue; // reported by findInlineSecrets, without echoing the value
        out.push({ file: y.file, ...y.locate([...path, k], true), path: pathString([...path, k]), message: 'unknown field', expected: `only the fields this format defines (check spelling and indentation)` });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      const key = rel[rel.length - 1];
      const inner = issue.issues[0]?.message ?? '';
      const [p2, e2] = inner.includes('|') ? inner.split('|', 2) : ['is not a valid key', undefined];
      out.push({ file: y.file, ...y.locate(path, true), path: pathString(path.slice(0, -1)), value: key, message: p2!, expected: e2 });
      continue;
    }
    const value = valueAt(root, rel);
    if (typeof value === 'string' && PEM_RE.test(value)) continue; // reported by findInlineSecrets, redacted
    if (value === undefined && issue.code === 'invalid_type') {
      out.push({ file: y.file, ...y.locate(path, true), path: pathString(path), message: 'is required', expected: problem ? expected : String(issue.expected) });
      continue;
    }
    let message = problem ?? issue.message;
    let exp = expected;
    if (!problem) {
      if (issue.code === 'invalid_type') {
        message = 'has the wrong type';
        exp = String(issue.expected);
      } else if (issue.code === 'invalid_value') {
        message = 'is not allowed';
        exp = `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      } else if (issue.code === 'invalid_union') {
        message = 'matches none of the allowed forms';
        exp = undefined;
      } else if (issue.code === 'too_small' || issue.code === 'too_big') {
        message = issue.message.replace(/^Too (small|big): expected \w+ to /, 'must ');
        exp = undefined;
      }
    }
    const safeValue = typeof value === 'object' && value !== null ? undefined : value;
    out.push({ file: y.file, ...y.locate(path), path: pathString(path), value: safeValue, message, expected: exp });
  }
  return out;
}
