#!/usr/bin/env node
// promoflow's executable: the TypeScript sources via tsx in a checkout, the compiled CLI (dist/) in an image
// that ships only dist/ (see Dockerfile).
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const source = join(__dirname, '..', 'src', 'client', 'cli.ts');
if (existsSync(source)) {
  require('tsx/cjs');
  require(source).run(process.argv.slice(2));
} else {
  require(join(__dirname, '..', 'dist', 'client', 'cli.js')).run(process.argv.slice(2));
}
