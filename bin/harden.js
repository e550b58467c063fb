#!/usr/bin/env node
// The command-line entry point: everything lives in the compiled CLI module.
import { main } from '../dist/src/cli.js';

process.exitCode = await main(process.argv.slice(2));
