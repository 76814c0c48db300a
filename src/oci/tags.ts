// Tag listing with pagination: follows the Link header (rel="next") until the registry stops sending one.
import { z } from 'zod';
import type { RegistryClient } from './client';
import { OciError, ReadMismatchError } from './errors';
import { sha256 } from './digest';
import { rereading } from './retry';
import { formatRepository, isTag, type RepositoryRef } from '../model';
import { discard, header, readBody } from './transport';

const TagList = z.object({ name: z.string().optional(), tags: z.array(z.string()).nullable().optional() }).loose();

/** The `rel="next"` target of a Link header, if any. */
export function nextLink(link: string | undefined): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]*)>\s*;(.*)$/.exec(part.trim());
    if (m && /(^|;)\s*rel\s*=\s*"?next"?\s*(;|$)/i.test(m[2] ?? '')) return m[1];
  }
  return undefined;
}

/** Every tag of a repository, page by page (`pageSize` is a hint the registry may lower). */
export async function* iterateTags(c: RegistryClient, repo: RepositoryRef, opts: { pageSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<string[]> {
  let url: URL = await c.url(repo, `tags/list${opts.pageSize ? `?n=${opts.pageSize}` : ''}`);
  const what = `list tags of ${formatRepository(repo)}`;
  for (let page = 0; ; page++) {
    if (page > 100_000) throw new OciError(`${what}: pagination does not end`);
    const pageUrl = url;
    // A page cut off or garbled in transit is read again; the same invalid page twice is the registry's answer.
    const got = await rereading(async () => {
      const res = await c.send(repo, { method: 'GET', path: pageUrl, headers: { accept: 'application/json' }, scopes: [`repository:${repo.repository}:pull`], ...(opts.signal ? { signal: opts.signal } : {}) });
      if (res.status === 404) {
        // distribution answers NAME_UNKNOWN for a repository with no tags yet.
        await discard(res);
        return undefined;
      }
      if (res.status !== 200) throw await c.error(res, { what, registry: repo.registry });
      const body = await readBody(res, 16 << 20);
      let tags: string[];
      try {
        tags = TagList.parse(JSON.parse(body.toString('utf8'))).tags ?? [];
      } catch {
        throw new ReadMismatchError(`${what}: the registry returned an invalid tag list`, sha256(body));
      }
      // A byte flipped inside a tag name still parses: a name outside the tag grammar is a garbled list.
      const bad = tags.find((t) => !isTag(t));
      if (bad !== undefined) throw new ReadMismatchError(`${what}: the registry returned an invalid tag list (${JSON.stringify(bad)} is not a tag)`, sha256(body));
      return { tags, link: header(res, 'link') };
    }, c.retry, opts.signal);
    if (!got) return;
    yield got.tags;
    const next = nextLink(got.link);
    if (!next) return;
    const u = new URL(next, url);
    if (u.origin !== url.origin) throw new OciError(`${what}: pagination link points to another host (${u.host}); refusing to follow it`);
    url = u;
  }
}

export async function listTags(c: RegistryClient, repo: RepositoryRef, opts: { pageSize?: number; signal?: AbortSignal } = {}): Promise<string[]> {
  const all: string[] = [];
  for await (const page of iterateTags(c, repo, opts)) all.push(...page);
  return all;
}
