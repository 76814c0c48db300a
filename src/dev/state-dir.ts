// Where the embedded environment keeps its state (servers' data, logs, env.json), relative to the working
// directory. A module of its own so that the CLI can name the default without loading the environment.
export const DEFAULT_STATE_DIR = '.promoflow';
