// The native manifest format (apiVersion promoflow.dev/v1alpha1, kind Promotion) → Spec.
import { parse } from 'yaml';
import { z } from 'zod';
import { ManifestLoadError } from './load';
import type { Digest, Spec } from './spec';

const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256: followed by 64 lowercase hex characters');
const tag = z.string().regex(/^\w[\w.-]{0,127}$/, 'expected a tag matching ^\\w[\\w.-]{0,127}$');
const endpoint = { registry: z.string().min(1), insecure: z.boolean().optional() };
const schema = z.strictObject({
  apiVersion: z.literal('promoflow.dev/v1alpha1'),
  kind: z.literal('Promotion'),
  metadata: z.strictObject({ name: z.string().min(1) }),
  source: z.strictObject(endpoint),
  destinations: z.array(z.strictObject({ ...endpoint, name: z.string().min(1), region: z.string().optional(), canonical: z.boolean().optional() })).min(1),
  phases: z.array(z.strictObject({ name: z.string(), destinations: z.array(z.string()), soak: z.string().optional() })).optional(),
  images: z.array(z.strictObject({ name: z.string().min(1), dmap: z.record(digest, z.array(tag)) })),
});

export function parseNative(file: string, text: string): Spec {
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true });
  } catch (e) {
    throw new ManifestLoadError(file, `invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const r = schema.safeParse(doc);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ManifestLoadError(file, `${i.path.join('.') || '(document)'}: ${i.message}`);
  }
  const m = r.data;
  return {
    name: m.metadata.name,
    source: m.source,
    destinations: m.destinations,
    phases: (m.phases ?? [{ name: 'all', destinations: m.destinations.map((d) => d.name) }]).map((p) => ({
      name: p.name,
      destinations: p.destinations,
      soakSeconds: p.soak ? Number.parseInt(p.soak, 10) : 0,
      gates: { verify: true, approval: false },
    })),
    images: m.images.map((i) => ({ name: i.name, dmap: i.dmap as Record<Digest, string[]> })),
    files: [file],
  };
}
