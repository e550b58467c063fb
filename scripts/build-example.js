#!/usr/bin/env node
// Rebuilds the bundled example node (examples/node-1.28) from the 1.28 fixture, laid out as a real node.
// Run after `npm run build`. test/examples.test.ts checks that the committed tree matches this output.
import { rmSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { layOutNode } from '../dist/test/helpers/node-root.js';

const target = fileURLToPath(new URL('../examples/node-1.28', import.meta.url));
rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
await layOutNode(target, { version: '1.28', snapVersion: 'v1.28.15' });
console.log(`wrote ${target}`);
