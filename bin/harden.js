#!/usr/bin/env node
// The command-line entry point: everything lives in the compiled CLI module.
import { main } from '../dist/src/cli.js';

// `harden check | head`: a reader that goes away is not an error of ours; stop quietly.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2));
