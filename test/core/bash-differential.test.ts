// readWithBash against real bash: the MicroK8s idiom `declare -a args="($(cat "$f"))"` run by
// /bin/bash in an empty environment and an empty working directory, on every fixture flag file,
// on generated files that stay inside the supported subset, on random characters the reader
// accepts, on field splitting, and on the files the reader says bash refuses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readWithBash } from '../../src/core/bash-reader.js';
import type { ReaderEnv } from '../../src/core/reader.js';
import { generateArgsFile, makeRng } from '../helpers/generate-args.js';
import { fixtureArgsDir, fixtureVersions } from '../helpers/paths.js';

const SNAP_VARS = {
  SNAP: '/snap/microk8s/current',
  SNAP_DATA: '/var/snap/microk8s/x1',
  SNAP_COMMON: '/var/snap/microk8s/common',
};
const READER_ENV: ReaderEnv = { vars: SNAP_VARS, unknownVariables: 'empty' };
const BASH_ENV = { PATH: '/usr/bin:/bin', ...SNAP_VARS };

const GENERATED_FILES = 1600;
const SEED = Number(process.env.BASH_DIFFERENTIAL_SEED ?? 20240611);

/**
 * For each file: the number of words, then the words, all NUL-terminated. The loop's own
 * variables have names no file uses; `args` starts unset for each file, as in a wrapper.
 */
const READ_EACH_FILE = [
  'for __file; do',
  '  unset args',
  '  declare -a args="($(cat "$__file"))"',
  '  printf "%s\\0" "${#args[@]}"',
  '  for __word in "${args[@]}"; do printf "%s\\0" "$__word"; done',
  'done',
].join('\n');

