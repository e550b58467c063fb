// readWithKubelite against Go itself. kubelite's ReadArgsFromFile (MicroK8s' kubelite patch) scans the file
// with bufio.Scanner, trims each line with strings.TrimSpace, skips empty lines and lines starting with '#',
// deletes every quote, splits on single spaces and expands each part with os.ExpandEnv. The same steps,
// written in Go with those very library functions, are built once per run (when a Go toolchain is on PATH)
// and read every generated file, all in one process; the reader's argv and refusals must be Go's.
// Without Go, and in any case: metamorphic properties of the reader (CRLF, comments, final newline).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KUBELITE_MAX_LINE_BYTES, readWithKubelite } from '../../src/core/kubelite-reader.js';
import type { ReaderEnv } from '../../src/core/reader.js';
import { generateArgsFile, generateHostileArgsFile } from '../helpers/generate-args.js';
import { between, caseSeeds, chance, forAll, makeRng, pick, property, withCase, type Rng } from '../helpers/prng.js';

const SUITE = 'property/kubelite-reader\\.test\\.js$';
const SNAP_VARS = { SNAP: '/snap/microk8s/6089', SNAP_DATA: '/var/snap/microk8s/6089', SNAP_COMMON: '/var/snap/microk8s/common' };
const ENV: ReaderEnv = { vars: SNAP_VARS, unknownVariables: 'empty' };

const GO_READER = `package main

import (
	"bufio"
	"encoding/hex"
	"os"
	"strings"
)

// For each file, one line: "fails", or "ok" and each word in hex (a word may hold any byte), space-separated.
func main() {
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for _, name := range os.Args[1:] {
		f, err := os.Open(name)
		if err != nil {
			panic(err)
		}
		var args []string
		scanner := bufio.NewScanner(f)
		for scanner.Scan() {
			line := strings.TrimSpace(scanner.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			line = strings.ReplaceAll(line, "\\"", "")
			line = strings.ReplaceAll(line, "'", "")
			for _, part := range strings.Split(line, " ") {
				args = append(args, os.ExpandEnv(part))
			}
		}
		f.Close()
		if scanner.Err() != nil {
			out.WriteString("fails\\n")
			continue
		}
		out.WriteString("ok")
		for _, a := range args {
			out.WriteString(" " + hex.EncodeToString([]byte(a)))
		}
		out.WriteString("\\n")
	}
}
`;

