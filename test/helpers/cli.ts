// Running harden the two ways users and tests do: the real bin in a child process, or main() in-process
// with effects a test supplies.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { main } from '../../src/cli.js';
import type { ChangeEffects, Effects } from '../../src/commands/context.js';
import { realFileSystem, type FileSystem } from '../../src/effects/file-system.js';
import { repoRoot } from './paths.js';

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export const BIN = path.join(repoRoot, 'bin', 'harden.cjs');

/** This process's environment without the colour variables (NO_COLOR, FORCE_COLOR, TERM). */
export function colourlessEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !['NO_COLOR', 'FORCE_COLOR', 'TERM'].includes(key)));
}

/** Spawns bin/harden.cjs without a shell, with no terminal and no colour variables. */
export function runBin(args: readonly string[], env: Record<string, string> = {}, input?: string): Run {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...colourlessEnv(), ...env }, cwd: repoRoot, ...(input === undefined ? {} : { input }) });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * The same without blocking this process: for tests whose own servers (health endpoints on loopback) must
 * keep answering while the bin runs.
 */
export function runBinAsync(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return spawnCollecting(process.execPath, [BIN, ...args], env);
}

/** Runs a command from the repository without a shell or colour variables, and collects what it prints. */
export function spawnCollecting(command: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...colourlessEnv(), ...env }, cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Runs main() in this process with the given filesystem and captured output. */
export async function runInProcess(args: readonly string[], fs: FileSystem = realFileSystem): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const effects: Effects = {
    fs,
    io: { out: (text) => { stdout += text; }, err: (text) => { stderr += text; }, isTTY: false, interactive: false, env: {} },
  };
  const status = await main(args, effects);
  return { status, stdout, stderr };
}

export interface InProcessOptions {
  readonly fs?: FileSystem;
  /** What apply and rollback use to change a node: file ops, services, prompt, clock. */
  readonly change?: Partial<ChangeEffects>;
  /** Whether questions may be asked (a terminal on stdin and stdout). Default false. */
  readonly interactive?: boolean;
  readonly env?: Record<string, string | undefined>;
  /** What standard input holds (`--cluster -`); absent: nothing is piped in. */
  readonly input?: string;
}

/** runInProcess with change effects and a terminal (or not). */
export async function runInProcessWith(args: readonly string[], options: InProcessOptions = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const interactive = options.interactive ?? false;
  const effects: Effects = {
    fs: options.fs ?? realFileSystem,
    io: {
      out: (text) => { stdout += text; },
      err: (text) => { stderr += text; },
      isTTY: interactive,
      interactive,
      env: options.env ?? { NO_COLOR: '1' },
      ...(options.input === undefined ? {} : { readInput: () => Buffer.from(options.input!, 'utf8') }),
    },
    change: options.change,
  };
  const status = await main(args, effects);
  return { status, stdout, stderr };
}
