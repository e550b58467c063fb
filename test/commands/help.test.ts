// --help and the usage messages: help folded at words to the terminal's width, help for `completion`, and an
// option given to a command that does not take it named with the commands that do.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin, type Run } from '../helpers/cli.js';
import { harden } from '../helpers/terminal.js';
import { wrapHelp } from '../../src/ui/help-text.js';

function assertError(run: Run, error: string, hint: string): void {
  assert.is(run.status, 1, run.stderr);
  assert.is(run.stdout, '');
  assert.is(run.stderr, `error: ${error}\nhint: ${hint}\n`);
}

test('an option another command takes: the commands that take it, not "did you mean" the same option', () => {
  assertError(runBin(['check', '--yes']), 'check takes no --yes (apply, rollback and drift do)', 'see harden check --help');
  assertError(runBin(['--root', '/', 'check', '--force']), 'check takes no --force (apply and rollback do)', 'see harden check --help');
  assertError(runBin(['plan', '--no-restart']), 'plan takes no --no-restart (apply and rollback do)', 'see harden plan --help');
  assertError(runBin(['inspect', '--profile', 'cis']), 'inspect takes no --profile (check, plan, apply and facts do)', 'see harden inspect --help');
  assertError(runBin(['check', '--keep', '3']), 'check takes no --keep (snapshots does)', 'see harden check --help');
  assertError(runBin(['snapshots', 'list', '--out=x']), 'snapshots takes no --out (plan and cluster do)', 'see harden snapshots --help');
});

test("a real typo still gets the command's nearest option", () => {
  assertError(runBin(['check', '--profle', 'cis']), 'unknown option --profle', 'did you mean --profile? see harden check --help');
  assertError(runBin(['apply', '--yse']), 'unknown option --yse', 'did you mean --yes? see harden apply --help');
  assertError(runBin(['check', '--frobnicate']), 'unknown option --frobnicate', 'see harden check --help');
});

test('an option without its value is a usage error, not an internal error', () => {
  assertError(runBin(['plan', '--out']), '--out needs a value', 'see harden --help');
});

test('completion --help prints the help of completion, not the script', () => {
  const run = runBin(['completion', '--help']);
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stderr, '');
  assert.ok(run.stdout.startsWith('harden completion\n\nPrint the shell completion script'), run.stdout);
  assert.match(run.stdout, 'harden completion >> ~/.bashrc');
  assert.not.match(run.stdout, '_harden_yargs_completions');
});

test('wrapHelp folds at spaces, under the description column, and never cuts a word', () => {
  const line = '      --only            only these rule ids (comma-separated, repeatable) kubelet.protect-kernel-defaults  [string]';
  assert.is(
    wrapHelp(line, 60),
    [
      '      --only            only these rule ids',
      '                        (comma-separated, repeatable)',
      '                        kubelet.protect-kernel-defaults',
      '                        [string]',
    ].join('\n'),
  );
  // A paragraph continues at its own indentation; a `[default: …]` stays whole; short lines are left as they are.
  assert.is(wrapHelp('Change a node as planned: snapshot, write atomically, restart each service once\nshort', 40), 'Change a node as planned: snapshot,\nwrite atomically, restart each service\nonce\nshort');
  assert.is(wrapHelp('  --x  the thing it does when it is asked  [string] [default: a b]', 40), '  --x  the thing it does when it is\n       asked [string] [default: a b]');
  // A first column too wide to hang under: the description goes below it, a step further in.
  assert.is(wrapHelp(`  harden apply --profile cis --yes${' '.repeat(10)}without questions`, 40), '  harden apply --profile cis --yes\n      without questions');
  // Then the whole block does the same, the lines that would fit too, so that it stays aligned.
  const examples = ['Examples:', `  harden check${' '.repeat(30)}this machine`, `  harden check --profile ./mine.yaml --skip x  your own profile`, '', 'Exit codes:'].join('\n');
  assert.is(wrapHelp(examples, 50), ['Examples:', '  harden check', '      this machine', '  harden check --profile ./mine.yaml --skip x', '      your own profile', '', 'Exit codes:'].join('\n'));
});

/** Every line fits in `width`, and the words of the help are whole. */
function assertFolded(text: string, width: number, words: readonly string[] = []): void {
  for (const line of text.split('\n')) assert.ok(line.length <= width, `longer than ${width}: ${JSON.stringify(line)}`);
  for (const word of words) assert.ok(text.includes(word), `${word} is cut:\n${text}`);
}

const APPLY_WORDS = ['--health-window', 'kubelet.protect-kernel-defaults', '--no-restart', '<root>/var/snap/microk8s/current/args', '[default: true]'];

test('without a terminal, --help is folded at 100 columns by words', () => {
  for (const args of [['--help'], ['apply', '--help'], ['check', '--help'], ['plan', '--help']]) {
    const run = runBin(args);
    assert.is(run.status, 0, run.stderr);
    assertFolded(run.stdout, 100, args[0] === 'apply' ? APPLY_WORDS : []);
  }
  // The line yargs used to cut in the middle of a word at 100 columns.
  assert.match(runBin(['apply', '--help']).stdout, '\n      --health-window    seconds each restarted unit must stay up with the same PID and restart\n                         count [string] [default: 5]\n');
});

test('in a terminal, --help is folded to its width', async () => {
  const terminal = harden(['apply', '--help'], { columns: 70, rows: 80 });
  try {
    assert.is(await terminal.exited(), 0);
    const screen = terminal.screen();
    assertFolded(screen, 70, APPLY_WORDS);
    assert.match(screen, '\n      --restart          restart the affected services (--no-restart\n                         writes only and records the restarts owed)\n');
    assert.match(screen, '\n  harden apply --profile cis --skip kubelet.protect-kernel-defaults\n  --yes\n      without questions\n');
  } finally {
    terminal.close();
  }
});

test.run();
