// Standard input read whole (`--cluster -`), through stand-in descriptor ops: a terminal is refused before any
// read (nobody piped anything in: reading would wait for typing), a non-blocking pipe is waited on, more than the
// limit is refused, and a read error is named.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InputError, readStandardInput, type InputOps } from '../../src/effects/input.js';
import { readClusterFacts } from '../../src/effects/cluster-store.js';
import { realFileSystem } from '../../src/effects/file-system.js';

/** Ops that hand out the given chunks (or throw the given codes) one read at a time. */
function ops(steps: (string | { code: string })[], terminal = false): InputOps & { reads: number; pauses: number } {
  const state = {
    reads: 0,
    pauses: 0,
    isTerminal: () => terminal,
    pause: () => {
      state.pauses += 1;
    },
    read: (_fd: number, buffer: Buffer) => {
      state.reads += 1;
      const step = steps.shift();
      if (step === undefined) return 0;
      if (typeof step !== 'string') throw Object.assign(new Error(step.code), { code: step.code });
      return buffer.write(step, 'utf8');
    },
  };
  return state;
}

test('reads every chunk to the end, waiting on a descriptor that has nothing yet', () => {
  const stand = ops(['{"a":', { code: 'EAGAIN' }, '1}']);
  assert.is(readStandardInput(1024, stand).toString('utf8'), '{"a":1}');
  assert.is(stand.pauses, 1);
  assert.is(stand.reads, 4);
  assert.is(readStandardInput(1024, ops([{ code: 'EOF' }])).length, 0);
});

test('a terminal is refused before anything is read', () => {
  const stand = ops(['typed'], true);
  const error = (() => {
    try {
      readStandardInput(1024, stand);
    } catch (caught) {
      return caught;
    }
  })();
  assert.instance(error, InputError);
  assert.is((error as InputError).reason, 'terminal');
  assert.is(stand.reads, 0);
});

test('more than the limit, or a read error, is an InputError', () => {
  assert.throws(() => readStandardInput(4, ops(['abc', 'de'])), (error: unknown) => error instanceof InputError && error.reason === 'too-large');
  assert.throws(() => readStandardInput(4, ops([{ code: 'EIO' }])), (error: unknown) => error instanceof InputError && error.reason === 'unreadable' && error.message === 'EIO');
});

test('--cluster - with a terminal, too much, or a read error: one line naming standard input', async () => {
  const read = async (fail: InputError) =>
    readClusterFacts(realFileSystem, '-', { now: new Date(), maxAge: 60, input: () => { throw fail; } }).then(
      () => 'read',
      (error: Error & { hint?: string }) => `${error.message} | ${error.hint}`,
    );
  assert.is(await read(new InputError('terminal', 'standard input is a terminal')), 'cannot read the cluster facts from standard input: it is a terminal | pipe them in (harden plan --cluster - < cluster.json), or name the file: --cluster FILE');
  assert.is(await read(new InputError('too-large', 'more')), 'standard input is not cluster facts: it is larger than 64 MiB | make them again with harden cluster facts NODE.json… --out FILE');
  assert.is(await read(new InputError('unreadable', 'EIO')), 'cannot read the cluster facts from standard input: EIO | pipe them in (harden plan --cluster - < cluster.json), or name the file: --cluster FILE');
});

test.run();
