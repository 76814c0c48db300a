// Replay fixtures as recorded: failure stack traces name this machine's paths and play no part in replay, so
// recorders drop them before writing a history into test/fixtures/histories.
export function scrubStacks(o: unknown): unknown {
  if (Array.isArray(o)) return o.map(scrubStacks);
  if (o && typeof o === 'object') return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, k === 'stackTrace' && typeof v === 'string' ? '' : scrubStacks(v)]));
  return o;
}
