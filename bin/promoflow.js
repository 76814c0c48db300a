#!/usr/bin/env node
// promoflow's executable. An installed package (and the container image) holds only the compiled CLI in dist/ and
// runs it directly. A checkout holds src/ and runs the TypeScript sources through tsx (a devDependency), so a
// developer always runs what they just edited, never a stale build.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const source = join(__dirname, '..', 'src', 'client', 'cli.ts');
if (existsSync(source)) {
  // tsx's loader as `node --import tsx` installs it (require and import: the CLI imports each command lazily).
  import('tsx').then(() => require(source).run(process.argv.slice(2)));
} else {
  require(join(__dirname, '..', 'dist', 'client', 'cli.js')).run(process.argv.slice(2));
}
