// Which credential serves which registry host: the operator's credential configuration (a YAML/JSON file named by
// `--credentials` or PROMOFLOW_CREDENTIALS, on the worker and on the CLI host that plans). A manifest can at most
// name one of these bindings; it never names a variable, a path or a helper, and a binding's secret is only ever
// handed out for a host it is bound to. Secrets are read when asked for (not cached here), so a rotated secret is
// picked up by the next read; the auth transport decides when to ask again (expiry, 401).
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { IDENTITY_TOKEN_USER, type Credential, type CredentialSource } from './auth';
import { credentialsFromDockerConfig, dockerConfigPath, envCredentials, hostOfKey, parseDockerConfig, runCredentialHelper, type HelperRunner } from './credentials';
import { normaliseRegistry } from '../model';

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const HOST = /^(\[[0-9a-f:]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:\d{1,5})?$/;
const ENV_VAR = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const CREDENTIALS_ENV = 'PROMOFLOW_CREDENTIALS';

const envSource = z.union([
  z.strictObject({ username: z.string().regex(ENV_VAR).optional(), password: z.string().regex(ENV_VAR) }),
  z.strictObject({ token: z.string().regex(ENV_VAR) }),
]);
const fileSource = z.strictObject({ path: z.string().min(1), format: z.enum(['basic', 'token', 'docker-config']).default('basic') });

const Binding = z
  .strictObject({
    name: z.string().regex(NAME, 'a name is lowercase letters, digits, dots, dashes and underscores'),
    hosts: z.array(z.string().transform((h) => h.toLowerCase()).pipe(z.string().regex(HOST, 'a host is host[:port], e.g. registry.example.com or 10.0.0.5:5000'))).min(1).optional(),
    env: envSource.optional(),
    file: fileSource.optional(),
    dockerConfig: z.union([z.literal(true), z.strictObject({ path: z.string().min(1).optional() })]).optional(),
    helper: z.string().regex(/^[\w.-]+$/, 'the helper name X of docker-credential-X').optional(),
  })
  .superRefine((b, ctx) => {
    const kinds = (['env', 'file', 'dockerConfig', 'helper'] as const).filter((k) => b[k] !== undefined);
    if (kinds.length !== 1) ctx.addIssue({ code: 'custom', message: `needs exactly one of env, file, dockerConfig or helper (has ${kinds.length ? kinds.join(', ') : 'none'})` });
    if (!b.hosts && b.dockerConfig === undefined) ctx.addIssue({ code: 'custom', path: ['hosts'], message: 'is required: the registry hosts this credential may be sent to' });
  });

const ConfigFile = z.strictObject({ credentials: z.array(Binding) }).superRefine((c, ctx) => {
  const seen = new Set<string>();
  c.credentials.forEach((b, i) => {
    if (seen.has(b.name)) ctx.addIssue({ code: 'custom', path: ['credentials', i, 'name'], message: `${b.name} is declared twice` });
    seen.add(b.name);
  });
});

/** A credential configuration problem: one line naming the file, the field, the value and the fix. */
export class CredentialConfigError extends Error {
  override name = 'CredentialConfigError';
}

/** A manifest asked for a credential that this host does not have, or that is not bound to the registry's host. */
export class CredentialBindingError extends Error {
  override name = 'CredentialBindingError';
}

interface ResolvedBinding {
  name: string;
  /** Hosts this binding may be sent to; undefined = the hosts its docker config names (auths, credHelpers, credsStore). */
  hosts?: ReadonlySet<string>;
  read(host: string): Promise<Credential | undefined>;
  bound(host: string): boolean;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${what}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function dockerConfigAt(path: string, what: string): ReturnType<typeof parseDockerConfig> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${what}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseDockerConfig(text, path);
}

function resolveBinding(b: z.infer<typeof Binding>, env: NodeJS.ProcessEnv, run: HelperRunner): ResolvedBinding {
  const hosts = b.hosts ? new Set(b.hosts.map(normaliseRegistry)) : undefined;
  const what = `credential ${b.name}`;
  const boundTo = (host: string) => hosts?.has(normaliseRegistry(host)) ?? false;
  if (b.env) {
    const e = b.env;
    return {
      name: b.name, hosts, bound: boundTo,
      read: async () => {
        if ('token' in e) {
          const token = env[e.token];
          if (token === undefined) throw new Error(`${what}: environment variable ${e.token} is not set`);
          return { token };
        }
        const password = env[e.password];
        if (password === undefined) throw new Error(`${what}: environment variable ${e.password} is not set`);
        const username = e.username ? env[e.username] : undefined;
        if (e.username && username === undefined) throw new Error(`${what}: environment variable ${e.username} is not set`);
        return username !== undefined ? { username, password } : { token: password };
      },
    };
  }
  if (b.file) {
    const f = b.file;
    return {
      name: b.name, hosts, bound: boundTo,
      read: async (host) => {
        if (f.format === 'docker-config') {
          const cfg = dockerConfigAt(f.path, what);
          return cfg ? credentialsFromDockerConfig(cfg, run)(host) : undefined;
        }
        const text = readText(f.path, what).trim();
        if (f.format === 'token') return { token: text };
        const i = text.indexOf(':');
        if (i <= 0) throw new Error(`${what}: ${f.path} does not hold username:password (format: basic); use format: token for a bare token`);
        return { username: text.slice(0, i), password: text.slice(i + 1) };
      },
    };
  }
  if (b.helper) {
    const helper = b.helper;
    return {
      name: b.name, hosts, bound: boundTo,
      read: async (host) => {
        const r = await run(helper, host);
        if (!r) return undefined;
        return r.username === IDENTITY_TOKEN_USER ? { username: IDENTITY_TOKEN_USER, password: r.secret } : { username: r.username ?? '', password: r.secret };
      },
    };
  }
  const path = b.dockerConfig === true || b.dockerConfig?.path === undefined ? dockerConfigPath(env) : b.dockerConfig.path;
  return dockerConfigBinding(b.name, path, hosts, run);
}

/**
 * A docker config.json as a binding. Without explicit hosts it is bound to the hosts the file itself names (auths
 * and credHelpers keys): docker's own rule. A credsStore answers only for hosts it stores, so it is asked for any
 * host the binding is bound to.
 */
function dockerConfigBinding(name: string, path: string, hosts: ReadonlySet<string> | undefined, run: HelperRunner): ResolvedBinding {
  const what = `credential ${name}`;
  const namedHosts = (): Set<string> => {
    const cfg = dockerConfigAt(path, what);
    return new Set([...Object.keys(cfg?.auths ?? {}), ...Object.keys(cfg?.credHelpers ?? {})].map(hostOfKey));
  };
  return {
    name,
    ...(hosts ? { hosts } : {}),
    bound: (host) => {
      const h = normaliseRegistry(host);
      if (hosts) return hosts.has(h);
      const cfg = dockerConfigAt(path, what);
      return !!cfg?.credsStore || namedHosts().has(h);
    },
    read: async (host) => {
      const cfg = dockerConfigAt(path, what);
      return cfg ? credentialsFromDockerConfig(cfg, run)(normaliseRegistry(host)) : undefined;
    },
  };
}

/** How a registry endpoint authenticates: which binding (by name, if the manifest named one) on which host. */
export interface CredentialChoice {
  /** The binding used, or `anonymous`; part of the auth cache key so two choices never share a token. */
  id: string;
  source: CredentialSource;
}

export class CredentialBindings {
  private constructor(
    private readonly explicit: ResolvedBinding[],
    private readonly implicit: ResolvedBinding[],
    /** Where the configuration came from, for messages. */
    readonly origin: string,
  ) {}

  /**
   * The configuration of this process: the file named by `path` (or PROMOFLOW_CREDENTIALS), then the implicit
   * bindings every docker user expects, both bound to hosts by construction: PROMOFLOW_REGISTRY_AUTH (JSON keyed by
   * host) and the docker config.json (DOCKER_CONFIG or ~/.docker).
   */
  static load(opts: { path?: string; env?: NodeJS.ProcessEnv; run?: HelperRunner } = {}): CredentialBindings {
    const env = opts.env ?? process.env;
    const run = opts.run ?? runCredentialHelper;
    const path = opts.path ?? env[CREDENTIALS_ENV];
    const explicit = path ? CredentialBindings.parseFile(path, env, run) : [];
    const fromEnv = envCredentials(env);
    const implicit: ResolvedBinding[] = [
      { name: 'registry-auth-env', bound: () => true, read: (h) => fromEnv(normaliseRegistry(h)) },
      dockerConfigBinding('docker-config', dockerConfigPath(env), undefined, run),
    ];
    return new CredentialBindings(explicit, implicit, path ?? 'no credential configuration');
  }

  /** No credentials at all (anonymous everywhere). */
  static none(): CredentialBindings {
    return new CredentialBindings([], [], 'no credentials');
  }

  private static parseFile(path: string, env: NodeJS.ProcessEnv, run: HelperRunner): ResolvedBinding[] {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new CredentialConfigError(`${path}: cannot read the credential configuration (${(e as NodeJS.ErrnoException).code ?? 'error'}); fix --credentials / ${CREDENTIALS_ENV}`);
    }
    let raw: unknown;
    try {
      raw = parseYaml(text, { uniqueKeys: true });
    } catch (e) {
      throw new CredentialConfigError(`${path}: not valid YAML/JSON (${(e as Error).message.split('\n')[0]})`);
    }
    const parsed = ConfigFile.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length ? issue.path.join('.') : '(top level)';
      const value = issue.path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<PropertyKey, unknown>)[k as PropertyKey] : undefined), raw);
      // Values here are names, hosts and variable names, never secrets (secrets are never in this file).
      const shown = value === undefined ? '' : ` (value ${JSON.stringify(value)?.slice(0, 80)})`;
      throw new CredentialConfigError(`${path}: ${field}${shown}: ${issue.message}; expected credentials: [{name, hosts: [host], env|file|dockerConfig|helper}] (see README, Registry credentials)`);
    }
    return parsed.data.credentials.map((b) => resolveBinding(b, env, run));
  }

  names(): string[] {
    return this.explicit.map((b) => b.name);
  }

  /**
   * The credential for `host`, as an endpoint asks for it. With a name: that binding, which must be bound to the
   * host (`strict`, the worker: otherwise an error; not strict, a planning host without that secret: anonymous).
   * Without: the first configured binding bound to the host, then the implicit ones.
   */
  choose(host: string, name: string | undefined, opts: { strict: boolean }): CredentialChoice {
    const h = normaliseRegistry(host);
    if (name !== undefined) {
      const b = this.explicit.find((x) => x.name === name);
      if (!b) {
        if (!opts.strict) return this.choose(host, undefined, opts);
        const have = this.names();
        throw new CredentialBindingError(`the manifest names credential ${JSON.stringify(name)} for ${h}, which this worker does not define (${this.origin}${have.length ? `: ${have.join(', ')}` : ''}); declare it in the worker's credential configuration, bound to ${h}`);
      }
      if (!b.bound(h)) {
        throw new CredentialBindingError(`the manifest names credential ${JSON.stringify(name)} for ${h}, but it is bound to ${b.hosts ? [...b.hosts].join(', ') : 'the hosts of its docker config'}: a credential is only sent to its own hosts; bind it to ${h} in ${this.origin} or name another`);
      }
      return { id: `binding:${b.name}`, source: (r) => (normaliseRegistry(r) === h ? b.read(h) : Promise.resolve(undefined)) };
    }
    const candidates = [...this.explicit.filter((b) => b.bound(h)), ...this.implicit];
    if (candidates.length === 0) return { id: 'anonymous', source: async () => undefined };
    return {
      id: `host:${candidates.filter((b) => b.bound(h)).map((b) => b.name).join('+')}`,
      source: async (r) => {
        if (normaliseRegistry(r) !== h) return undefined;
        for (const b of candidates) {
          if (!b.bound(h)) continue;
          const c = await b.read(h);
          if (c) return c;
        }
        return undefined;
      },
    };
  }
}
