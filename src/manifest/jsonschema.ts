// The JSON Schema of the native format, generated from its zod schema for editors (yaml-language-server:
// `# yaml-language-server: $schema=../schema/promotion.v1alpha1.schema.json`). Regenerate after a schema change:
// node --import tsx src/manifest/jsonschema.ts  (a test fails while schema/ is stale).
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { nativeJsonSchemaSource } from './native';

export const SCHEMA_FILE = path.join('schema', 'promotion.v1alpha1.schema.json');

export function nativeJsonSchema(): string {
  const schema = z.toJSONSchema(nativeJsonSchemaSource, { target: 'draft-2020-12' });
  return `${JSON.stringify({ ...schema, $id: 'https://promoflow.dev/schema/promotion.v1alpha1.schema.json', title: 'promoflow Promotion (promoflow.dev/v1alpha1)' }, null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(path.resolve(__dirname, '..', '..', SCHEMA_FILE), nativeJsonSchema());
}
