// harden in a real pseudo-terminal, the way a person meets it: Debian's tmux runs the real bin in a detached
// session on a socket of the test's own, keys are typed with send-keys (C-c is a real SIGINT from the
// terminal's line discipline), and the screen is read back with capture-pane. The pane stays after the
// command ends, so its last screen and exit status (or the signal that ended it) can still be read.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, colourlessEnv } from './cli.js';
import { repoRoot } from './paths.js';

export interface Terminal {
  /** The visible screen and its scrollback, trailing blank lines removed. */
  screen(): string;
  /** Types keys as tmux's send-keys names them: 'y', 'Enter', 'C-c', 'Down', 'Space'. */
  keys(...keys: string[]): void;
  /** Types text literally (no key names). */
  type(text: string): void;
  /** Waits until the screen matches, and returns it; throws with the screen after `timeoutMs`. */
  waitFor(match: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Waits for the command to end, and returns its exit status. */
  exited(timeoutMs?: number): Promise<number>;
  /** The pid of the command (the harden process). */
  pid(): number;
  /** Ends the session and removes its files. */
  close(): void;
}

export interface TerminalOptions {
  readonly env?: Record<string, string>;
  readonly columns?: number;
  readonly rows?: number;
  readonly cwd?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts `node bin/harden.cjs ARGS` in a new terminal. */
export function harden(args: readonly string[], options: TerminalOptions = {}): Terminal {
  return inTerminal([process.execPath, BIN, ...args], options);
}

/** Starts any argv in a new terminal (no shell between: each word is passed as it is). */
export function inTerminal(argv: readonly string[], options: TerminalOptions = {}): Terminal {
  const dir = mkdtempSync(path.join(tmpdir(), 'harden-tty-'));
  const socket = path.join(dir, 'tmux.sock');
  const pidFile = path.join(dir, 'pid');
  const statusFile = path.join(dir, 'status');
  const config = path.join(dir, 'tmux.conf');
  writeFileSync(config, 'set -g remain-on-exit on\nset -g history-limit 5000\nset -g status off\n');
  const env = { ...colourlessEnv(), TERM: 'xterm-256color', ...options.env };
  const tmux = (...args: string[]) => execFileSync('tmux', ['-S', socket, '-f', config, ...args], { encoding: 'utf8', env });
  // tmux's own record of a dead pane's status is lost when the terminal closes before the process is reaped, so
  // a small node parent records it: it ignores the terminal's signals (they reach the whole foreground group),
  // starts the command with the default ones, and writes its pid and how it ended.
  const parent = path.join(dir, 'parent.cjs');
  writeFileSync(
    parent,
    [
      "for (const signal of ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => {});",
      "const fs = require('node:fs');",
      'const [pidFile, statusFile, command, ...args] = process.argv.slice(2);',
      "const child = require('node:child_process').spawn(command, args, { stdio: 'inherit' });",
      'fs.writeFileSync(pidFile, String(child.pid));',
      "child.on('exit', (code, signal) => fs.writeFileSync(statusFile, String(code ?? 128 + require('node:os').constants.signals[signal])));",
      '',
    ].join('\n'),
  );
  // More than one word: tmux runs the argv itself, with no shell between.
  tmux(
    'new-session', '-d', '-s', 'harden',
    '-x', String(options.columns ?? 120), '-y', String(options.rows ?? 40),
    '-c', options.cwd ?? repoRoot,
    ...Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]),
    process.execPath, parent, pidFile, statusFile, ...argv,
  );
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      return '';
    }
  };
  const terminal: Terminal = {
    screen: () => tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'harden').replace(/\nPane is dead \([^)]*\)\s*$/, '').replace(/\s+$/, ''),
    keys: (...keys) => void tmux('send-keys', '-t', 'harden', ...keys),
    type: (text) => void tmux('send-keys', '-t', 'harden', '-l', text),
    async waitFor(match, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const screen = terminal.screen();
        if (typeof match === 'string' ? screen.includes(match) : match.test(screen)) return screen;
        if (Date.now() > deadline) throw new Error(`the terminal never showed ${String(match)}; it shows:\n${screen}`);
        await sleep(50);
      }
    },
    async exited(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // As a shell reports it: the exit status, or 128 + the signal that ended it.
        const status = read(statusFile);
        if (status !== '') return Number(status);
        if (Date.now() > deadline) throw new Error(`the command did not end; the terminal shows:\n${terminal.screen()}`);
        await sleep(50);
      }
    },
    pid() {
      const pid = read(pidFile);
      if (pid === '') throw new Error('the command has not started');
      return Number(pid);
    },
    close() {
      try {
        tmux('kill-server');
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return terminal;
}
