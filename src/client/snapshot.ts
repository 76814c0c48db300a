// `promoflow snapshot <registry/prefix>`: what a registry holds under a prefix, as kpromo's images.yaml
// (`- name: X` / `dmap: {"sha256:…": [tags]}`) or as CSV (name,digest,tag). Repositories come from the catalog
// API (paginated), tags from the tags list; cosign and referrers tags are artifacts of an image, not images, and
// are left out. A snapshot of production is the starting manifest for adopting promoflow on an existing registry.
import { headManifest, listRepositories, listTags, mapLimit, RegistryClient } from '../oci';
import { isArtifactTag, parseRegistryPrefix } from '../model';
import { CliError, EXIT } from './exit-codes';
import type { Io } from './promote';

export interface SnapshotImage {
  name: string;
  dmap: Record<string, string[]>;
}

/** Snapshot every repository under `prefix` (`host[:port][/path]`); names are relative to the prefix. */
export async function snapshot(client: RegistryClient, prefix: string, opts: { concurrency?: number } = {}): Promise<SnapshotImage[]> {
  const { host: registry, path } = parseRegistryPrefix(prefix);
  const all = await listRepositories(client, registry);
  const repos = path ? all.filter((r) => r === path || r.startsWith(`${path}/`)) : all;
  const images = await mapLimit(repos.sort(), opts.concurrency ?? 4, async (repository) => {
    const repo = { registry, repository };
    const tags = (await listTags(client, repo)).filter((t) => !isArtifactTag(t));
    const heads = await mapLimit(tags, 8, async (t) => [t, (await headManifest(client, repo, t))?.digest] as const);
    const dmap: Record<string, string[]> = {};
    for (const [t, d] of heads) if (d) (dmap[d] ??= []).push(t);
    for (const d of Object.keys(dmap)) dmap[d]!.sort();
    const name = path && repository !== path ? repository.slice(path.length + 1) : repository === path ? repository.split('/').pop()! : repository;
    return { name, dmap: Object.fromEntries(Object.entries(dmap).sort(([a], [b]) => a.localeCompare(b))) };
  });
  return images.filter((i) => Object.keys(i.dmap).length > 0);
}

export function toImagesYaml(images: readonly SnapshotImage[]): string {
  const lines: string[] = [];
  for (const i of images) {
    lines.push(`- name: ${i.name}`, '  dmap:');
    for (const [d, tags] of Object.entries(i.dmap)) lines.push(`    "${d}": [${tags.map((t) => `"${t}"`).join(', ')}]`);
  }
  return lines.join('\n');
}

export function toCsv(images: readonly SnapshotImage[]): string {
  const lines = ['name,digest,tag'];
  for (const i of images) for (const [d, tags] of Object.entries(i.dmap)) for (const t of tags) lines.push(`${i.name},${d},${t}`);
  return lines.join('\n');
}

export async function runSnapshot(opts: { prefix: string; format: 'yaml' | 'csv' }, io: Io): Promise<number> {
  const client = new RegistryClient();
  try {
    const images = await snapshot(client, opts.prefix);
    io.stdout(opts.format === 'csv' ? toCsv(images) : toImagesYaml(images));
    return EXIT.OK;
  } catch (e) {
    throw new CliError(`snapshot of ${opts.prefix}: ${(e as Error).message.split('\n')[0]}`, EXIT.UNAVAILABLE);
  } finally {
    client.close();
  }
}
