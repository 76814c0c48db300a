// Resolves credential references (an env var or a file name from the manifest) into secrets, inside the worker
// process only. Secrets never leave this module except as the Authorization the OCI client sends to that registry.
import { readFileSync } from 'node:fs';
import { hostOf } from '../model';
import type { CredentialRef } from '../manifest';
import type { EndpointRef } from '../contract';
import type { RegistryLimitStore } from './registry-limits';

export type Secret = { username: string; password: string } | { token: string };

export function resolveCredentialRef(ref: CredentialRef): Secret | undefined {
  switch (ref.kind) {
    case 'env': {
      const password = process.env[ref.passwordEnv];
      if (password === undefined) throw new Error(`credentials: environment variable ${ref.passwordEnv} is not set on the worker`);
      const username = ref.usernameEnv ? process.env[ref.usernameEnv] : ref.username;
      return username ? { username, password } : { token: password };
    }
    case 'file': {
      // A file holding `username:password` or a bare token, as mounted by Kubernetes secrets.
      let text: string;
      try {
        text = readFileSync(ref.path, 'utf8').trim();
      } catch (e) {
        throw new Error(`credentials: cannot read ${ref.path} on the worker (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      const i = text.indexOf(':');
      return i > 0 ? { username: text.slice(0, i), password: text.slice(i + 1) } : { token: text };
    }
    case 'docker-config':
      return undefined; // the OCI client's own docker config lookup applies
  }
}

/**
 * Credentials per registry host, registered from activity inputs and read by the OCI client. Registering an
 * endpoint also registers its request limits with the worker's limit store, when there is one.
 */
export class CredentialStore {
  private readonly refs = new Map<string, CredentialRef>();
  private readonly plainHttp = new Set<string>();

  constructor(private readonly limits?: RegistryLimitStore) {}

  register(endpoint: EndpointRef): void {
    const host = hostOf(endpoint.registry);
    if (endpoint.credentials) this.refs.set(host, endpoint.credentials);
    // A manifest that marks a registry insecure allows plain HTTP to it (loopback always may).
    if (endpoint.insecure) this.plainHttp.add(host);
    this.limits?.register(endpoint);
  }

  insecure(host: string): boolean {
    return this.plainHttp.has(host);
  }

  lookup(host: string): Secret | undefined {
    const ref = this.refs.get(host);
    return ref ? resolveCredentialRef(ref) : undefined;
  }
}
