// The CLI's default --state-dir: where the embedded environment keeps its state (servers' data, logs, env.json),
// relative to the working directory. A module of its own so that `--help` names it without loading the environment.
export const DEFAULT_STATE_DIR = '.promoflow';