/** Go's reading of each file, or null when no Go toolchain is on PATH. */
function readWithGo(contents: readonly string[]): ({ fails: true } | { fails: false; argv: string[] })[] | null {
  if (spawnSync('go', ['version'], { encoding: 'utf8' }).status !== 0) return null;
  const work = mkdtempSync(path.join(tmpdir(), 'harden-kubelite-go-'));
  try {
    writeFileSync(path.join(work, 'main.go'), GO_READER);
    const build = spawnSync('go', ['build', '-o', 'reader', 'main.go'], { cwd: work, encoding: 'utf8', env: { ...process.env, GOFLAGS: '', GO111MODULE: 'off', CGO_ENABLED: '0' } });
    assert.is(build.status, 0, `go build: ${build.stderr}`);
    const files = contents.map((text, i) => {
      const file = path.join(work, `file-${i}`);
      writeFileSync(file, text);
      return file;
    });
    const run = spawnSync(path.join(work, 'reader'), files, { env: SNAP_VARS, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    assert.is(run.status, 0, `go reader: ${run.stderr}`);
    const lines = run.stdout.split('\n');
    assert.is(lines.length, files.length + 1, 'a line per file');
    return files.map((_, i) => {
      const [status, ...words] = lines[i].split(' ');
      if (status === 'fails') return { fails: true as const };
      return { fails: false as const, argv: words.map((word) => Buffer.from(word, 'hex').toString('utf8')) };
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const GO_SPACES = [' ', '\t', '\v', '\f', '\r', '\u0085', '\u00a0', '\u1680', '\u2000', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\u200b', '\uFEFF'];
const EXPANSIONS = ['$', '${', '${}', '$(', '${SNAP', '$SNAP', '${SNAP}', '$SNAP_DATAx', '${SNAP_COMMON}x', '$1', '${1}', '${*}', '$@', '$$', '${UNSET_ONE}', '$-x', '${-}', '${ab', '$_x'];

/** Lines near the scanner's 64 KiB limit, odd whitespace and every os.ExpandEnv corner, among real-looking files. */
function kubeliteFile(rng: Rng): string {
  const kind = rng();
  if (kind < 0.35) return generateArgsFile(rng);
  if (kind < 0.65) return generateHostileArgsFile(rng);
  if (kind < 0.7) {
    const length = KUBELITE_MAX_LINE_BYTES + between(rng, -3, 2) - (chance(rng, 0.5) ? 0 : 10);
    const filler = chance(rng, 0.2) ? '\u00e9' : 'x';
    const body = `--long=${filler.repeat(Math.max(0, Math.floor((length - 7) / Buffer.byteLength(filler))))}`;
    return `--a=1\n${body}${pick(rng, ['', '\n', '\r\n', '\r'])}${chance(rng, 0.5) ? '--b=2\n' : ''}`;
  }
  let text = '';
  for (let n = between(rng, 1, 6); n > 0; n--) {
    let line = '';
    for (let m = between(rng, 0, 8); m > 0; m--) {
      const piece = rng();
      if (piece < 0.3) line += pick(rng, GO_SPACES);
      else if (piece < 0.6) line += pick(rng, EXPANSIONS);
      else if (piece < 0.75) line += pick(rng, ['"', "'", '#', '--', '=', '\\']);
      else line += pick(rng, ['--flag', 'value', 'a', 'Z9', '\u00e9', '\u{1F512}']);
    }
    text += line + (chance(rng, 0.8) ? '\n' : chance(rng, 0.5) ? '\r\n' : '');
  }
  return text;
}

const differential = property('kubelite reader against Go: the same argv, the same refusals', { runs: 2500, seed: 5150 });

test(`${differential.name} (${differential.runs} files from seed ${differential.seed})`, () => {
  const seeds = caseSeeds(differential);
  const texts = seeds.map((seed) => kubeliteFile(makeRng(seed)));
  const go = readWithGo(texts);
  // CI installs golang-go (.ci/run): without Go this comparison would prove nothing, so it fails.
  if (go === null) throw new Error('no Go toolchain on PATH (apt-get install golang-go): the kubelite reader cannot be compared with Go');
  let refused = 0;
  seeds.forEach((seed, i) => {
    withCase(differential, seed, texts[i], SUITE, () => {
      const result = readWithKubelite(texts[i], ENV);
      const theirs = go[i];
      assert.is(result.fails, theirs.fails, 'refuses the file as Go does');
      if (theirs.fails) {
        refused += 1;
        assert.ok(result.findings.some((f) => f.code === 'reader-fails' && f.severity === 'error'), 'a reader-fails finding');
      } else assert.equal(result.argv.map((w) => w.value), theirs.argv, 'argv');
    });
  });
  assert.ok(refused > 0, 'some files reach the 64 KiB limit');
});

// Metamorphic: what must not change kubelite's reading.
const metamorphic = property('kubelite reader: CRLF, comment and blank lines, and a missing final newline change no word', { runs: 1500, seed: 5151 });

test(`${metamorphic.name} (${metamorphic.runs} files from seed ${metamorphic.seed})`, () => {
  forAll(metamorphic, SUITE, (rng) => ({ text: kubeliteFile(rng), extra: pick(rng, ['# --anonymous-auth=false', '', '   ', '\t#x', '#~marker']), at: rng() }), ({ text, extra, at }) => {
    const words = (t: string) => {
      const result = readWithKubelite(t, ENV);
      return result.fails ? 'fails' : result.argv.map((w) => w.value);
    };
    const base = words(text);
    // Except a line a byte short of the limit, which its carriage return takes to it.
    const nearLimit = text.split('\n').some((line) => Buffer.byteLength(line) >= KUBELITE_MAX_LINE_BYTES - 1);
    if (!nearLimit) assert.equal(words(text.replace(/\r?\n/g, '\r\n')), base, 'CRLF line ends');
    if (text.endsWith('\n') && !text.endsWith('\r\n') && !text.endsWith('\r\n\n')) assert.equal(words(text.slice(0, -1)), base, 'no final newline');
    const lines = text.split('\n');
    const index = Math.floor(at * (lines.length + 1));
    if (index === lines.length && !text.endsWith('\n') && text !== '') return; // would join the last line
    lines.splice(index, 0, extra);
    assert.equal(words(lines.join('\n')), base, `a line ${JSON.stringify(extra)} inserted at ${index + 1}`);
  });
});

test.run();
