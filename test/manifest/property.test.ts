// Property: 10,000 generated and mutated manifests through both readers (native, kpromo plain): no crash, no
// unhandled exception; every rejection is a ManifestLoadError whose errors all carry a file and a location.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ManifestLoadError, loadSpecFrom } from '../../src/manifest/load';
import type { EntryKind, ManifestSource } from '../../src/manifest/source';

/** One in-memory file, so 10,000 runs do no disk I/O. */
class MemSource implements ManifestSource {
  constructor(private readonly files: Record<string, string>) {}
  display(rel: string) {
    return rel || '.';
  }
  async kind(rel: string): Promise<EntryKind> {
    return rel in this.files ? 'file' : rel === '' ? 'dir' : 'missing';
  }
  async list() {
    return Object.keys(this.files);
  }
  async read(rel: string) {
    if (!(rel in this.files)) throw new Error('absent');
    return this.files[rel]!;
  }
}

const hex = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });
const digest = fc.oneof(hex.map((h) => `sha256:${h}`), fc.string(), hex);
const tag = fc.oneof(fc.stringMatching(/^\w[\w.-]{0,20}$/), fc.string({ maxLength: 5 }));
const images = fc.array(fc.record({ name: fc.oneof(fc.constantFrom('app', 'foo/bar'), fc.string({ maxLength: 6 })), dmap: fc.dictionary(digest, fc.array(tag, { maxLength: 3 }), { maxKeys: 3 }) }), { maxLength: 3 });
const native = fc.record({
  apiVersion: fc.constantFrom('promoflow.dev/v1alpha1', 'v2'),
  kind: fc.constant('Promotion'),
  metadata: fc.record({ name: fc.constantFrom('s', 'Bad Name') }),
  source: fc.record({ registry: fc.constantFrom('127.0.0.1:5000/s', 'x') }),
  destinations: fc.array(fc.record({ name: fc.constantFrom('a', 'b'), registry: fc.constantFrom('r.io/a', 'r.io/b', 'R') }), { minLength: 1, maxLength: 3 }),
  images,
});
const kpromo = fc.record({ registries: fc.array(fc.record({ name: fc.constantFrom('gcr.io/s', 'r.io/d', 'r.io/e'), src: fc.boolean() }, { requiredKeys: ['name'] }), { maxLength: 4 }), images });

/** Text mutations: truncate, delete a span, insert YAML-significant characters, duplicate a line. */
const mutate = (text: string) =>
  fc.oneof(
    fc.constant(text),
    fc.nat(text.length).map((n) => text.slice(0, n)),
    fc.tuple(fc.nat(text.length), fc.nat(12)).map(([i, n]) => text.slice(0, i) + text.slice(i + n)),
    fc.tuple(fc.nat(text.length), fc.constantFrom(':', '-', '[', '{', '"', '&a', '*a', '\t', '\n  ', '!!binary ', '<<: ', '? ', '---\n', 'password: x\n')).map(([i, s]) => text.slice(0, i) + s + text.slice(i)),
    fc.nat(text.split('\n').length).map((i) => {
      const lines = text.split('\n');
      lines.splice(i, 0, lines[i] ?? '');
      return lines.join('\n');
    }),
  );

test('10,000 generated and mutated manifests: no crash; every rejection is located', async () => {
  const doc = fc.oneof(native, kpromo).chain((d) => mutate(stringify(d)));
  await fc.assert(
    fc.asyncProperty(doc, async (text) => {
      try {
        const r = await loadSpecFrom(new MemSource({ 'm.yaml': text }), 'm.yaml', { skipInvalid: text.length % 2 === 0 });
        assert.ok(Array.isArray(r.spec.images));
      } catch (e) {
        if (!(e instanceof ManifestLoadError)) throw e;
        assert.ok(e.errors.length > 0);
        for (const x of e.errors) {
          assert.equal(x.file, 'm.yaml');
          assert.ok(Number.isInteger(x.line) && x.line >= 0 && Number.isInteger(x.column), `located: ${JSON.stringify(x)}`);
          assert.ok(x.message.length > 0);
        }
        assert.doesNotThrow(() => e.format());
      }
    }),
    { numRuns: 10_000, seed: 20261126 },
  );
});
