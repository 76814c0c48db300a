// The GitHub Action's entry point (action.yml runs `node <installed package>/dist/client/action.js`). Inputs arrive
// as INPUT_* environment variables; the mode follows the event unless set: a pull request is planned into the job
// summary without Temporal or its secrets (they are removed from the environment before anything runs), a push
// promotes and waits for the account (which `promote` writes to the job summary itself). A re-run job attaches to
// the promotion already in flight: the workflow ID derives from the manifests and the commit. Outputs go to
// $GITHUB_OUTPUT: exit-code, changes (plan), workflow-id (promote).
import { appendFileSync } from 'node:fs';
import { z } from 'zod';
import { execute, stdio } from './cli';
import { EXIT } from './exit-codes';
import type { Io } from './promote';

const PLAN_EVENTS = new Set(['pull_request', 'pull_request_target', 'merge_group']);
const PROMOTE_EVENTS = new Set(['push', 'workflow_dispatch']);
/** What only a promotion needs: never present while a pull request is planned. */
const TEMPORAL_SECRETS = ['TEMPORAL_API_KEY', 'TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'INPUT_TEMPORAL_API_KEY'];

const inputs = z.object({
  INPUT_MANIFEST: z.string({ error: 'the manifest input is required (a promotion manifest file or a kpromo thin-layout directory)' }).min(1, 'the manifest input is required'),
  INPUT_MODE: z.enum(['auto', 'plan', 'promote'], { error: 'mode is auto, plan or promote' }).default('auto'),
  INPUT_DIFF_BASE: z.string().optional(),
  INPUT_TEMPORAL_ADDRESS: z.string().optional(),
  INPUT_TEMPORAL_NAMESPACE: z.string().optional(),
  INPUT_TEMPORAL_API_KEY: z.string().optional(),
  INPUT_TEMPORAL_UI_URL: z.string().optional(),
  INPUT_WAIT: z.enum(['true', 'false'], { error: 'wait is true or false' }).default('true'),
  GITHUB_EVENT_NAME: z.string().optional(),
  GITHUB_SHA: z.string().optional(),
  GITHUB_STEP_SUMMARY: z.string().optional(),
  GITHUB_OUTPUT: z.string().optional(),
});
type Inputs = z.infer<typeof inputs>;

/** Empty inputs are absent inputs (GitHub passes every declared input, set or not). */
function present(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
}

function modeOf(i: Inputs): 'plan' | 'promote' | string {
  if (i.INPUT_MODE !== 'auto') return i.INPUT_MODE;
  const event = i.GITHUB_EVENT_NAME ?? '';
  if (PLAN_EVENTS.has(event)) return 'plan';
  if (PROMOTE_EVENTS.has(event)) return 'promote';
  return `mode auto cannot decide for the event "${event || 'none'}": set mode to plan or promote`;
}

/** Both streams also to a buffer (for the summary) and the process. */
function tee(io: Io): Io & { lines: string[] } {
  const lines: string[] = [];
  return { lines, stdout: (s) => (lines.push(s), io.stdout(s)), stderr: (s) => (lines.push(s), io.stderr(s)) };
}

function output(i: Inputs, values: Record<string, string>): void {
  if (!i.GITHUB_OUTPUT) return;
  appendFileSync(i.GITHUB_OUTPUT, Object.entries(values).map(([k, v]) => `${k}=${v}\n`).join(''));
}

export async function runAction(env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const parsed = inputs.safeParse(present(env));
  if (!parsed.success) {
    io.stderr(`promoflow action: ${parsed.error.issues.map((x) => x.message).join('; ')}`);
    return EXIT.INVALID;
  }
  const i = parsed.data;
  const mode = modeOf(i);
  if (mode !== 'plan' && mode !== 'promote') {
    io.stderr(`promoflow action: ${mode}`);
    return EXIT.INVALID;
  }
  if (mode === 'plan') {
    for (const k of TEMPORAL_SECRETS) delete env[k];
    const t = tee(io);
    const code = await execute(['plan', '-f', i.INPUT_MANIFEST, ...(i.INPUT_DIFF_BASE ? ['--diff-base', i.INPUT_DIFF_BASE] : [])], t);
    const verdict = code === EXIT.CHANGES_PLANNED ? 'changes planned: merging promotes them' : code === EXIT.OK ? 'nothing to promote' : `failed (exit ${code})`;
    if (i.GITHUB_STEP_SUMMARY) appendFileSync(i.GITHUB_STEP_SUMMARY, `### promoflow plan: \`${i.INPUT_MANIFEST}\` — ${verdict}\n\n\`\`\`text\n${t.lines.join('\n')}\n\`\`\`\n`);
    output(i, { 'exit-code': String(code), changes: String(code === EXIT.CHANGES_PLANNED) });
    // A pull request that plans changes is the normal case, not a failure.
    return code === EXIT.CHANGES_PLANNED ? EXIT.OK : code;
  }
  const connection: Array<[string, string | undefined]> = [
    ['TEMPORAL_ADDRESS', i.INPUT_TEMPORAL_ADDRESS], ['TEMPORAL_NAMESPACE', i.INPUT_TEMPORAL_NAMESPACE],
    ['TEMPORAL_API_KEY', i.INPUT_TEMPORAL_API_KEY], ['TEMPORAL_UI_URL', i.INPUT_TEMPORAL_UI_URL],
  ];
  for (const [k, v] of connection) if (v) env[k] = v;
  let workflowId: string | undefined;
  const watch: Io = { stdout: io.stdout, stderr: (s) => ((workflowId ??= /^promoflow: started (\S+)/.exec(s)?.[1]), io.stderr(s)) };
  const code = await execute(['promote', '-f', i.INPUT_MANIFEST, '--confirm', ...(i.GITHUB_SHA ? ['--commit', i.GITHUB_SHA] : []), ...(i.INPUT_WAIT === 'false' ? ['--no-wait'] : [])], watch);
  output(i, { 'exit-code': String(code), ...(workflowId ? { 'workflow-id': workflowId } : {}) });
  return code;
}

if (require.main === module) {
  void runAction(process.env, stdio).then((code) => (process.exitCode = code));
}
