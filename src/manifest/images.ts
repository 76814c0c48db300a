// The image list (`- name: X` / `dmap: {digest: [tags]}`) shared by kpromo images.yaml, inline kpromo images and the
// native format: validates every entry, reports all problems with locations, and — when asked to isolate — drops
// only the smallest invalid unit (one digest entry, or one image entry) so that the rest still loads.
import { z } from 'zod';
import type { ManifestError } from './errors';
import { digestSchema, imageNameSchema, says, tagSchema, zodErrors } from './rules';
import type { Digest } from '../model';
import type { ImageSpec } from './spec';
import { pathString, type PathSeg, type YamlFile } from './yamldoc';

export interface Skipped {
  file: string;
  line: number;
  /** e.g. `images[3].dmap["sha256:..."]`, `images[3]`, `manifests/foo` */
  path: string;
  what: 'digest' | 'image' | 'destination' | 'project' | 'file';
}

export interface ImagesResult {
  images: ImageSpec[];
  errors: ManifestError[];
  warnings: ManifestError[];
  skipped: Skipped[];
  /** Number of `- name:` entries seen (before merging repeated names). */
  entries: number;
}

const entrySchema = (native: boolean) =>
  z.strictObject({
    name: imageNameSchema,
    dmap: z.record(z.string(), z.unknown(), { error: says('is not a digest map', 'a mapping of "sha256:<hex>": [tags]') }),
    ...(native ? { allowTagMove: z.boolean({ error: says('is not a boolean', 'true or false') }).optional() } : {}),
  });
const kpromoEntry = entrySchema(false);
const nativeEntry = entrySchema(true);
const tagList = z.array(tagSchema, { error: says('is not a tag list', 'a list of tags, [] for none') });

/**
 * Reads an image list. `data` is the list (null/undefined = empty), found in the YAML at `base` and shown in paths
 * as `display` (`images`). Repeated names (kops writes one block per release) are merged: tags are united.
 */
export function readImages(y: YamlFile, data: unknown, base: PathSeg[], display: PathSeg[], opts: { native: boolean; project?: string; emptyDmap?: 'warn' | 'error' }): ImagesResult {
  const res: ImagesResult = { images: [], errors: [], warnings: [], skipped: [], entries: 0 };
  if (data === null || data === undefined) return res;
  if (!Array.isArray(data)) {
    res.errors.push({ file: y.file, ...y.locate(base), path: pathString(display), value: data, message: 'is not an image list', expected: 'a list of {name, dmap} entries' });
    res.skipped.push({ file: y.file, line: y.locate(base).line, path: pathString(display), what: 'file' });
    return res;
  }
  const byName = new Map<string, ImageSpec>();
  const schema = opts.native ? nativeEntry : kpromoEntry;
  data.forEach((raw: unknown, i) => {
    res.entries++;
    const at = [...base, i];
    const shown = [...display, i];
    const r = schema.safeParse(raw);
    if (!r.success) {
      res.errors.push(...zodErrors(y, r.error.issues, raw, at, shown));
      res.skipped.push({ file: y.file, line: y.locate(at).line, path: pathString(shown), what: 'image' });
      return;
    }
    const entry = r.data;
    const dmap: Record<Digest, string[]> = {};
    let bad = 0;
    for (const [digest, tagsRaw] of Object.entries(entry.dmap)) {
      const dAt = [...at, 'dmap', digest];
      const errs: ManifestError[] = [];
      const d = digestSchema.safeParse(digest);
      if (!d.success) {
        const [message, expected] = d.error.issues[0]!.message.split('|', 2);
        errs.push({ file: y.file, ...y.locate(dAt, true), path: pathString([...shown, 'dmap']), value: digest, message: message!, expected });
      }
      // kpromo (yaml.v2) reads `"sha256:…":` with no value as an empty tag list: promoted untagged.
      const t = tagList.safeParse(tagsRaw === null && !opts.native ? [] : tagsRaw);
      if (tagsRaw === null && !opts.native) res.warnings.push({ file: y.file, ...y.locate(dAt, true), path: pathString([...shown, 'dmap', digest]), value: null, message: 'has no tag list: promoted untagged, as kpromo does', expected: '[] to say so' });
      if (!t.success) errs.push(...zodErrors(y, t.error.issues, tagsRaw, dAt, [...shown, 'dmap', digest]));
      if (errs.length) {
        bad++;
        res.errors.push(...errs);
        res.skipped.push({ file: y.file, line: errs[0]!.line, path: pathString([...shown, 'dmap', digest]), what: 'digest' });
        continue;
      }
      dmap[digest as Digest] = [...new Set(t.data!)];
    }
    if (Object.keys(entry.dmap).length === 0) {
      // kpromo refuses an empty dmap in a plain manifest (validateRequiredComponents) and lets it pass in a thin one.
      const e = { file: y.file, ...y.locate([...at, 'dmap']), path: pathString([...shown, 'dmap']), message: 'is empty: the image promotes nothing', expected: 'at least one "sha256:<hex>": [tags] entry' };
      if (opts.emptyDmap === 'error') {
        res.errors.push(e);
        res.skipped.push({ file: y.file, line: e.line, path: pathString(shown), what: 'image' });
        return;
      }
      res.warnings.push(e);
    }
    if (bad > 0 && Object.keys(dmap).length === 0) return;
    const seen = byName.get(entry.name);
    if (seen) {
      if (opts.native) {
        res.errors.push({ file: y.file, ...y.locate([...at, 'name']), path: pathString([...shown, 'name']), value: entry.name, message: 'is listed twice', expected: `one entry per image (first at line ${seen.origin?.line ?? '?'})` });
        res.skipped.push({ file: y.file, line: y.locate(at).line, path: pathString(shown), what: 'image' });
        return;
      }
      for (const [d, tags] of Object.entries(dmap) as Array<[Digest, string[]]>) {
        seen.dmap[d] = seen.dmap[d] ? [...new Set([...seen.dmap[d]!, ...tags])] : tags;
      }
      return;
    }
    const img: ImageSpec = { name: entry.name, dmap, origin: { file: y.file, ...y.locate(at) } };
    if ('allowTagMove' in entry && entry.allowTagMove) img.allowTagMove = true;
    if (opts.project !== undefined) img.project = opts.project;
    byName.set(entry.name, img);
    res.images.push(img);
  });
  return res;
}
