// Credential sources keyed by registry host: static maps (PROMOFLOW_REGISTRY_AUTH) and docker's config.json
// (auths, credHelpers, credsStore through the docker-credential-helper protocol). Which source serves which host
// is decided by the operator's bindings (credential-bindings.ts). Nothing here logs or echoes a secret; errors name
// the registry and the helper only.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { IDENTITY_TOKEN_USER, type Credential, type CredentialSource } from './auth';
import { DOCKER_HUB, normaliseRegistry } from '../model';


const AuthEntry = z
  .object({
    auth: z.string().optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    identitytoken: z.string().optional(),
    registrytoken: z.string().optional(),
  })
  .loose();

const DockerConfig = z
  .object({
    auths: z.record(z.string(), AuthEntry).optional(),
    credHelpers: z.record(z.string(), z.string()).optional(),
    credsStore: z.string().optional(),
  })
  .loose();
export type DockerConfig = z.infer<typeof DockerConfig>;

const HelperOutput = z.object({ Username: z.string().optional(), Secret: z.string() }).loose();

/** Parse a docker config.json; the error names the file, never its content (it holds secrets). */
export function parseDockerConfig(text: string, path: string): DockerConfig {
  try {
    return DockerConfig.parse(JSON.parse(text));
  } catch {
    throw new Error(`docker config ${path} is not a docker config.json ({"auths": {...}, "credHelpers": {...}, "credsStore": "..."})`);
  }
}

/** The config.json key forms that name one registry. */
export function hostOfKey(key: string): string {
  let k = key.trim();
  k = k.replace(/^[a-z]+:\/\//i, '');
  k = k.split('/')[0] ?? k;
  return normaliseRegistry(k);
}

/** The server name docker passes to credential helpers for a registry. */
function helperServer(registry: string): string {
  return registry === DOCKER_HUB ? 'https://index.docker.io/v1/' : registry;
}

function fromEntry(e: z.infer<typeof AuthEntry>): Credential | undefined {
  if (e.registrytoken) return { token: e.registrytoken };
  if (e.identitytoken) return { username: IDENTITY_TOKEN_USER, password: e.identitytoken };
  if (e.username !== undefined && e.password !== undefined) return { username: e.username, password: e.password };
  if (e.auth) {
    const raw = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = raw.indexOf(':');
    if (i > 0) return { username: raw.slice(0, i), password: raw.slice(i + 1) };
  }
  return undefined;
}

export type HelperRunner = (helper: string, server: string) => Promise<{ username?: string; secret: string } | undefined>;

/** Run `docker-credential-<name> get`; undefined when the helper has nothing for the server. */
export const runCredentialHelper: HelperRunner = (helper, server) =>
  new Promise((resolve, reject) => {
    if (!/^[\w.-]+$/.test(helper)) return reject(new Error(`credential helper name ${JSON.stringify(helper)} is invalid`));
    const child = execFile(`docker-credential-${helper}`, ['get'], { timeout: 30_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        if (/credentials not found/i.test(`${stdout}${stderr}`)) return resolve(undefined);
        // stderr of a helper could echo input; report only the helper and the exit status.
        return reject(new Error(`docker-credential-${helper} get failed for ${server} (${(err as NodeJS.ErrnoException).code ?? 'error'})`));
      }
      try {
        const out = HelperOutput.parse(JSON.parse(stdout));
        resolve({ ...(out.Username !== undefined ? { username: out.Username } : {}), secret: out.Secret });
      } catch {
        reject(new Error(`docker-credential-${helper} get returned unreadable output for ${server}`));
      }
    });
    child.stdin?.end(server);
  });

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
}

/** Credentials from a parsed docker config (credHelpers → auths → credsStore, as docker resolves them). */
export function credentialsFromDockerConfig(cfg: DockerConfig, run: HelperRunner = runCredentialHelper): CredentialSource {
  const auths = new Map<string, z.infer<typeof AuthEntry>>();
  for (const [k, v] of Object.entries(cfg.auths ?? {})) if (!auths.has(hostOfKey(k))) auths.set(hostOfKey(k), v);
  const helpers = new Map<string, string>();
  for (const [k, v] of Object.entries(cfg.credHelpers ?? {})) helpers.set(hostOfKey(k), v);
  return async (registry) => {
    const reg = normaliseRegistry(registry);
    const helper = helpers.get(reg);
    const viaHelper = async (h: string): Promise<Credential | undefined> => {
      const r = await run(h, helperServer(reg));
      if (!r) return undefined;
      if (r.username === IDENTITY_TOKEN_USER) return { username: IDENTITY_TOKEN_USER, password: r.secret };
      return { username: r.username ?? '', password: r.secret };
    };
    if (helper) return viaHelper(helper);
    const e = auths.get(reg);
    const fromAuths = e ? fromEntry(e) : undefined;
    if (fromAuths) return fromAuths;
    if (cfg.credsStore) return viaHelper(cfg.credsStore);
    return undefined;
  };
}

/** Credentials from docker's config.json (DOCKER_CONFIG or ~/.docker), read on every call (rotation); no file means anonymous. */
export function dockerConfigCredentials(opts: { path?: string; run?: HelperRunner } = {}): CredentialSource {
  return async (registry) => {
    const path = opts.path ?? dockerConfigPath();
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`cannot read docker config ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return credentialsFromDockerConfig(parseDockerConfig(text, path), opts.run)(registry);
  };
}

const EnvCredentials = z.record(z.string(), z.union([z.object({ username: z.string(), password: z.string() }), z.object({ token: z.string() })]));

/** Per-registry credentials, e.g. from CLI flags or a secret mount: `{ "host:port": { username, password } | { token } }`. */
export function staticCredentials(map: Record<string, Credential>): CredentialSource {
  const m = new Map(Object.entries(map).map(([k, v]) => [hostOfKey(k), v]));
  return async (registry) => m.get(normaliseRegistry(registry));
}

/** PROMOFLOW_REGISTRY_AUTH: JSON object of per-registry credentials (see staticCredentials). */
export function envCredentials(env: NodeJS.ProcessEnv = process.env): CredentialSource {
  const raw = env.PROMOFLOW_REGISTRY_AUTH;
  if (!raw) return async () => undefined;
  let parsed: Record<string, Credential>;
  try {
    parsed = EnvCredentials.parse(JSON.parse(raw));
  } catch {
    // Never echo the value: it holds secrets.
    throw new Error('PROMOFLOW_REGISTRY_AUTH is not a JSON object of {"registry": {"username","password"} | {"token"}}');
  }
  return staticCredentials(parsed);
}
