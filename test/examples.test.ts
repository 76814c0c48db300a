// examples/github-actions.yml cannot run here (no GitHub runner): this checks that it parses, runs the jobs on the
// events it promises (plan on pull requests, promote on merge to main), and that every input it gives promoflow's
// action is one action.yml declares, with no secret anywhere near the plan (a renamed input fails this test, not a
// user's pipeline). The action's entry point itself runs in test/client/action.int.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { REPO_ROOT } from '../src/testing/harness';

const step = z.object({ id: z.string().optional(), name: z.string().optional(), uses: z.string().optional(), run: z.string().optional(), with: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional() });
const job = z.object({ if: z.string(), 'runs-on': z.string(), steps: z.array(step), environment: z.string().optional() });
const workflow = z.object({
  on: z.object({ pull_request: z.unknown(), push: z.object({ branches: z.array(z.string()) }) }),
  jobs: z.object({ plan: job, promote: job }),
});
const wf = workflow.parse(parse(readFileSync(join(REPO_ROOT, 'examples', 'github-actions.yml'), 'utf8'), { uniqueKeys: true }));

const actionSchema = z.object({
  inputs: z.record(z.string(), z.object({ description: z.string(), required: z.boolean().optional(), default: z.string().optional() })),
  outputs: z.record(z.string(), z.object({ description: z.string(), value: z.string() })),
  runs: z.object({ using: z.literal('composite'), steps: z.array(z.object({ id: z.string().optional(), run: z.string().optional(), uses: z.string().optional(), env: z.record(z.string(), z.string()).optional() })) }),
});
const action = actionSchema.parse(parse(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8'), { uniqueKeys: true }));

const promoflowStep = (j: z.infer<typeof job>) => {
  const s = j.steps.find((x) => x.uses?.startsWith('promoflow/promoflow@'));
  assert.ok(s, 'the job uses the promoflow action');
  return s;
};

test('github-actions example: plan on pull requests, promote on merge to main', () => {
  assert.deepEqual(wf.on.push.branches, ['main']);
  assert.match(wf.jobs.plan.if, /github\.event_name == 'pull_request'/);
  assert.match(wf.jobs.promote.if, /github\.event_name == 'push'/);
  assert.match(wf.jobs.promote.if, /refs\/heads\/main/);
  assert.equal(promoflowStep(wf.jobs.plan).with?.mode, 'plan');
  assert.equal(promoflowStep(wf.jobs.promote).with?.mode, 'promote');
});

test('github-actions example: the pull-request plan job holds no secret (it runs the pull request’s manifests)', () => {
  assert.doesNotMatch(JSON.stringify(wf.jobs.plan), /secrets\./, 'no secret in the plan job');
  assert.match(JSON.stringify(wf.jobs.promote), /secrets\.TEMPORAL_API_KEY/, 'the promote job has the Temporal API key');
});

test('github-actions example: every input it passes is declared by action.yml, and required ones are given', () => {
  for (const j of [wf.jobs.plan, wf.jobs.promote]) {
    const given = promoflowStep(j).with ?? {};
    for (const k of Object.keys(given)) assert.ok(action.inputs[k], `action.yml declares input ${k}`);
    for (const [k, v] of Object.entries(action.inputs)) if (v.required) assert.ok(given[k], `required input ${k} is given`);
  }
  // The check can fail: an input action.yml does not declare is caught.
  assert.equal(action.inputs['temporal-adress'], undefined);
});

test('github-actions example: the plan gets no Temporal and no secret; the promotion gets its API key from a secret', () => {
  const plan = JSON.stringify(wf.jobs.plan);
  assert.doesNotMatch(plan, /secrets\./, 'no secret in the plan job');
  assert.doesNotMatch(plan, /temporal-/, 'no Temporal input in the plan job');
  const promote = promoflowStep(wf.jobs.promote).with!;
  assert.match(promote['temporal-api-key']!, /^\$\{\{ secrets\.TEMPORAL_API_KEY \}\}$/);
  assert.match(promote['temporal-address']!, /vars\.TEMPORAL_ADDRESS/);
});

test('action.yml: every input reaches the entry point, which runs from the installed package', () => {
  const run = action.runs.steps.find((s) => s.id === 'run');
  assert.ok(run?.run?.includes('dist/client/action.js'), 'runs the compiled entry point');
  const env = run!.env ?? {};
  for (const k of Object.keys(action.inputs).filter((k) => !['package', 'node-version'].includes(k))) {
    const name = `INPUT_${k.toUpperCase().replace(/-/g, '_')}`;
    assert.equal(env[name], `\${{ inputs.${k} }}`, `${k} is passed as ${name}`);
  }
  for (const [k, o] of Object.entries(action.outputs)) assert.equal(o.value, `\${{ steps.run.outputs.${k} }}`);
  const source = readFileSync(join(REPO_ROOT, 'src', 'client', 'action.ts'), 'utf8');
  for (const name of Object.keys(run!.env ?? {})) assert.ok(source.includes(name), `action.ts reads ${name}`);
});
