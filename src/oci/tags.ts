// Tag listing with pagination: follows the Link header (rel="next") until the registry stops sending one, streamed
// page by page and bounded by the registry's maxTags (a hostile registry may send 130,000 tags in one page).
import { z } from 'zod';
import type { RegistryClient } from './client';
import { OciError, ReadMismatchError } from './errors';
import { sha256 } from './digest';
import { rereading } from './retry';
import { limitHint, formatRepository, isTag, type RepositoryRef } from '../model';
import { nextPage } from './pagination';
import { discard, readBody } from './transport';

const TagList = z
  .object({
    name: z.string().optional(),
    tags: z.array(z.string()).nullable().optional(),
    // gcr.io and Artifact Registry: digest → its tags (kpromo reads digests from this instead of one HEAD per tag).
    manifest: z.record(z.string(), z.object({ tag: z.array(z.string()).nullable().optional() }).loose()).optional(),
  })
  .loose();

/** One page of a tag listing: its tags, and the digest → tags map when the registry sends one. */
export interface TagPage {
  tags: string[];
  manifest?: Record<string, string[]>;
}

/** Every tag of a repository, page by page (`pageSize` is a hint the registry may lower). */
export async function* iterateTags(c: RegistryClient, repo: RepositoryRef, opts: { pageSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<string[]> {
  for await (const page of iterateTagPages(c, repo, opts)) yield page.tags;
}

/** Every page of a repository's tag listing, with the registry's digest map when it sends one. */
export async function* iterateTagPages(c: RegistryClient, repo: RepositoryRef, opts: { pageSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<TagPage> {
  let url: URL = await c.url(repo, `tags/list${opts.pageSize ? `?n=${opts.pageSize}` : ''}`);
  const what = `list tags of ${formatRepository(repo)}`;
  const { maxTags } = c.limitsFor(repo.registry);
  let seen = 0;
  let empty = 0;
  for (;;) {
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
      let manifest: Record<string, string[]> | undefined;
      try {
        const list = TagList.parse(JSON.parse(body.toString('utf8')));
        tags = list.tags ?? [];
        if (list.manifest) manifest = Object.fromEntries(Object.entries(list.manifest).map(([d, m]) => [d, m.tag ?? []]));
      } catch {
        throw new ReadMismatchError(`${what}: the registry returned an invalid tag list`, sha256(body));
      }
      // A byte flipped inside a tag name still parses: a name outside the tag grammar is a garbled list.
      const bad = tags.find((t) => !isTag(t));
      if (bad !== undefined) throw new ReadMismatchError(`${what}: the registry returned an invalid tag list (${JSON.stringify(bad)} is not a tag)`, sha256(body));
      return { tags, manifest, next: nextPage(res, pageUrl, what) };
    }, c.retry, opts.signal);
    if (!got) return;
    seen += got.tags.length;
    // Every page is non-empty or the last: an endless run of empty pages also ends here, at most maxTags + 1 pages.
    if (seen > maxTags) throw new OciError(`${what}: more than ${maxTags} tags; ${limitHint(repo.registry, 'maxTags')}`, { code: 'TOO_MANY_TAGS' });
    yield { tags: got.tags, ...(got.manifest ? { manifest: got.manifest } : {}) };
    if (!got.next) return;
    if (got.tags.length === 0 && ++empty > 1) throw new OciError(`${what}: the registry keeps sending empty pages`);
    url = got.next;
  }
}

export async function listTags(c: RegistryClient, repo: RepositoryRef, opts: { pageSize?: number; signal?: AbortSignal } = {}): Promise<string[]> {
  const all: string[] = [];
  // One push per tag: spreading a 130,000-element page into push() overflows the call stack.
  for await (const page of iterateTags(c, repo, opts)) for (const t of page) all.push(t);
  return all;
}
