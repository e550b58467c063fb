// Running harden the two ways users and tests do: the real bin in a child process, or main() in-process
// with effects a test supplies.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { main } from '../../src/cli.js';
import type { Effects } from '../../src/commands/context.js';
import { realFileSystem, type FileSystem } from '../../src/effects/file-system.js';
import { repoRoot } from './paths.js';

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export const BIN = path.join(repoRoot, 'bin', 'harden.js');

/** Spawns bin/harden.js without a shell, with no terminal and no colour variables. */
export function runBin(args: readonly string[], env: Record<string, string> = {}): Run {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !['NO_COLOR', 'FORCE_COLOR', 'TERM'].includes(key)));
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...clean, ...env }, cwd: repoRoot });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
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
