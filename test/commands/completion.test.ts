// `harden completion`: the script bash and zsh load, and a real bash completing with it.
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BIN, runBin } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';
import { makeNode, makeTempDir } from '../helpers/node-root.js';

// The shell is told explicitly: yargs picks zsh's script when $SHELL or $ZSH_NAME names zsh.
const BASH = { SHELL: '/bin/bash', ZSH_NAME: '' };

test('harden completion prints the bash script: the completion function, registered for harden', () => {
  const run = runBin(['completion'], BASH);
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stderr, '');
  assert.ok(run.stdout.startsWith('###-begin-harden-completions-###\n'), run.stdout);
  assert.ok(run.stdout.includes('\n_harden_yargs_completions()\n{\n'));
  assert.ok(run.stdout.includes('type_list=$(harden --get-yargs-completions "${args[@]}")'));
  assert.ok(run.stdout.includes('\ncomplete -o bashdefault -o default -F _harden_yargs_completions harden\n'));
  assert.ok(run.stdout.endsWith('###-end-harden-completions-###\n'));
});

test('with $SHELL naming zsh it prints the zsh script', () => {
  const run = runBin(['completion'], { SHELL: '/usr/bin/zsh' });
  assert.is(run.status, 0, run.stderr);
  assert.ok(run.stdout.startsWith('#compdef harden\n'), run.stdout);
  assert.ok(run.stdout.includes('\ncompdef _harden_yargs_completions harden\n'));
  assert.not.ok(run.stdout.includes('complete -o'));
});

/** Sources the script in a real bash with `harden` on PATH, completes `words` (the last one being typed). */
async function complete(words: readonly string[]): Promise<string[]> {
  const dir = await makeTempDir('harden-completion-');
  const script = path.join(dir, 'harden-completion.bash');
  await fs.writeFile(script, runBin(['completion'], BASH).stdout);
  await fs.mkdir(path.join(dir, 'bin'));
  await fs.writeFile(path.join(dir, 'bin/harden'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`, { mode: 0o755 });
  const quoted = words.map((word) => `'${word}'`).join(' ');
  const result = spawnSync('bash', ['--norc', '--noprofile', '-c', `source "$1"; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _harden_yargs_completions; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', script], {
    encoding: 'utf8',
    env: { ...process.env, ...BASH, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` },
  });
  assert.is(result.status, 0, result.stderr);
  assert.is(result.stderr, '');
  return result.stdout.split('\n').filter(Boolean);
}

test('bash completes a command: harden pl<TAB> -> plan, harden pro<TAB> -> profiles', async () => {
  assert.equal(await complete(['harden', 'pl']), ['plan']);
  assert.equal(await complete(['harden', 'pro']), ['profiles']);
});

test("bash completes a command's options: harden check --ro<TAB> -> --root, --roots", async () => {
  assert.equal((await complete(['harden', 'check', '--ro'])).sort(), ['--root', '--roots']);
});

test('bin/harden.cjs is executable in git, so a link to it on PATH runs harden (as the README installs completion)', async () => {
  const staged = spawnSync('git', ['ls-files', '-s', 'bin/harden.cjs'], { cwd: repoRoot, encoding: 'utf8' });
  assert.is(staged.status, 0, staged.stderr);
  assert.match(staged.stdout, /^100755 [0-9a-f]+ 0\tbin\/harden\.cjs\n$/);
  const dir = await makeTempDir('harden-link-');
  await fs.symlink(BIN, path.join(dir, 'harden'));
  const run = spawnSync('bash', ['--norc', '--noprofile', '-c', 'harden --version'], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, /^\d+\.\d+\.\d+\n$/);
});

test('bash completes profile names: after --profile, and after profiles show', async () => {
  assert.equal(await complete(['harden', 'check', '--profile', 'c']), ['cis', 'cis-1-12']);
  assert.equal(await complete(['harden', 'check', '--profile', 'cis-']), ['cis-1-12']);
  assert.equal(await complete(['harden', 'plan', '--profile', '']), ['baseline', 'cis', 'cis-1-12']);
  assert.equal(await complete(['harden', 'profiles', 'show', '']), ['baseline', 'cis', 'cis-1-12']);
  assert.equal(await complete(['harden', 'profiles', 'validate', 'b']), ['baseline']);
});

test("bash completes rule ids: --only and --skip (the given profile's, each item of a list), and profiles show NAME", async () => {
  assert.equal(await complete(['harden', 'plan', '--only', 'kubelet.read']), ['kubelet.read-only-port']);
  assert.equal(await complete(['harden', 'check', '--profile', 'cis', '--skip', 'kubelet.read-only-port,kubelet.protect']), ['kubelet.read-only-port,kubelet.protect-kernel-defaults']);
  // Not in baseline: --only completes from the default profile when none is given.
  assert.equal(await complete(['harden', 'check', '--only', 'kubelet.protect']), []);
  assert.equal(await complete(['harden', 'profiles', 'show', 'cis', 'kubelet.rotate-c']), ['kubelet.rotate-certificates']);
  // cis-1-12 has no --protect-kernel-defaults rule, and a kube-proxy rule of its own
  assert.equal(await complete(['harden', 'check', '--profile', 'cis-1-12', '--skip', 'kubelet.protect']), []);
  assert.equal(await complete(['harden', 'profiles', 'show', 'cis-1-12', 'kube-proxy.m']), ['kube-proxy.metrics-bind-address']);
  // An unknown profile completes nothing, and says nothing.
  assert.equal(await complete(['harden', 'profiles', 'show', 'nosuch', 'kubelet.']), []);
});

test('bash completes snapshot ids of the --root given: rollback ID, snapshots diff ID', async () => {
  const root = await makeNode({ version: '1.28' });
  const apply = runBin(['--root', root, 'apply', '--yes', '--no-restart']);
  assert.is(apply.status, 0, apply.stderr);
  const id = /^Snapshot (\S+) in /m.exec(apply.stdout)![1];
  assert.equal(await complete(['harden', '--root', root, 'rollback', '']), [id]);
  assert.equal(await complete(['harden', `--root=${root}`, 'snapshots', 'diff', id.slice(0, 4)]), [id]);
  // A root with no state: nothing.
  assert.equal(await complete(['harden', '--root', await makeTempDir(), 'rollback', '']), []);
});

test.run();
