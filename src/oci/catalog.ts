// The catalog API: every repository of a registry (`/v2/_catalog`, following Link pagination). Registries that do
// not offer it answer 404, reported as such.
import { z } from 'zod';
import type { RegistryClient } from './client';
import { OciError } from './errors';
import type { RepositoryRef } from '../model';
import { nextLink } from './tags';
import { discard, header, readBody } from './transport';

const Catalog = z.object({ repositories: z.array(z.string()).nullable().optional() }).loose();

/** Every repository of a registry (catalog API, following Link pagination). */
export async function listRepositories(client: RegistryClient, registry: string): Promise<string[]> {
  const at: RepositoryRef = { registry, repository: '' };
  let url = new URL('/v2/_catalog?n=1000', await client.base(registry));
  const out: string[] = [];
  for (let page = 0; page < 100_000; page++) {
    const res = await client.send(at, { method: 'GET', path: url, headers: { accept: 'application/json' }, scopes: ['registry:catalog:*'] });
    if (res.status !== 200) {
      if (res.status === 404) await discard(res);
      throw res.status === 404 ? new OciError(`${registry} has no catalog API: name the repository (registry/repo) instead`) : await client.error(res, { what: `list repositories of ${registry}`, registry });
    }
    const body = Catalog.parse(JSON.parse((await readBody(res, 16 << 20)).toString('utf8')));
    out.push(...(body.repositories ?? []));
    const next = nextLink(header(res, 'link'));
    if (!next) break;
    url = new URL(next, url);
  }
  return out;
}

