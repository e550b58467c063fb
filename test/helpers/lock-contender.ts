// A process that contends for harden's lock when told to, for the lock stress tests: real processes, each
// calling the compiled acquireLock on the real disk. It reads one JSON line per command on stdin and answers
// with one JSON line on stdout:
//   {"round":N,"dir":D,"delay":MS}  waits MS milliseconds, then tries to take D's lock and answers
//                                   {"round":N,"pid":P,"held":true,"tookOverFrom":…} or {…,"held":false,"error":…};
//                                   a lock taken is held until the release command
//   {"round":N,"release":true}      releases the lock taken in round N and answers {"round":N,"released":true}
// With `--kill-at before-rename` or `--kill-at after-rename` the process kills itself (SIGKILL) at that point
// of its first take-over: a run killed half-way through taking a stale lock over.
import { createInterface } from 'node:readline';
import { realFileOps, type FileOps } from '../../src/effects/file-ops.js';
import { acquireLock, type Lock } from '../../src/effects/lock.js';

interface Command {
  readonly round: number;
  readonly dir?: string;
  readonly delay?: number;
  readonly release?: boolean;
}

const killAt = process.argv[process.argv.indexOf('--kill-at') + 1];
const ops: FileOps = process.argv.includes('--kill-at')
  ? {
      ...realFileOps,
      rename: async (from, to) => {
        if (killAt === 'before-rename') process.kill(process.pid, 'SIGKILL');
        await realFileOps.rename(from, to);
        if (killAt === 'after-rename') process.kill(process.pid, 'SIGKILL');
      },
    }
  : realFileOps;
const held = new Map<number, Lock>();
const answer = (value: object) => process.stdout.write(`${JSON.stringify({ pid: process.pid, ...value })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as Command;
  if (command.release) {
    await held.get(command.round)?.release();
    held.delete(command.round);
    answer({ round: command.round, released: true });
    continue;
  }
  if (command.delay) await new Promise((resolve) => setTimeout(resolve, command.delay));
  try {
    const lock = await acquireLock(ops, command.dir!);
    held.set(command.round, lock);
    answer({ round: command.round, held: true, tookOverFrom: lock.tookOverFrom });
  } catch (error) {
    answer({ round: command.round, held: false, error: (error as Error).message });
  }
}
