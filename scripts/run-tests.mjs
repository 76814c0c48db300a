// Runs the test suite with node's built-in runner over the TypeScript sources (tsx).
//   node scripts/run-tests.mjs [unit|integration|all] [extra files...]
// unit: test/**/*.test.ts except *.int.test.ts; integration: *.int.test.ts (real registries, real Temporal,
// real cosign/crane/skopeo). Integration files run two at a time: each starts its own servers on free ports.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === 'fixtures' ? [] : walk(p);
    return p.endsWith('.test.ts') ? [p] : [];
  });
}

const kind = process.argv[2] ?? 'all';
const explicit = process.argv.slice(3);
const all = explicit.length ? explicit : walk('test').sort();
const files = all.filter((f) => kind === 'all' || (kind === 'integration') === f.endsWith('.int.test.ts'));
if (files.length === 0) {
  console.error(`run-tests: no ${kind} test files`);
  process.exit(1);
}
const concurrency = kind === 'unit' ? 2 : Number(process.env.PROMOFLOW_TEST_CONCURRENCY ?? 2);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
