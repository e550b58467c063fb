// Rounds of many processes at once against one stale lock, for test/effects/lock-race.test.ts and
// bench/lock-race.js. Each contender is a real process (test/helpers/lock-contender.ts, calling the compiled
// acquireLock on the real disk), started once and reused for every round; each round starts from the lock of a
// dead pid of this boot. A holder keeps the lock until every contender of the round has answered, so the holders
// a round reports are holders at the same moment: the count is exact, with no timing in it.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pidIsAlive } from '../../src/effects/lock.js';
import { makeTempDir } from './node-root.js';
import { makeRng } from './prng.js';

const CONTENDER = fileURLToPath(new URL('./lock-contender.js', import.meta.url));

export interface RaceOptions {
  readonly rounds: number;
  readonly contenders: number;
  readonly seed: number;
}

export interface RoundResult {
  readonly round: number;
  /** Pids holding the lock at once. */
  readonly holders: readonly number[];
  /** Whether the holder was the run that removed the stale lock (otherwise it linked after another removed it). */
  readonly tookOver: readonly boolean[];
  /** What went wrong in this round besides the count: refusals that do not name the holder, leftovers. */
  readonly problems: readonly string[];
}

interface Answer {
  readonly pid: number;
  readonly round: number;
  readonly held?: boolean;
  readonly tookOverFrom?: number | null;
  readonly error?: string;
}

class Contender {
  private readonly waiting: ((answer: Answer) => void)[] = [];
  private readonly exited: Promise<unknown>;

  constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    createInterface({ input: child.stdout }).on('line', (line) => this.waiting.shift()?.(JSON.parse(line) as Answer));
    this.exited = new Promise((resolve) => child.on('exit', resolve));
  }

  static start(): Contender {
    return new Contender(spawn(process.execPath, [CONTENDER], { stdio: ['pipe', 'pipe', 'inherit'] }));
  }

  send(command: object): Promise<Answer> {
    const answer = new Promise<Answer>((resolve) => this.waiting.push(resolve));
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
    return answer;
  }

  async stop(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
  }
}

/** The pid of a process of this boot that has exited. */
export async function deadPid(): Promise<number> {
  for (;;) {
    const child = spawn('true', [], { stdio: 'ignore' });
    await new Promise((resolve) => child.on('exit', resolve));
    if (!pidIsAlive(child.pid!)) return child.pid!;
  }
}

/** Runs the rounds; `onRound` sees each as it ends. */
export async function runLockRace(options: RaceOptions, onRound: (result: RoundResult) => void = () => undefined): Promise<RoundResult[]> {
  const dir = path.join(await makeTempDir('harden-lock-race-'), 'state');
  await fs.mkdir(dir, { mode: 0o700 });
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const contenders = Array.from({ length: options.contenders }, () => Contender.start());
  const rng = makeRng(options.seed);
  const results: RoundResult[] = [];
  try {
    for (let round = 1; round <= options.rounds; round += 1) {
      const dead = await deadPid();
      await fs.writeFile(path.join(dir, 'lock'), `${JSON.stringify({ pid: dead, startedAt: '2026-01-01T00:00:00.000Z', bootId })}\n`, { mode: 0o600 });
      // Most start at once; a few a moment later, to meet the others half-way through a take-over.
      const answers = await Promise.all(contenders.map((c) => c.send({ round, dir, delay: rng() < 0.75 ? 0 : Math.floor(rng() * 4) })));
      const holders = answers.filter((a) => a.held);
      const problems: string[] = [];
      if (holders.length === 1) {
        // The holder took the lock at a time of its own: the message names it to the second.
        const expected = new RegExp(`^another harden run \\(pid ${holders[0].pid}, since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\) holds ${dir}/lock$`);
        for (const a of answers) if (!a.held && !expected.test(a.error ?? '')) problems.push(`pid ${a.pid} was refused with "${a.error}", not ${expected}`);
      }
      for (const h of holders) if (h.tookOverFrom !== null && h.tookOverFrom !== dead) problems.push(`pid ${h.pid} took over from ${h.tookOverFrom}, not from ${dead}`);
      await Promise.all(answers.map((a, i) => (a.held ? contenders[i].send({ round, release: true }) : null)));
      const left = await fs.readdir(dir);
      if (left.length) problems.push(`left in the state dir: ${left.join(', ')}`);
      for (const name of left) await fs.rm(path.join(dir, name), { force: true, recursive: true });
      const result = { round, holders: holders.map((h) => h.pid), tookOver: holders.map((h) => h.tookOverFrom === dead), problems };
      results.push(result);
      onRound(result);
    }
  } finally {
    await Promise.all(contenders.map((c) => c.stop()));
    await fs.rm(path.dirname(dir), { recursive: true, force: true });
  }
  return results;
}
