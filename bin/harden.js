#!/usr/bin/env node
// The command-line entry point. It runs dist/harden.mjs, the whole CLI in one file (built by `npm run build`,
// which `npm ci` and `npm pack` run), so start-up loads one module instead of hundreds; from a checkout that
// was only compiled with tsc, it runs the compiled modules under dist/src instead.
import { existsSync } from 'node:fs';

// `harden check | head`: a reader that goes away is not an error of ours; stop quietly.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const bundle = new URL('../dist/harden.mjs', import.meta.url);
if (existsSync(bundle)) {
  // The bundle runs the CLI itself (so it also works copied alone to a node): importing it is running it.
  await import(bundle.href);
} else {
  const { main } = await import('../dist/src/cli.js');
  process.exitCode = await main(process.argv.slice(2));
}
