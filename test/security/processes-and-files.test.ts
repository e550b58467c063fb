// What harden does to the operating system, watched from outside with strace: the processes it starts (never a
// shell: only the `snap` and `systemctl` it names, with their argv), and how it creates files (every create is
// exclusive; the one write in place is a kernel parameter's running value, into its existing file under
// proc/sys, never created). apply and rollback run on a live test node under umask 000, so the modes checked
// afterwards are harden's own and not the umask's.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BIN, spawnCollecting, type Run } from '../helpers/cli.js';
import { makeLiveNode, type LiveNode } from '../helpers/live-node.js';
import { makeTempDir } from '../helpers/node-root.js';

const FAST = ['--health-timeout', '10', '--health-window', '1'];
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'busybox']);

interface Syscall {
  readonly tid: number;
  readonly name: string;
  readonly args: string;
  readonly result: string;
}

interface Trace {
  readonly run: Run;
  /** Syscalls of harden's own threads (the node process), in each thread's order. */
  readonly own: Syscall[];
  /** The processes harden started: the argv of each one's first successful execve. */
  readonly children: string[][];
}

/** Runs the bin under `strace -ff`, with umask 000, without blocking this process (the health servers answer). */
async function traced(args: readonly string[], env: Record<string, string>): Promise<Trace> {
  const dir = await makeTempDir('harden-strace-');
  const prefix = path.join(dir, 'trace');
  const strace = ['-ff', '-qq', '-s', '4096', '-e', 'trace=execve,clone,clone3,fork,vfork,open,openat,creat', '-o', prefix, process.execPath, BIN, ...args];
  const previous = process.umask(0);
  const run = await spawnCollecting('strace', strace, env).finally(() => process.umask(previous));

  const calls = new Map<number, Syscall[]>();
  for (const name of await fs.readdir(dir)) {
    const tid = Number(name.slice('trace.'.length));
    const lines = (await fs.readFile(path.join(dir, name), 'utf8')).split('\n').filter(Boolean);
    calls.set(tid, lines.flatMap((line) => {
      const match = /^(\w+)\((.*)\)\s+=\s+(.*)$/.exec(line);
      return match ? [{ tid, name: match[1], args: match[2], result: match[3] }] : [];
    }));
  }
  await fs.rm(dir, { recursive: true, force: true });

  // The node process is the thread group whose first exec is node running the bin; clone with CLONE_THREAD
  // adds a thread, anything else (clone, fork, vfork) a child process.
  const execs = (tid: number) => (calls.get(tid) ?? []).filter((c) => c.name === 'execve' && c.result === '0');
  const leader = [...calls.keys()].find((tid) => execs(tid).some((c) => c.args.includes(BIN)));
  assert.ok(leader !== undefined, 'strace saw the harden process');
  const threads = new Set<number>([leader]);
  const childPids: number[] = [];
  for (let changed = true; changed; ) {
    changed = false;
    for (const tid of [...threads]) {
      for (const call of calls.get(tid) ?? []) {
        if (!['clone', 'clone3', 'fork', 'vfork'].includes(call.name)) continue;
        const pid = Number(/(\d+)$/.exec(call.result)?.[1]);
        if (!pid || threads.has(pid) || childPids.includes(pid)) continue;
        if (call.args.includes('CLONE_THREAD')) threads.add(pid);
        else childPids.push(pid);
        changed = true;
      }
    }
  }
  const own = [...threads].flatMap((tid) => calls.get(tid) ?? []);
  const children = childPids.map((pid) => {
    const first = execs(pid)[0];
    assert.ok(first, `child ${pid} ran a program`);
    return argvOf(first.args);
  });
  return { run, own, children };
}

/** `"/path", ["a", "b"], 0x… /* n vars *\/` → ['/path', 'a', 'b'] (the program's path, then argv[1..]). */
function argvOf(execveArgs: string): string[] {
  const strings = [...execveArgs.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
  const [program, , ...rest] = strings;
  return [program, ...rest];
}

/** Every open of a path under `dir` that can write: [path, flags]. */
function writeOpens(own: readonly Syscall[], dir: string): [string, string][] {
  return own.flatMap((call) => {
    if (!['open', 'openat', 'creat'].includes(call.name)) return [];
    const file = /"((?:[^"\\]|\\.)*)"/.exec(call.args)?.[1] ?? '';
    const flags = /\b(O_[A-Z_|]+)/.exec(call.args)?.[1] ?? (call.name === 'creat' ? 'O_CREAT|O_WRONLY|O_TRUNC' : '');
    if (!file.startsWith(dir)) return [];
    return /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC/.test(flags) ? [[file, flags] as [string, string]] : [];
  });
}

async function modeOf(file: string): Promise<string> {
  return ((await fs.lstat(file)).mode & 0o7777).toString(8).padStart(4, '0');
}

const nodes: LiveNode[] = [];
test.after(async () => {
  for (const node of nodes.splice(0)) await node.close();
});

