// examples/github-actions.yml cannot run here (no GitHub runner): this checks that it parses, runs the jobs on the
// events it promises (plan on pull requests, promote on merge to main), and that every promoflow command it runs
// is accepted by promoflow's own argument parser (a renamed flag fails this test, not a user's pipeline).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { REPO_ROOT } from '../src/testing/harness';
import { main } from '../src/client/cli';
import { EXIT } from '../src/client/exit-codes';

const step = z.object({ name: z.string().optional(), uses: z.string().optional(), run: z.string().optional(), with: z.record(z.string(), z.unknown()).optional() });
const job = z.object({ if: z.string(), 'runs-on': z.string(), steps: z.array(step), environment: z.string().optional() });
const workflow = z.object({
  on: z.object({ pull_request: z.unknown(), push: z.object({ branches: z.array(z.string()) }) }),
  env: z.record(z.string(), z.string()),
  jobs: z.object({ plan: job, promote: job }),
});
const wf = workflow.parse(parse(readFileSync(join(REPO_ROOT, 'examples', 'github-actions.yml'), 'utf8'), { uniqueKeys: true }));

/** Shell words of one command line, with GitHub expressions and $VARS replaced by sample values. */
function words(line: string): string[] {
  const sample: Record<string, string> = { 'github.sha': '0123456789abcdef0123456789abcdef01234567', 'github.base_ref': 'main' };
  const expanded = line
    .replace(/\$\{\{\s*([\w.]+)\s*\}\}/g, (_, k: string) => sample[k] ?? assert.fail(`unexpected expression ${k}`))
    .replace(/\$(\w+)|\$\{(\w+)\}/g, (_, a?: string, b?: string) => wf.env[(a ?? b)!] ?? assert.fail(`$${a ?? b} is not set in the workflow's env`));
  const out: string[] = [];
  for (const m of expanded.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  const redirect = out.findIndex((w) => w.startsWith('>') || w === '|');
  return redirect >= 0 ? out.slice(0, redirect) : out;
}

/** Every `promoflow …` command line a job runs, as argv. */
function promoflowCommands(j: z.infer<typeof job>): string[][] {
  return j.steps.flatMap((s) => (s.run ?? '').split('\n')).map((l) => l.trim()).filter((l) => l.startsWith('promoflow ')).map((l) => words(l).slice(1));
}

async function acceptedByCli(argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const io = { stdout: () => undefined, stderr: (s: string) => void (err += s) };
  // --help after the real flags: the strict parser checks every flag, then the command prints usage and does nothing.
  const code = await main([...argv, '--help'], io).catch((e: Error & { exitCode?: number }) => ((err += e.message), e.exitCode ?? -1));
  return { code, err };
}

test('github-actions example: plan on pull requests, promote on merge to main', () => {
  assert.deepEqual(wf.on.push.branches, ['main']);
  assert.match(wf.jobs.plan.if, /github\.event_name == 'pull_request'/);
  assert.match(wf.jobs.promote.if, /github\.event_name == 'push'/);
  assert.match(wf.jobs.promote.if, /refs\/heads\/main/);
  for (const k of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY']) assert.ok(wf.env[k], `${k} is passed to promoflow`);
  assert.match(wf.env.TEMPORAL_API_KEY!, /secrets\./, 'the API key comes from a secret');
});

test('github-actions example: every promoflow command and flag it runs is real', async () => {
  const plan = promoflowCommands(wf.jobs.plan);
  const promote = promoflowCommands(wf.jobs.promote);
  assert.deepEqual(plan.map((a) => a[0]), ['plan']);
  assert.deepEqual(promote.map((a) => a[0]), ['promote']);
  const p = promote[0]!;
  assert.ok(p.includes('--confirm'), 'promote --confirm');
  assert.equal(p[p.indexOf('--commit') + 1], '0123456789abcdef0123456789abcdef01234567', '--commit is the merged SHA');
  assert.equal(p[p.indexOf('-f') + 1], 'promotion/promotion.yaml');
  for (const argv of [...plan, ...promote]) {
    const r = await acceptedByCli(argv);
    assert.equal(r.code, EXIT.OK, `promoflow ${argv.join(' ')}: ${r.err}`);
  }
  // The check can fail: a flag promoflow does not have is refused.
  assert.equal((await acceptedByCli(['promote', '-f', 'x.yaml', '--confrim'])).code, EXIT.INVALID);
  assert.equal((await acceptedByCli(['plan', '-f', 'x.yaml', '--diff-bsae', 'main'])).code, EXIT.INVALID);
});

test('github-actions example: the plan lands in the job summary; the promote account does by itself', () => {
  const planScript = wf.jobs.plan.steps.map((s) => s.run ?? '').join('\n');
  assert.match(planScript, />> "\$GITHUB_STEP_SUMMARY"/);
  assert.match(planScript, /\[ "\$code" -eq 0 \] \|\| \[ "\$code" -eq 10 \]/, 'exit 10 (changes planned) does not fail a pull request');
  const promoteScript = wf.jobs.promote.steps.map((s) => s.run ?? '').join('\n');
  assert.doesNotMatch(promoteScript, /GITHUB_STEP_SUMMARY/, 'promote writes its Markdown account itself');
});