interface BashRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `script` with `files` as "$@" in a fresh empty directory; file content never reaches the command line. */
function runBash(script: string, files: readonly string[], extraVars: Record<string, string> = {}): BashRun {
  const cwd = mkdtempSync(path.join(tmpdir(), 'harden-bash-cwd-'));
  try {
    const result = spawnSync('/bin/bash', ['--norc', '--noprofile', '-c', script, '_', ...files], {
      cwd,
      env: { ...BASH_ENV, ...extraVars },
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    if (result.error) throw result.error;
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** The argv bash gives each file, in order; bash must neither fail nor warn. */
function bashArgvOfFiles(files: readonly string[], extraVars: Record<string, string> = {}): string[][] {
  const run = runBash(READ_EACH_FILE, files, extraVars);
  assert.is(run.stderr, '', 'bash wrote to stderr');
  assert.is(run.status, 0, 'bash failed');
  return argvRecords(run.stdout, files.length);
}

/** Splits READ_EACH_FILE's output into one argv per file. */
function argvRecords(stdout: string, fileCount: number): string[][] {
  const records = stdout.split('\0');
  const argvs: string[][] = [];
  let at = 0;
  for (let i = 0; i < fileCount; i++) {
    const count = Number(records[at++]);
    argvs.push(records.slice(at, at + count));
    at += count;
  }
  assert.is(at, records.length - 1, 'bash output has a record per file');
  return argvs;
}

function withFiles<T>(contents: readonly string[], body: (files: string[]) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'harden-bash-files-'));
  try {
    const files = contents.map((text, i) => {
      const file = path.join(dir, String(i).padStart(5, '0'));
      writeFileSync(file, text);
      return file;
    });
    return body(files);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const NOT_FLAG_FILE = /(\.toml|\.yaml|\.json|\.conflist|-env)$|^(ha-conf|flannel-network-mgr-config)$/;

function fixtureFlagFiles(): string[] {
  return fixtureVersions.flatMap((version) => {
    const dir = fixtureArgsDir(version);
    return readdirSync(dir)
      .filter((name) => !NOT_FLAG_FILE.test(name) && statSync(path.join(dir, name)).isFile())
      .map((name) => path.join(dir, name));
  });
}

test('every fixture flag file reads as real bash reads it', () => {
  const files = fixtureFlagFiles();
  assert.ok(files.length >= 80, `found only ${files.length} fixture flag files`);
  const bashArgvs = bashArgvOfFiles(files);
  files.forEach((file, i) => {
    const argv = readWithBash(readFileSync(file, 'utf8'), READER_ENV).argv.map((w) => w.value);
    assert.equal(argv, bashArgvs[i], file);
  });
});

test(`${GENERATED_FILES} generated files read as real bash reads them (seed ${SEED})`, () => {
  const contents = Array.from({ length: GENERATED_FILES }, (_, i) => generateArgsFile(makeRng(SEED + i)));
  const bashArgvs = withFiles(contents, bashArgvOfFiles);
  contents.forEach((text, i) => {
    const where = `generated file seed ${SEED + i} (generateArgsFile(makeRng(${SEED + i}))): ${JSON.stringify(text)}`;
    const result = readWithBash(text, READER_ENV);
    assert.equal(result.argv.map((w) => w.value), bashArgvs[i], where);
    const outside = result.findings.filter((f) => f.code === 'unsupported-construct' || f.code === 'reader-fails');
    assert.equal(outside, [], `the generator left the subset: ${where}`);
    assert.is(result.fails, false, where);
  });
});

// Random characters, to check the detector: whenever the reader finds nothing outside the subset,
// bash must agree with it. Only such files reach bash, and the alphabet has no '(' or backtick,
// so that even a detector bug could not make bash run a command.
const SOUP = [...'ab  $$$_{}[]<>|&;\'\'""\\\\\\#~*?!@-=:,.\n\n\r\tSNAP_DATA'];
const SOUP_FILES = 1500;

test(`random characters: when the reader sees only the subset, bash agrees (seed ${SEED})`, () => {
  const rng = makeRng(SEED);
  const inSubset: string[] = [];
  while (inSubset.length < SOUP_FILES) {
    let text = '';
    for (let n = 1 + Math.floor(rng() * 25); n > 0; n--) text += SOUP[Math.floor(rng() * SOUP.length)];
    const findings = readWithBash(text, READER_ENV).findings;
    if (!findings.some((f) => f.code === 'unsupported-construct' || f.code === 'reader-fails')) inSubset.push(text);
  }
  const bashArgvs = withFiles(inSubset, bashArgvOfFiles);
  inSubset.forEach((text, i) => {
    assert.equal(readWithBash(text, READER_ENV).argv.map((w) => w.value), bashArgvs[i], JSON.stringify(text));
  });
});

// The snap variables hold no blanks, so field splitting gets its own run: every word of up to
// three pieces mixing unquoted and quoted expansions of values with blanks, and quoted nulls.
const SPLIT_VARS = { V_SPACED: ' a  b ', V_TAB: '\t', V_EMPTY: '', V_TRAILING: 'x\n ' };
const SPLIT_PIECES = ['$V_SPACED', '${V_TAB}', '$V_EMPTY', '$V_TRAILING', '"$V_SPACED"', '""', "''", 'x', '$UNSET_ONE'];

test('field splitting of unquoted expansions matches real bash', () => {
  let words = [''];
  const all: string[] = [];
  for (let length = 1; length <= 3; length++) {
    words = words.flatMap((w) => SPLIT_PIECES.map((piece) => w + piece));
    all.push(...words);
  }
  const contents = all.map((w) => `--before ${w} --after\n`);
  const bashArgvs = withFiles(contents, (files) => bashArgvOfFiles(files, SPLIT_VARS));
  const env: ReaderEnv = { vars: { ...SNAP_VARS, ...SPLIT_VARS }, unknownVariables: 'empty' };
  contents.forEach((text, i) => {
    assert.equal(readWithBash(text, env).argv.map((w) => w.value), bashArgvs[i], text);
  });
});

// Files bash refuses: one bash process each, none containing anything bash could run.
const REFUSED_FILES: readonly { readonly text: string; readonly line: number }[] = [
  { text: '--a=b;c\n', line: 1 },
  { text: '--x\n--eviction-hard=memory.available<100Mi\n', line: 2 },
  { text: '--a=x>y', line: 1 },
  { text: '--a=x|y', line: 1 },
  { text: '--a=x&y', line: 1 },
  { text: '--a=x(y', line: 1 },
  { text: '--a\n\n--b=x)', line: 3 },
  { text: "--a='unclosed\n--b\n", line: 1 },
  { text: '--a\n--b="unclosed\n', line: 2 },
  { text: '--a="x\\"\n', line: 1 },
  { text: '--a=${SNAP\n', line: 1 },
  { text: '--a=${}\n', line: 1 },
  { text: '--a\n--b=${SNAP.DATA}\n', line: 2 },
  { text: '--a=${ SNAP}\n', line: 1 },
  { text: '[x y\n', line: 1 },
  { text: "--a=$'unclosed\n", line: 1 },
];

test('every file readWithBash says bash refuses is refused by real bash', () => {
  for (const { text, line } of REFUSED_FILES) {
    const result = readWithBash(text, READER_ENV);
    assert.is(result.fails, true, JSON.stringify(text));
    const failures = result.findings.filter((f) => f.code === 'reader-fails');
    assert.equal(failures.map((f) => [f.severity, f.line]), [['error', line]], JSON.stringify(text));
    const run = withFiles([text], (files) => runBash('declare -a args="($(cat "$1"))"; printf survived', files));
    assert.is.not(run.stdout, 'survived', `bash accepted ${JSON.stringify(text)}`);
    assert.ok(run.status !== 0, `bash exit status for ${JSON.stringify(text)}`);
    assert.match(run.stderr, /syntax error|unexpected EOF|bad substitution/, JSON.stringify(text));
  }
});

// Constructs outside the subset. `bash` says whether real bash may read the row to show that its
// argv differs from the reader's literal approximation; rows bash would execute are never run.
const UNSUPPORTED: readonly {
  readonly construct: string;
  readonly severity: 'error' | 'warning';
  readonly bash: 'differs' | 'same' | 'never-run';
}[] = [
  { construct: '--a=$(id -u)', severity: 'error', bash: 'never-run' },
  { construct: '--a="$(id -u)"', severity: 'error', bash: 'never-run' },
  { construct: '--a=`id -u`', severity: 'error', bash: 'never-run' },
  { construct: '--a=<(id)', severity: 'error', bash: 'never-run' },
  { construct: '--a={x,y}', severity: 'warning', bash: 'differs' },
  { construct: '--a=x{1..3}', severity: 'warning', bash: 'differs' },
  { construct: '/bin/bas*', severity: 'warning', bash: 'differs' },
  { construct: '/bin/bas?', severity: 'warning', bash: 'differs' },
  { construct: '/bin/bas[h]', severity: 'warning', bash: 'differs' },
  { construct: '[0]=x', severity: 'warning', bash: 'differs' },
  { construct: '~/x', severity: 'warning', bash: 'differs' },
  { construct: "--a=$'a\\tb'", severity: 'warning', bash: 'differs' },
  { construct: '--a=$"x y"', severity: 'warning', bash: 'same' },
  { construct: '--a=${SNAP:-/snap}', severity: 'warning', bash: 'differs' },
  { construct: '--a=${#SNAP}', severity: 'warning', bash: 'differs' },
  { construct: '--a=${SNAP/snap/x}', severity: 'warning', bash: 'differs' },
  { construct: '--a=${SNAP[0]}', severity: 'warning', bash: 'differs' },
  { construct: '--a=$((1+2))', severity: 'warning', bash: 'differs' },
  { construct: '--a=$[1+2]', severity: 'warning', bash: 'differs' },
  ...['$1', '$@', '$*', '$#', '$?', '$$', '$!', '$-', '$0', '$_', '${1}'].map((p) => ({
    construct: `--a=${p}`,
    severity: 'warning' as const,
    bash: 'differs' as const,
  })),
  { construct: '--a=x\0y', severity: 'warning', bash: 'same' },
];

test('each unsupported construct is reported on its own line, and is really outside the subset', () => {
  for (const { construct, severity, bash } of UNSUPPORTED) {
    const text = `--first\n# a comment\n\n${construct}\n--last\n`;
    const result = readWithBash(text, READER_ENV);
    const reported = result.findings.map((f) => [f.code, f.severity, f.line]);
    assert.equal(reported, [['unsupported-construct', severity, 4]], construct);
    assert.is(result.fails, false, construct);
    if (bash === 'never-run') continue;
    // Not bashArgvOfFiles: bash warns about a NUL byte.
    const run = withFiles([text], (files) => runBash(READ_EACH_FILE, files));
    assert.is(run.status, 0, run.stderr);
    const [bashArgv] = argvRecords(run.stdout, 1);
    const readerArgv = result.argv.map((w) => w.value);
    if (bash === 'differs') assert.not.equal(readerArgv, bashArgv, construct);
    else assert.equal(readerArgv, bashArgv, construct);
  }
});

test.run();
