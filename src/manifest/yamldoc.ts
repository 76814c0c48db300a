// Strict YAML reading with positions: parses one document with the `yaml` Document API (duplicate keys are
// errors), converts it to plain data for zod, and maps a data path back to line:column for error messages.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import type { Document, Node } from 'yaml';
import type { ManifestError } from './errors';

export type PathSeg = string | number;

export interface YamlFile {
  file: string;
  /** Plain data (undefined for an empty document). */
  data: unknown;
  /** Syntax errors, duplicate keys, multiple documents; non-empty means `data` must not be trusted. */
  errors: ManifestError[];
  /** line/column of the node at `path` (of its key when `key`), or of the nearest ancestor that exists. */
  locate(path: readonly PathSeg[], key?: boolean): { line: number; column: number };
}

/** `images[3].dmap["sha256:x"]` style rendering of a data path. */
export function pathString(path: readonly PathSeg[]): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(seg)) s += s ? `.${seg}` : seg;
    else s += `[${JSON.stringify(seg)}]`;
  }
  return s;
}

function keyText(k: unknown): string | undefined {
  if (isScalar(k)) return String(k.value);
  return undefined;
}

export function parseYaml(file: string, text: string): YamlFile {
  const lc = new LineCounter();
  const errors: ManifestError[] = [];
  const pos = (offset: number) => {
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { uniqueKeys: true, lineCounter: lc, prettyErrors: false, strict: true }) as Document.Parsed[];
  } catch (e) {
    return { file, data: undefined, errors: [{ file, line: 1, column: 1, path: '', message: `cannot parse YAML: ${String(e)}` }], locate: () => ({ line: 1, column: 1 }) };
  }
  if (!Array.isArray(docs)) docs = [];
  const doc = docs[0];
  for (const d of docs) {
    for (const e of d.errors) {
      const message = e.code === 'DUPLICATE_KEY' ? 'duplicate key' : `invalid YAML: ${e.message.split('\n')[0]}`;
      const p = pos(e.pos[0]);
      let value: unknown;
      // The error range covers only the key's first character: read the key itself from the text.
      if (e.code === 'DUPLICATE_KEY') value = /^(?:"([^"\n]*)"|'([^'\n]*)'|([^:\n]*?)\s*:)/.exec(text.slice(e.pos[0], e.pos[0] + 300))?.slice(1).find((x) => x !== undefined);
      errors.push({ file, ...p, path: '', value, message, expected: e.code === 'DUPLICATE_KEY' ? 'each key once per mapping' : undefined });
    }
  }
  if (docs.length > 1) {
    const second = docs[1]!;
    const at = second.range ? pos(second.range[0]) : { line: 1, column: 1 };
    errors.push({ file, ...at, path: '', message: 'more than one YAML document', expected: 'exactly one document per file' });
  }
  let data: unknown;
  if (doc && errors.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: 50 });
    } catch (e) {
      errors.push({ file, line: 1, column: 1, path: '', message: `cannot read YAML: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  const root = doc?.contents ?? null;
  const locate = (path: readonly PathSeg[], key = false) => {
    let node: unknown = root;
    let best: unknown = root;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      if (isAlias(node)) break;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
        if (!pair) break;
        if (i === path.length - 1 && key && pair.key) {
          best = pair.key;
          break;
        }
        node = pair.value;
        if (node) best = node;
        else {
          best = pair.key ?? best;
          break;
        }
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
        if (!node) break;
        best = node;
      } else break;
    }
    const range = (best as Node | null)?.range;
    return range ? pos(range[0]) : { line: 1, column: 1 };
  };
  return { file, data, errors, locate };
}
