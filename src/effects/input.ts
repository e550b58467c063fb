// The process's standard input, read whole: for `--cluster -` (facts piped in by Ansible, which then copies no
// file to the node). Read from descriptor 0 directly, as output.ts writes, without building process.stdin.
import { readSync } from 'node:fs';
import { errorCode } from './file-system.js';
import { isTerminal } from './output.js';

export interface InputOps {
  read(fd: number, buffer: Buffer): number;
  isTerminal(fd: number): boolean;
  /** Waits a little before reading a descriptor that had nothing yet (non-blocking, EAGAIN). */
  pause(): void;
}

const realInputOps: InputOps = {
  read: (fd, buffer) => readSync(fd, buffer, 0, buffer.length, null),
  isTerminal,
  pause: () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10),
};

/** Why standard input could not be read: a terminal (nobody piped anything in), or more than `max` bytes. */
export class InputError extends Error {
  constructor(readonly reason: 'terminal' | 'too-large' | 'unreadable', detail: string) {
    super(detail);
  }
}

/** Everything on standard input up to its end, at most `max` bytes. */
export function readStandardInput(max: number, ops: InputOps = realInputOps): Buffer {
  if (ops.isTerminal(0)) throw new InputError('terminal', 'standard input is a terminal');
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.alloc(64 * 1024);
    let count: number;
    try {
      count = ops.read(0, chunk);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EAGAIN') {
        ops.pause();
        continue;
      }
      if (code === 'EOF') break;
      throw new InputError('unreadable', code ?? 'unreadable');
    }
    if (count === 0) break;
    total += count;
    if (total > max) throw new InputError('too-large', `more than ${max} bytes`);
    chunks.push(chunk.subarray(0, count));
  }
  return Buffer.concat(chunks, total);
}
