// The process's own output: straight to file descriptors 1 and 2. process.stdout would first build a stream
// object (and, for a pipe, load node:net and node:stream), a noticeable part of a short command's start-up.
// Writes stay synchronous and in order, as process.stdout's are on Linux.
//  - A reader that goes away (`harden check | head`, EPIPE) is not an error of ours: the rest of the output
//    is dropped and the command runs to its end, so an apply is never cut short by a closed pipe.
//  - A descriptor left non-blocking by whoever opened it (EAGAIN) is handed to process.stdout or
//    process.stderr, which wait for it to drain.
import { fstatSync, writeSync } from 'node:fs';
import { builtin } from '../lazy.js';
import { errorCode } from './file-system.js';

/**
 * Whether the descriptor is a terminal. A file or a pipe is not a character device, which one fstat tells;
 * node:tty (which loads node:net) is asked only about character devices (a terminal, or /dev/null).
 */
export function isTerminal(fd: number): boolean {
  try {
    if (!fstatSync(fd).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  return builtin('node:tty').isatty(fd);
}

/** The width of the terminal on the descriptor, or null when it is not one (or does not say). */
export function terminalColumns(fd: 1 | 2): number | null {
  if (!isTerminal(fd)) return null;
  const columns = (fd === 1 ? process.stdout : process.stderr).columns;
  return typeof columns === 'number' && columns > 0 ? columns : null;
}

export interface OutputOps {
  write(fd: number, bytes: Uint8Array, offset: number): number;
  /** The stream for the descriptor, for what a non-blocking descriptor could not take at once. */
  stream(fd: 1 | 2): { write(bytes: Uint8Array): unknown; on(event: 'error', listener: (error: Error) => void): unknown };
}

const realOutputOps: OutputOps = {
  write: (fd, bytes, offset) => writeSync(fd, bytes, offset),
  stream: (fd) => (fd === 1 ? process.stdout : process.stderr),
};

/** A writer for descriptor 1 or 2. */
export function descriptorWriter(fd: 1 | 2, ops: OutputOps = realOutputOps): (text: string) => void {
  let state: 'direct' | 'stream' | 'closed' = 'direct';
  let stream: ReturnType<OutputOps['stream']> | undefined;
  const toStream = (bytes: Uint8Array) => {
    if (!stream) {
      stream = ops.stream(fd);
      stream.on('error', (error) => {
        if (errorCode(error) !== 'EPIPE') throw error;
        state = 'closed';
      });
    }
    stream.write(bytes);
  };
  return (text) => {
    if (state === 'closed' || text === '') return;
    const bytes = Buffer.from(text, 'utf8');
    if (state === 'stream') return toStream(bytes);
    let offset = 0;
    while (offset < bytes.length) {
      try {
        offset += ops.write(fd, bytes, offset);
      } catch (error) {
        const code = errorCode(error);
        if (code === 'EPIPE') {
          state = 'closed';
          return;
        }
        if (code !== 'EAGAIN') throw error;
        state = 'stream';
        return toStream(bytes.subarray(offset));
      }
    }
  };
}
