// Manifest errors as values: every problem found while reading manifests carries its file, line:column, the path
// inside the document, the offending value and what was expected, so a person can fix it without a stack trace.

export interface ManifestError {
  file: string;
  /** 1-based; 0 when the problem concerns the whole file (e.g. it is missing). */
  line: number;
  /** 1-based; 0 when unknown. */
  column: number;
  /** Path inside the document, e.g. `images[3].dmap`; empty for the whole document. */
  path: string;
  /** The offending value (absent when the problem is a missing value); secrets are never echoed. */
  value?: unknown;
  /** What is wrong, e.g. `is not a digest`. */
  message: string;
  /** What would be right, e.g. `sha256: followed by 64 lowercase hex characters`. */
  expected?: string;
}

function showValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 120 ? `${v.slice(0, 117)}...` : v);
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

/** One line per error: `file:line:col: path: "value" message: expected ...`. */
export function formatError(e: ManifestError): string {
  const loc = e.line > 0 ? `${e.file}:${e.line}:${e.column}` : e.file;
  const path = e.path ? `${e.path}: ` : '';
  const value = e.value !== undefined ? `${showValue(e.value)} ` : '';
  const expected = e.expected ? `: expected ${e.expected}` : '';
  return `${loc}: ${path}${value}${e.message}${expected}`;
}

/** Thrown by loadSpec when a load cannot produce a spec (strict mode with errors, or nothing usable). */
export class ManifestLoadError extends Error {
  readonly errors: ManifestError[];
  constructor(errors: ManifestError[]) {
    super(errors.length === 1 ? formatError(errors[0]!) : `${errors.length} manifest errors:\n${errors.map(formatError).join('\n')}`);
    this.name = 'ManifestLoadError';
    this.errors = errors;
  }
  /** All errors, one per line. */
  format(): string {
    return this.errors.map(formatError).join('\n');
  }
}

/** Stable order for reports: by file, then position. */
export function sortErrors(errors: ManifestError[]): ManifestError[] {
  return [...errors].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column));
}
