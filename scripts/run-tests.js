#!/usr/bin/env node
// Runs every compiled uvu suite under dist/test and closes with the line CI reads:
// "N passed, N failed". The exit status is uvu's (non-zero when any test failed).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const pattern = process.argv[2] ?? '\\.test\\.js$';
const result = spawnSync(process.execPath, ['node_modules/uvu/bin.js', 'dist/test', pattern], {
  cwd: repo,
  encoding: 'utf8',
  env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
  maxBuffer: 256 * 1024 * 1024,
});
process.stdout.write(result.stdout);
process.stderr.write(result.stderr);

const count = (label) => Number(result.stdout.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'))?.[1] ?? 0);
const total = count('Total');
const passed = count('Passed');
const skipped = count('Skipped');
const failed = result.status === 0 ? total - passed - skipped : Math.max(total - passed - skipped, 1);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = result.status === 0 && failed === 0 ? 0 : 1;
