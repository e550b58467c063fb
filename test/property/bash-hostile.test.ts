// readWithBash against real bash on hostile files (test/helpers/generate-args.ts generateHostileArgsFile):
// command substitutions, globs, '~', braces, parameter operations, metacharacters, unbalanced quotes, CR,
// tabs, `=` values with spaces, among lines shaped like real args files. Each file is sorted by what the
// reader says about it:
//   refused  — an error: bash would run a command, or refuses the file. bash is never run on it; the
//              refusal must be located on a line of the file and be about a construct the line has.
//   warned   — only warnings (globs, '~', ${x:-y}, …): bash reads it in an empty directory and must run
//              nothing: the canary every generated command writes must not appear.
//   clean    — nothing outside the subset: bash's argv must be the reader's, word for word, without a
//              message on stderr, and nothing may run.
// MicroK8s' wrappers run `declare -a args="($(cat "$SNAP_DATA/args/$app"))"` with SNAP, SNAP_DATA and
// SNAP_COMMON set by snapd: the same here, all files of a run in one bash process.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readWithBash } from '../../src/core/bash-reader.js';
import type { ReadResult, ReaderEnv } from '../../src/core/reader.js';
import { CANARY_FILE, generateHostileArgsFile } from '../helpers/generate-args.js';
import { caseSeeds, makeRng, property, withCase } from '../helpers/prng.js';

const SUITE = 'bash-hostile\\.test\\.js$';
const SNAP_VARS = { SNAP: '/snap/microk8s/6089', SNAP_DATA: '/var/snap/microk8s/6089', SNAP_COMMON: '/var/snap/microk8s/common' };
const READER_ENV: ReaderEnv = { vars: SNAP_VARS, unknownVariables: 'empty' };
const BASH_ENV = { PATH: '/usr/bin:/bin', HOME: '/root', ...SNAP_VARS };

/**
 * Each file is read in a subshell, in its own empty directory `<n>`: its words go to `<n>.out` (the number
 * of words, then the words, NUL-terminated), its stderr to `<n>.stderr`. A subshell, because bash aborts on
 * some expansion errors; then `<n>.out` is missing. The loop's own variables have names no file uses.
 */
const READ_EACH_FILE = [
  '__n=0',
  'for __file; do',
  '  mkdir "$__n" && cd "$__n" || exit 99',
  '  (',
  '    declare -a args="($(cat "$__file"))"',
  '    { printf "%s\\0" "${#args[@]}"; for __word in "${args[@]}"; do printf "%s\\0" "$__word"; done; } >../"$__n.out"',
  '  ) 2>../"$__n.stderr"',
  '  cd .. && __n=$((__n + 1))',
  'done',
].join('\n');

interface BashReading {
  /** null when bash gave up on the file. */
  readonly argv: string[] | null;
  readonly stderr: string;
  readonly ran: boolean;
}

/** Reads every file with bash; what each gave, wrote on stderr, and whether its canary appeared. */
function readWithRealBash(contents: readonly string[]): BashReading[] {
  const work = mkdtempSync(path.join(tmpdir(), 'harden-hostile-'));
  try {
    const files = contents.map((text, i) => {
      const file = path.join(work, `file-${i}`);
      writeFileSync(file, text);
      return file;
    });
    const cwd = path.join(work, 'cwd');
    mkdirSync(cwd);
    const result = spawnSync('/bin/bash', ['--norc', '--noprofile', '-c', READ_EACH_FILE, '_', ...files], {
      cwd,
      env: BASH_ENV,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    if (result.error) throw result.error;
    assert.is(result.status, 0, `bash: ${result.stderr}`);
    const readings = files.map((_, i) => {
      const out = path.join(cwd, `${i}.out`);
      const records = existsSync(out) ? readFileSync(out, 'utf8').split('\0') : null;
      const argv = records ? records.slice(1, -1) : null;
      if (records) assert.is(argv!.length, Number(records[0]), `bash output of file ${i}`);
      return { argv, stderr: readFileSync(path.join(cwd, `${i}.stderr`), 'utf8'), ran: existsSync(path.join(cwd, String(i), CANARY_FILE)) };
    });
    assert.not.ok(existsSync(path.join(cwd, CANARY_FILE)), 'a command ran outside the per-file directories');
    return readings;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

type Verdict = 'refused' | 'warned' | 'clean';

function verdictOf(result: ReadResult): Verdict {
  const outside = result.findings.filter((f) => f.code === 'unsupported-construct' || f.code === 'reader-fails');
  if (result.fails || outside.some((f) => f.severity === 'error')) return 'refused';
  return outside.length > 0 ? 'warned' : 'clean';
}

/** What can make bash run a command or refuse a file: an error finding must sit on a line holding one. */
const EXECUTES = /\$\(|`|<\(|>\(/;
const BREAKS = /[;|&<>()'"`]|\$\{|\$\(/;

function checkRefusal(text: string, result: ReadResult): void {
  const lines = text.replaceAll('\0', '').replace(/\n+$/, '').split('\n');
  const errors = result.findings.filter((f) => f.severity === 'error' && (f.code === 'unsupported-construct' || f.code === 'reader-fails'));
  assert.ok(errors.length > 0, 'a refusal names what bash would do');
  for (const finding of errors) {
    assert.ok(finding.line >= 1 && finding.line <= lines.length, `finding on line ${finding.line} of ${lines.length}`);
    // A multi-line construct is reported where it opens; what it holds may be on the lines after.
    const from = lines.slice(finding.line - 1).join('\n');
    if (finding.code === 'unsupported-construct') {
      assert.match(finding.message, /^(command|process) substitution/);
      assert.match(from, EXECUTES, `line ${finding.line} holds no command substitution`);
    } else {
      assert.match(from, BREAKS, `line ${finding.line} holds nothing bash refuses`);
    }
  }
}

const files = property('hostile args files: the reader refuses what bash would run, and reads the rest as bash does', { runs: 1500, seed: 20261201 });

test(`${files.name} (${files.runs} files from seed ${files.seed})`, () => {
  const seeds = caseSeeds(files);
  const texts = seeds.map((seed) => generateHostileArgsFile(makeRng(seed)));
  const results = texts.map((text) => readWithBash(text, READER_ENV));
  const verdicts = results.map(verdictOf);
  // Only files the reader lets through ever reach bash.
  const readable = verdicts.flatMap((verdict, i) => (verdict === 'refused' ? [] : [i]));
  const readings = new Map(readWithRealBash(readable.map((i) => texts[i])).map((reading, n) => [readable[n], reading]));
  const counts: Record<Verdict, number> = { refused: 0, warned: 0, clean: 0 };
  seeds.forEach((seed, i) => {
    const text = texts[i];
    const result = results[i];
    counts[verdicts[i]] += 1;
    withCase(files, seed, text, SUITE, () => {
      if (verdicts[i] === 'refused') return checkRefusal(text, result);
      const bash = readings.get(i)!;
      assert.not.ok(bash.ran, `bash ran a command the reader did not report as one (${JSON.stringify(result.findings)})`);
      if (verdicts[i] === 'clean') {
        assert.equal(result.argv.map((w) => w.value), bash.argv, 'argv');
        assert.is(bash.stderr, '', 'bash wrote to stderr');
      }
    });
  });
  // Every kind of file must be well represented, or the property says little.
  for (const verdict of ['refused', 'warned', 'clean'] as const) {
    assert.ok(counts[verdict] >= files.runs / 10 || files.runs < 100, `only ${counts[verdict]} ${verdict} files of ${files.runs}: ${JSON.stringify(counts)}`);
  }
});

test.run();