test('apply and rollback start only snap and systemctl, never a shell, and create every file exclusively; only proc/sys is written in place', async () => {
  const node = await makeLiveNode({ version: '1.28', host: {} });
  nodes.push(node);

  const apply = await traced(['apply', '--root', node.root, '--profile', 'cis', '--yes', ...FAST], node.env);
  assert.is(apply.run.status, 0, apply.run.stderr);
  const rollback = await traced(['rollback', '--root', node.root, '--yes', ...FAST], node.env);
  assert.is(rollback.run.status, 0, rollback.run.stderr);

  for (const [what, trace] of [['apply', apply], ['rollback', rollback]] as const) {
    const programs = trace.children.map(([program]) => program);
    assert.ok(programs.length > 0, `${what} started processes`);
    for (const [program, ...argv] of trace.children) {
      assert.ok(program.startsWith(node.standIns.dir), `${what} ran ${program} ${argv.join(' ')}: only snap and systemctl from PATH are expected`);
      assert.ok(['snap', 'systemctl'].includes(path.basename(program)), `${what} ran ${program}`);
      assert.not.ok(SHELLS.has(path.basename(program)) || argv[0] === '-c', `${what} started a shell: ${program} ${argv.join(' ')}`);
    }
    // The commands themselves: the pre-flight's snap version and systemctl show --property=Version (once each),
    // a restart of kubelite, and systemctl show of the units the gates watch.
    const commands = new Set(trace.children.map(([program, ...argv]) => `${path.basename(program)} ${argv[0]}`));
    assert.equal([...commands].sort(), ['snap restart', 'snap version', 'systemctl show'], what);
    const asked = trace.children.map(([program, ...argv]) => [path.basename(program), ...argv].join(' '));
    assert.is(asked.filter((line) => line === 'snap version').length, 1, what);
    assert.is(asked.filter((line) => line === 'systemctl show --property=Version').length, 1, what);
    assert.ok(trace.children.some(([, ...argv]) => argv.join(' ') === 'restart microk8s.daemon-kubelite'), `${what} restarted kubelite`);

    // Files: every open that can write under the node root (args files, companions, the state dir inside it)
    // creates a new file exclusively (O_EXCL: never through a planted symlink, never over an existing file, so
    // Node's O_TRUNC beside it truncates nothing); nothing is opened for writing in place.
    const opens = writeOpens(trace.own, node.root);
    assert.ok(opens.length > 0, `${what} wrote files`);
    // The running kernel parameters the cis profile sets, and rollback puts back: their existing procfs files,
    // opened for writing without O_CREAT (never made), with O_NOFOLLOW (never through a link).
    const procSys = path.join(node.root, 'proc/sys');
    // Sorted: the trace lists each thread's calls apart, and libuv opens them on whichever pool thread is free.
    const inPlace = opens.filter(([file]) => file.startsWith(`${procSys}/`));
    assert.equal(
      inPlace.map(([file, flags]) => [path.relative(node.root, file), flags.split('|').sort().join('|')]).sort(),
      ['proc/sys/kernel/panic', 'proc/sys/kernel/panic_on_oops', 'proc/sys/vm/overcommit_memory'].map((file) => [file, 'O_CLOEXEC|O_NOFOLLOW|O_NONBLOCK|O_TRUNC|O_WRONLY']),
      `${what}: the in-place writes`,
    );
    const unsafe = opens.filter(([file, flags]) => !file.startsWith(`${procSys}/`) && !(flags.includes('O_CREAT') && flags.includes('O_EXCL')));
    assert.equal(unsafe, [], `${what}: opens that write without O_CREAT|O_EXCL`);
  }
  assert.is(await fs.readFile(path.join(node.root, 'proc/sys/kernel/panic'), 'utf8'), '0\n', 'rollback put the running value back');

  // Under umask 000 the state stays private: the directories 0700, the snapshot copies and manifests 0600.
  const snapshots = path.join(node.stateDir, 'snapshots');
  assert.is(await modeOf(node.stateDir), '0700');
  assert.is(await modeOf(snapshots), '0700');
  const ids = await fs.readdir(snapshots);
  assert.is(ids.length, 2, 'the apply and the rollback each took a snapshot');
  for (const id of ids) {
    assert.is(await modeOf(path.join(snapshots, id)), '0700', id);
    for (const name of await fs.readdir(path.join(snapshots, id))) assert.is(await modeOf(path.join(snapshots, id, name)), '0600', `${id}/${name}`);
  }
  assert.equal((await fs.readdir(node.stateDir)).sort(), ['snapshots'], 'the lock is released');
});

test('check and plan start no process at all', async () => {
  const node = await makeLiveNode({ version: '1.21' });
  nodes.push(node);
  for (const args of [['check', '--profile', 'cis'], ['plan', '--profile', 'cis'], ['inspect']]) {
    const trace = await traced([args[0], '--root', node.root, ...args.slice(1)], node.env);
    assert.ok(trace.run.status === 0 || trace.run.status === 2, `${args[0]}: ${trace.run.stderr}`);
    assert.equal(trace.children, [], `${args[0]} started processes`);
    assert.equal(writeOpens(trace.own, node.root), [], `${args[0]} opened files for writing`);
  }
});

test.run();
