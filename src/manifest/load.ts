// Entry point for reading manifests into a Spec. (First slice: the native format only; see native.ts.)
import { readFile } from 'node:fs/promises';
import { parseNative } from './native';
import type { Spec } from './spec';

export class ManifestLoadError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ManifestLoadError';
  }
}

export async function loadSpec(path: string): Promise<{ spec: Spec }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ManifestLoadError(path, code === 'ENOENT' ? 'no such file: check the -f path' : `cannot read: ${code ?? String(e)}`);
  }
  return { spec: parseNative(path, text) };
}
