// Where a command writes: its lines to stdout and stderr (the process's own, or a test's capture).
export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}
