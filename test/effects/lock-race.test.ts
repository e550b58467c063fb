// Many harden processes at once against one stale lock: at most one may hold it. Real processes (each a node
// running the compiled acquireLock, test/helpers/lock-contender.ts) on the real disk; every round starts from
// the lock of a dead pid of this boot. A holder keeps the lock until every contender of the round has answered,
// so the holders a round reports are holders at the same moment: the count is exact, with no timing in it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pidIsAlive } from '../../src/effects/lock.js';
import { makeTempDir } from '../helpers/node-root.js';
import { makeRng } from '../helpers/prng.js';

const CONTENDER = fileURLToPath(new URL('../helpers/lock-contender.js', import.meta.url));
const ROUNDS = Number(process.env.HARDEN_LOCK_RACE_ROUNDS ?? 40);
const CONTENDERS = 12;

interface Answer {
  readonly pid: number;
  readonly round: number;
  readonly held?: boolean;
  readonly tookOverFrom?: number | null;
  readonly error?: string;
  readonly released?: boolean;
}

class Contender {
  private readonly waiting: ((answer: Answer) => void)[] = [];
  readonly exited: Promise<number | null>;

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => this.waiting.shift()?.(JSON.parse(line) as Answer));
    this.exited = new Promise((resolve) => child.on('exit', resolve));
  }

  static start(): Contender {
    return new Contender(spawn(process.execPath, [CONTENDER], { stdio: ['pipe', 'pipe', 'pipe'] }));
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
async function deadPid(): Promise<number> {
  const child = spawn('true', [], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

async function writeStaleLock(dir: string, pid: number): Promise<void> {
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  await fs.writeFile(path.join(dir, 'lock'), `${JSON.stringify({ pid, startedAt: '2026-01-01T00:00:00.000Z', bootId })}\n`, { mode: 0o600 });
}

test(`${CONTENDERS} processes at once against a dead pid's lock, ${ROUNDS} rounds: exactly one holds it in each round, every other is refused naming it, and nothing is left behind`, async () => {
  const dir = path.join(await makeTempDir('harden-lock-race-'), 'state');
  await fs.mkdir(dir, { mode: 0o700 });
  const contenders = Array.from({ length: CONTENDERS }, () => Contender.start());
  const rng = makeRng(14);
  const holdersPerRound: number[] = [];
  const failures: string[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round += 1) {
      let dead = await deadPid();
      while (pidIsAlive(dead)) dead = await deadPid();
      await writeStaleLock(dir, dead);
      // Most start at once; a few a moment later, to meet the others half-way through a take-over.
      const answers = await Promise.all(contenders.map((c) => c.send({ round, dir, delay: rng() < 0.75 ? 0 : Math.floor(rng() * 4) })));
      const holders = answers.filter((a) => a.held);
      holdersPerRound.push(holders.length);
      if (holders.length === 1) {
        const expected = `another harden run (pid ${holders[0].pid}) holds ${dir}/lock`;
        for (const a of answers) if (!a.held && a.error !== expected) failures.push(`round ${round}: pid ${a.pid} was refused with "${a.error}", not "${expected}"`);
      }
      for (const h of holders) if (h.tookOverFrom !== null && h.tookOverFrom !== dead) failures.push(`round ${round}: pid ${h.pid} took over from ${h.tookOverFrom}, not from ${dead}`);
      await Promise.all(holders.map((h) => contenders.find((c, i) => answers[i] === h)!.send({ round, release: true })));
      const left = await fs.readdir(dir);
      if (left.length) failures.push(`round ${round}: left in the state dir: ${left.join(', ')}`);
      for (const name of left) await fs.rm(path.join(dir, name), { force: true, recursive: true });
    }
  } finally {
    await Promise.all(contenders.map((c) => c.stop()));
  }
  assert.equal(holdersPerRound, Array(ROUNDS).fill(1), 'holders at once, round by round');
  assert.equal(failures, []);
});

test.run();
