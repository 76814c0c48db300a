// `promoflow plan` over the registry.k8s.io corpus (../shared/corpus/k8s-io) end to end, as a user runs it: the
// text summary and the --json stream (output to /dev/null), with the rollout overlay, isolating the two invalid
// digests, against empty destinations (--inventory: no registry is read). Prints wall time, CPU time and peak RSS
// per case, measured by /usr/bin/time around a fresh process. Goal (issue 10): < 10 s and < 500 MB each.
// Run: npm run bench:plan-cli
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const repo = path.resolve(__dirname, '..');
const corpus = path.resolve(repo, '..', 'shared', 'corpus', 'k8s-io', 'registry.k8s.io');
if (!existsSync(corpus)) {
  console.log('../shared/corpus absent: benchmark skipped');
  process.exit(0);
}
execFileSync('/usr/bin/time', ['--version'], { stdio: 'ignore' });
const dir = mkdtempSync(path.join(tmpdir(), 'promoflow-bench-'));
const inventory = path.join(dir, 'empty.json');
writeFileSync(inventory, '{"repos":{}}');
const overlay = path.join(repo, 'examples', 'k8s-io', 'promoflow-overlay.yaml');

const rows: string[][] = [['case', 'exit', 'wall s', 'cpu s', 'peak RSS MB']];
for (const [name, extra] of [['text', []], ['--json', ['--json']]] as const) {
  const timing = path.join(dir, `${name}.time`);
  const r = spawnSync('/usr/bin/time', ['-o', timing, '-f', '%e %U %S %M', process.execPath, path.join(repo, 'bin', 'promoflow.js'), 'plan', corpus, '--skip-invalid', '--overlay', overlay, '--inventory', inventory, ...extra], {
    stdio: ['ignore', openSync('/dev/null', 'w'), 'ignore'],
  });
  const [wall, user, sys, rss] = execFileSync('tail', ['-n', '1', timing], { encoding: 'utf8' }).trim().split(' ').map(Number);
  rows.push([`plan ${name}`, String(r.status), wall!.toFixed(2), (user! + sys!).toFixed(2), (rss! / 1024).toFixed(0)]);
}
const widths = rows[0]!.map((_, i) => rows.reduce((w, r) => Math.max(w, r[i]!.length), 0));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
