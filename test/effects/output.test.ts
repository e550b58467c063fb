// The CLI's own output: straight to descriptors 1 and 2, every byte in order, a closed pipe ending the output
// (not the command), a non-blocking descriptor handed to the stream. Checked with a recording stand-in for the
// two system calls, and once with a real pipe whose reader goes away.
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { descriptorWriter, isTerminal, type OutputOps } from '../../src/effects/output.js';
import { BIN, colourlessEnv } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/node-root.js';
import { repoRoot } from '../helpers/paths.js';

function errno(code: string): Error {
  return Object.assign(new Error(code), { code });
}

/** Writes at most `chunk` bytes a call, failing with the queued errors first; the stream records what it gets. */
function recorder(options: { chunk?: number; fail?: string[] } = {}) {
  const written: number[] = [];
  const streamed: number[] = [];
  const listeners: ((error: Error) => void)[] = [];
  const fail = [...(options.fail ?? [])];
  const ops: OutputOps = {
    write(_fd, bytes, offset) {
      const code = fail.shift();
      if (code) throw errno(code);
      const n = Math.min(options.chunk ?? Infinity, bytes.length - offset);
      written.push(...bytes.subarray(offset, offset + n));
      return n;
    },
    stream: () => ({
      write: (bytes: Uint8Array) => streamed.push(...bytes),
      on: (_event: 'error', listener: (error: Error) => void) => listeners.push(listener),
    }),
  };
  const text = (bytes: number[]) => Buffer.from(bytes).toString('utf8');
  return { ops, written: () => text(written), streamed: () => text(streamed), emit: (error: Error) => listeners.forEach((l) => l(error)) };
}

test('every byte is written, in order, across partial writes and multi-byte characters', () => {
  const r = recorder({ chunk: 3 });
  const out = descriptorWriter(1, r.ops);
  out('Plan for profile cis — 2 changes\n');
  out('');
  out('déjà vu ✓\n');
  assert.is(r.written(), 'Plan for profile cis — 2 changes\ndéjà vu ✓\n');
  assert.is(r.streamed(), '');
});

test('a reader that goes away (EPIPE) ends the output quietly; the writer drops the rest without throwing', () => {
  const r = recorder({ fail: ['', 'EPIPE'] });
  const out = descriptorWriter(1, r.ops);
  out('first\n');
  out('second\n');
  out('third\n');
  assert.is(r.written(), 'first\n');
});

test('a descriptor that would block (EAGAIN) hands what is left to the stream, and everything after it too', () => {
  const r = recorder({ chunk: 4, fail: ['', 'EAGAIN'] });
  const out = descriptorWriter(2, r.ops);
  out('warning: one\n');
  out('warning: two\n');
  assert.is(r.written(), 'warn');
  assert.is(r.streamed(), 'ing: one\nwarning: two\n');
  // EPIPE on the stream later is quiet too; anything else is not ours to swallow.
  r.emit(errno('EPIPE'));
  out('dropped\n');
  assert.is(r.streamed(), 'ing: one\nwarning: two\n');
  const other = recorder({ fail: ['EAGAIN'] });
  descriptorWriter(2, other.ops)('x');
  assert.throws(() => other.emit(errno('EIO')), /EIO/);
});

test('any other write error is thrown', () => {
  const r = recorder({ fail: ['EIO'] });
  assert.throws(() => descriptorWriter(1, r.ops)('text'), /EIO/);
});

test('a pipe or a file is no terminal; a closed descriptor is none either', () => {
  const probe = spawnSync(process.execPath, ['-e', `import('${path.join(repoRoot, 'dist/src/effects/output.js')}').then((m) => console.log(JSON.stringify([m.isTerminal(0), m.isTerminal(1), m.isTerminal(99)])))`], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'inherit'], env: colourlessEnv() });
  assert.is(probe.stdout.trim(), '[false,false,false]');
  assert.is(isTerminal(99), false);
});

test('harden check | head -1: the bin exits with check\'s own code and says nothing on stderr', async () => {
  // Four nodes' reports are more than a pipe holds, so harden is still writing when head goes away.
  const dir = await makeTempDir('harden-epipe-');
  const roots: string[] = [];
  for (let i = 0; i < 4; i += 1) {
    await fs.symlink(path.join(repoRoot, 'examples', 'node-1.28'), path.join(dir, `node-${i}`));
    roots.push('--root', path.join(dir, `node-${i}`));
  }
  const run = spawnSync('bash', ['-c', 'strace -f -e trace=write -o "$0/strace" "$@" | head -1; echo "status ${PIPESTATUS[0]}"', dir, process.execPath, BIN, ...roots, 'check', '--profile', 'cis'], { cwd: repoRoot, encoding: 'utf8', env: { ...colourlessEnv(), NO_COLOR: '1' } });
  assert.is(run.stdout, `Profile cis on ${roots[1]} (MicroK8s 1.28.15)\nstatus 2\n`);
  assert.is(run.stderr, '');
  assert.match(await fs.readFile(path.join(dir, 'strace'), 'utf8'), /EPIPE/, 'the pipe was closed while harden wrote');
});

test.run();
