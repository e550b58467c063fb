// Checking an edited args file against its original, as its real consumer reads it: an edit must not
// add findings, must not make bash and kubelite disagree, must not smuggle in anything a shell would
// run or refuse, and must actually give the component the flags it was meant to give. For a file bash
// reads, this is proven line by line on bash's reading (sameBashReading), not by comparing messages:
// the same message elsewhere in the original says nothing about the place the edit wrote. Pure.
import { printLine, quoteStep, type ArgsLine, type QuoteScan } from './args-file.js';
import { readWithBash, type BashReadResult } from './bash-reader.js';
import type { Component } from './consumers.js';
import type { FlagEdit } from './edit-args.js';
import { viewFlagsFile, type FileView } from './file-view.js';
import { quoted, type Finding } from './finding.js';
import type { ArgvWord, ReadResult, ReaderEnv } from './reader.js';
import { blockingFindings } from './reader-check.js';

export interface EditProblem {
  readonly code: 'unsafe-file' | 'unexpected-change' | 'quote-state' | 'new-finding' | 'readers-differ' | 'unsafe-value' | 'not-applied';
  readonly message: string;
  /** The line of the edited file it is about (null: the whole file, or a line the edit removes). */
  readonly line: number | null;
  /** A line of the original the user must fix by hand before harden can edit the file. */
  readonly fixLine?: number;
}

export interface CheckOptions {
  readonly reader: 'bash' | 'kubelite';
  readonly component: Component | null;
  readonly env: ReaderEnv;
  readonly expect: readonly FlagEdit[];
  /** The view of `before` made with this reader, component and env (the node model's), so it is not read again. */
  readonly original?: FileView | undefined;
}

/**
 * How many findings of one code the edit check compares, place by place. A report keeps only the first few of
 * each code (FINDINGS_PER_CODE); the check needs them all, so a view that left some out is made again. Past
 * this many (a hostile file), the rest of a code are compared by their count.
 */
const EDIT_CHECK_FINDINGS = 100_000;

export function checkEditedFile(before: string, after: string, options: CheckOptions): EditProblem[] {
  const view = { reader: options.reader, component: options.component, env: options.env, findingsPerCode: EDIT_CHECK_FINDINGS };
  const original = options.original;
  const old = original && !original.findings.some((f) => f.omitted !== undefined) ? original : viewFlagsFile(before, view);
  const unsafe = unsafeOriginal(old, options.reader);
  if (unsafe) return [unsafe];
  const now = viewFlagsFile(after, view);
  const lines = alignLines(before, after, old, now, options.expect);
  if ('problem' in lines) return [lines.problem];
  if (options.reader === 'bash') {
    // When bash would read the edited file differently, the rest (new findings, flags not as set) follows from it.
    const reading = sameBashReading(old.read, now.read, lines, options.env);
    if (reading.length > 0) return reading;
    return [...newFindings(old, now, lines), ...notApplied(now, options)];
  }
  return [...newFindings(old, now, lines), ...readersDiffer(old, now), ...unsafeWords(old, now), ...notApplied(now, options)];
}

/**
 * A file that already has an error, whichever reader reads it (bash runs a command from it or refuses it,
 * kubelite cannot read it, or the component would refuse its argv and not start) is not edited: no edit can be
 * proven to leave such a file no worse, and the line must be fixed by hand first. `check` fails the same file
 * by the same findings (reader-check.ts).
 */
function unsafeOriginal(old: FileView, reader: 'bash' | 'kubelite'): EditProblem | null {
  const errors = blockingFindings(old.findings);
  if (errors.length === 0) return null;
  // What bash runs or refuses comes first: it is what makes the file unsafe to touch.
  const first = errors.find((f) => f.code === 'unsupported-construct' || f.code === 'reader-fails') ?? errors[0];
  const where = first.line === 0 ? 'the file' : `line ${first.line}`;
  const others = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : '';
  return {
    code: 'unsafe-file',
    line: null,
    message: `${where}: ${first.message}${others}; harden does not edit a file that ${reader} cannot read safely`,
    ...(first.line === 0 ? {} : { fixLine: first.line }),
  };
}

// ---- which lines the edit touched ----

/** The edited file's lines against the original's: `from[j]` is the original line (0-based) new line j copies, or -1. */
interface LineMap {
  /** Per new line: the index of the original line it is an unchanged copy of, or -1 (rewritten or added). */
  readonly from: Int32Array;
  /** Per original line: whether the edit removed or rewrote it. */
  readonly touched: Uint8Array;
  /** The edited file's lines as bash's input has them. */
  readonly newText: readonly string[];
}

/**
 * Lines an edit may touch are the flag lines of the flags it edits (rewritten or removed, in place) and lines
 * added at the end; every other line must come through unchanged and in order. Linear: both files are walked
 * once, side by side.
 */
function alignLines(before: string, after: string, old: FileView, now: FileView, expect: readonly FlagEdit[]): LineMap | { problem: EditProblem } {
  const edited = new Set(expect.map((edit) => edit.flag));
  const oldLines = old.file.lines;
  const newLines = now.file.lines;
  const oldText = rawLines(before);
  const newText = rawLines(after);
  const from = new Int32Array(newLines.length).fill(-1);
  const touched = new Uint8Array(oldLines.length);
  const editedFlag = (line: ArgsLine) => (line.kind === 'flag' && edited.has(line.flag!.name) ? line.flag!.name : null);
  let j = 0;
  for (let i = 0; i < oldLines.length; i += 1) {
    const name = editedFlag(oldLines[i]);
    if (name === null) {
      if (j >= newLines.length || newText[j] !== oldText[i]) {
        const where = j < newLines.length ? `line ${j + 1}` : 'the end of the file';
        return { problem: { code: 'unexpected-change', line: j < newLines.length ? j + 1 : null, message: `${where} differs from line ${i + 1} of the original, which no edit is about` } };
      }
      from[j] = i;
      j += 1;
    } else if (j < newLines.length && newLines[j].kind === 'flag' && newLines[j].flag!.name === name) {
      // The flag's line, kept (same text) or rewritten.
      if (newText[j] === oldText[i]) from[j] = i;
      else touched[i] = 1;
      j += 1;
    } else {
      touched[i] = 1;
    }
  }
  // What is left was added at the end: lines of edited flags only.
  for (; j < newLines.length; j += 1) {
    if (editedFlag(newLines[j]) === null) {
      return { problem: { code: 'unexpected-change', line: j + 1, message: `line ${j + 1} is added, but it is not a line of a flag the edit sets` } };
    }
  }
  return { from, touched, newText };
}

/** A file's lines as bash's input has them: split on \n only (a \r stays in its line), NUL bytes dropped. */
function rawLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return text.includes('\0') ? lines.map((line) => line.replaceAll('\0', '')) : lines;
}

// ---- bash's reading, line by line ----

const isBashRead = (read: ReadResult): read is BashReadResult => read.reader === 'bash' && 'lineStarts' in read;

/** Where bash stands as line `index` (0-based) starts: 0 between words at the top level, else where it began. */
function startOf(read: BashReadResult, index: number): number {
  if (index < read.lineStarts.length) return read.lineStarts[index];
  // Past the lines bash reads: trailing newlines, which $(cat) drops.
  return read.endsBetweenWords ? 0 : read.lineStarts.length;
}

/** At most this many reading problems are listed: one shifted quote can move every line after it. */
const MAX_READING_PROBLEMS = 10;

/**
 * The proof that bash reads the edited file as it read the original wherever the edit did not write, and reads
 * nothing but plain words where it did:
 * - every unchanged line starts in the same place of bash's reading as before: between words at the top level
 *   in both, or inside a quoted string or construct in both;
 * - every line the edit removes or rewrites started and ended between words in the original (it was lines of
 *   its own, not part of a quoted string or construct around it);
 * - every rewritten or added line starts and ends between words, and read on its own yields plain words:
 *   no command substitution, no expansion other than a plain ${NAME}, no syntax error, no glob, brace or tilde.
 * A line that starts between words in both readings is read alike to the next line the edit touched, so these
 * together leave no place where the edited file runs, expands or fails on something the original did not.
 */
function sameBashReading(oldRead: ReadResult, newRead: ReadResult, lines: LineMap, env: ReaderEnv): EditProblem[] {
  if (!isBashRead(oldRead) || !isBashRead(newRead)) throw new Error('sameBashReading: both readings must be bash\'s');
  const problems: EditProblem[] = [];
  const add = (problem: EditProblem) => {
    if (problems.length < MAX_READING_PROBLEMS) problems.push(problem);
  };
  const inside = (start: number) => `a quoted string, construct or line continuation that begins on line ${start}`;
  const open = 'ends inside a quoted string, construct or line continuation that the next line continues';

  lines.touched.forEach((touched, i) => {
    if (!touched) return;
    const start = startOf(oldRead, i);
    const end = startOf(oldRead, i + 1);
    if (start !== 0) add({ code: 'quote-state', line: null, message: `line ${i + 1} of the original, which the edit removes or rewrites, lies inside ${inside(start)}`, fixLine: start });
    else if (end !== 0) add({ code: 'quote-state', line: null, message: `line ${i + 1} of the original, which the edit removes or rewrites, ${open}`, fixLine: i + 1 });
  });

  // Every unchanged line is compared (once the first after a touched line agrees, the rest follow from it, so
  // this is a second line of defence), and the first that differs in each run of them is reported.
  let reported = false;
  lines.from.forEach((i, j) => {
    const start = startOf(newRead, j);
    if (i === -1) {
      reported = false;
      const end = startOf(newRead, j + 1);
      if (start !== 0) {
        add({ code: 'quote-state', line: j + 1, message: `line ${j + 1}, which the edit writes, would be read inside ${inside(start)}` });
        return;
      }
      const why = notPlain(lines.newText[j], env);
      if (why) add({ code: 'unsafe-value', line: j + 1, message: `line ${j + 1}, which the edit writes: ${why}` });
      else if (end !== 0) add({ code: 'quote-state', line: j + 1, message: `line ${j + 1}, which the edit writes, ${open}` });
      return;
    }
    const was = startOf(oldRead, i);
    if (reported || (was === 0) === (start === 0)) return;
    reported = true;
    const moved = i === j ? `line ${j + 1}` : `line ${j + 1} (line ${i + 1} before the edit)`;
    add({
      code: 'quote-state',
      line: j + 1,
      message: was === 0
        ? `${moved} would be read inside ${inside(start)}; before the edit bash read it as words of its own`
        : `${moved} was inside ${inside(was)}; after the edit bash would read it as words of its own, and run any $(...) in it`,
    });
  });
  return problems;
}

/** Why a line the edit wrote, read on its own as bash would (it starts and ends between words), is not plain words. */
function notPlain(text: string, env: ReaderEnv): string | null {
  const own = readWithBash(text, env);
  for (const finding of own.findings) {
    if (finding.code === 'unknown-variable') continue;
    // A CRLF file's line end: bash keeps the \r in the last word, as it does on every other line of the file.
    if (finding.code === 'carriage-return' && text.indexOf('\r') === text.length - 1) continue;
    return `${finding.code}: ${finding.message}`;
  }
  return null;
}

// ---- findings ----

/**
 * Findings the new file has and the original had not. A finding on an unchanged line is compared with the
 * findings of the line it copies; one on a line the edit wrote (or about the whole file) with those of the
 * lines the edit removed or rewrote (or the whole file). Messages are compared with line numbers taken out
 * (an edit that removes a line renumbers every line below it), as a multiset per place.
 * `readers-differ` findings are left to their own check below.
 */
function newFindings(old: FileView, now: FileView, lines: LineMap): EditProblem[] {
  // Per finding key, a count per place: the original line (0-based), EDITED or WHOLE_FILE. Keys are interned
  // and places are numbers, as a padded file can repeat one finding on every other of 100,000 lines.
  const remaining = new Map<string, Map<number, number>>();
  const findingKey = findingKeys();
  const oldPlace = (line: number) => (line === 0 ? WHOLE_FILE : lines.touched[line - 1] ? EDITED : line - 1);
  const newPlace = (line: number) => (line === 0 ? WHOLE_FILE : lines.from[line - 1] === -1 ? EDITED : lines.from[line - 1]);
  // A finding that counts those left out of a code is compared by that count alone.
  const omittedBefore = new Map<string, number>();
  for (const finding of old.findings) {
    if (finding.code === 'readers-differ') continue;
    if (finding.omitted !== undefined) {
      omittedBefore.set(finding.code, finding.omitted);
      continue;
    }
    const key = findingKey(finding);
    let places = remaining.get(key);
    if (!places) remaining.set(key, (places = new Map()));
    const place = oldPlace(finding.line);
    places.set(place, (places.get(place) ?? 0) + 1);
  }
  const problems: EditProblem[] = [];
  for (const finding of now.findings) {
    if (finding.code === 'readers-differ') continue;
    if (finding.omitted !== undefined) {
      if (finding.omitted > (omittedBefore.get(finding.code) ?? 0)) problems.push({ code: 'new-finding', message: `${finding.code}: ${finding.message}`, line: lineOf(finding) });
      continue;
    }
    const places = remaining.get(findingKey(finding));
    const place = newPlace(finding.line);
    const left = places?.get(place) ?? 0;
    if (left > 0) {
      places!.set(place, left - 1);
      continue;
    }
    problems.push({ code: 'new-finding', message: `${finding.code}: ${finding.message}`, line: lineOf(finding) });
  }
  return problems;
}

const EDITED = -1;
const WHOLE_FILE = -2;

/** A finding's code and message with its line numbers taken out; remembered, as a file repeats messages. */
function findingKeys(): (finding: Finding) => string {
  const known = new Map<string, Map<string, string>>();
  return (finding) => {
    let byMessage = known.get(finding.code);
    if (!byMessage) known.set(finding.code, (byMessage = new Map()));
    let key = byMessage.get(finding.message);
    if (key === undefined) {
      const message = finding.message.includes('line') ? finding.message.replace(/\blines? \d+(?:(?:, | and )\d+)*/g, 'line N') : finding.message;
      key = `${finding.code}\0${message}`;
      byMessage.set(finding.message, key);
    }
    return key;
  };
}

/**
 * For a kubelite-read file, bash's reading matters too (MicroK8s' scripts and people copy lines around).
 * Only a file both readers read alike is held to it: one that already differed (CRLF line ends, say)
 * would flag every edited line for a difference the edit did not create.
 */
function readersDiffer(old: FileView, now: FileView): EditProblem[] {
  if (now.read.reader !== 'kubelite') return [];
  if (old.findings.some((f) => f.code === 'readers-differ')) return [];
  return now.findings
    .filter((f) => f.code === 'readers-differ')
    .map((f) => ({ code: 'readers-differ' as const, message: f.message, line: lineOf(f) }));
}

/**
 * For a kubelite-read file: argv words that a shell would run, that span lines, or that came from an unquoted
 * metacharacter, which the original did not have.
 */
function unsafeWords(old: FileView, now: FileView): EditProblem[] {
  const had = new Map<string, number>();
  for (const { key } of dangerous(old)) had.set(key, (had.get(key) ?? 0) + 1);
  const problems: EditProblem[] = [];
  for (const { key, word, why } of dangerous(now)) {
    const left = had.get(key) ?? 0;
    if (left > 0) {
      had.set(key, left - 1);
      continue;
    }
    problems.push({ code: 'unsafe-value', message: `argument ${quoted(word.value)} contains ${why}`, line: word.line });
  }
  return problems;
}

/** Any character that can make an argument dangerous below: with none in any argument, there is nothing to find. */
const SUSPECT = /[\n`<>|&;()]|\$\(/;

function dangerous(view: FileView): { key: string; word: ArgvWord; why: string }[] {
  if (!view.read.argv.some((word) => SUSPECT.test(word.value))) return [];
  const unquoted = unquotedMetacharacters(view.file.lines.map((line) => printLine({ ...line, eol: '' })));
  const out: { key: string; word: ArgvWord; why: string }[] = [];
  for (const word of view.read.argv) {
    let why: string | null = null;
    if (word.value.includes('\n')) why = 'a newline';
    else if (word.value.includes('`')) why = 'a backtick';
    else if (word.value.includes('$(')) why = 'a command substitution $(';
    else {
      const c = [...(unquoted.get(word.line) ?? [])].find((m) => word.value.includes(m));
      if (c !== undefined) why = `an unquoted shell metacharacter '${c}'`;
    }
    if (why !== null) out.push({ key: `${word.value}\0${why}`, word, why });
  }
  return out;
}

const METACHARACTERS = '<>|&;()';

/**
 * Per line, the shell metacharacters that stand outside quotes, as bash tokenises the file: '...'
 * and "..." (with backslash escapes) may span lines, a backslash escapes the next character, and '#'
 * at the start of a word starts a comment. Keyed by the line the enclosing word starts on, which is the
 * line the readers give the word.
 */
function unquotedMetacharacters(lines: readonly string[]): Map<number, Set<string>> {
  const found = new Map<number, Set<string>>();
  const scan: QuoteScan = { i: 0, quote: '' };
  let wordLine = 0;
  lines.forEach((text, index) => {
    let atWordStart = scan.quote === '';
    for (scan.i = 0; scan.i < text.length; ) {
      const c = text[scan.i];
      if (scan.quote === '') {
        if (c === ' ' || c === '\t') {
          atWordStart = true;
          scan.i += 1;
          continue;
        }
        if (atWordStart) {
          if (c === '#') break;
          wordLine = index + 1;
        }
        if (METACHARACTERS.includes(c)) {
          const set = found.get(wordLine) ?? new Set<string>();
          set.add(c);
          found.set(wordLine, set);
        }
      }
      atWordStart = false;
      quoteStep(text, scan);
    }
  });
  return found;
}

/** Each `set` flag must read back with exactly its value, each removed flag not at all. */
function notApplied(now: FileView, options: CheckOptions): EditProblem[] {
  if (now.read.fails) {
    return options.expect.map((edit) => ({
      code: 'not-applied' as const,
      message: `${edit.flag}: ${now.read.reader} cannot read the edited file, so the component does not start and no edit takes effect`,
      line: null,
    }));
  }
  const problems: EditProblem[] = [];
  for (const edit of options.expect) {
    const flag = now.flags.flags.get(edit.flag);
    const line = flag ? flag.occurrences[flag.occurrences.length - 1].line : null;
    if (edit.kind === 'remove') {
      if (flag) problems.push({ code: 'not-applied', message: `${edit.flag} is still set (${describe(flag.value)})`, line });
      continue;
    }
    const want = expand(edit.value ?? 'true', options.env);
    if (!flag) problems.push({ code: 'not-applied', message: `${edit.flag} is not set; expected ${describe(want)}`, line: null });
    else {
      // A single occurrence is judged by its own value: a bare list flag would otherwise read as ''.
      const got = flag.occurrences.length === 1 ? flag.occurrences[0].value : flag.value;
      if ((got ?? 'true') !== want) problems.push({ code: 'not-applied', message: `${edit.flag} reads ${describe(got)}; expected ${describe(want)}`, line });
    }
  }
  return problems;
}

/** `${NAME}` and `$NAME` as the readers expand them; an unknown one follows env.unknownVariables. */
function expand(value: string, env: ReaderEnv): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced?: string, plain?: string) => {
    const name = (braced ?? plain)!;
    if (Object.hasOwn(env.vars, name)) return env.vars[name];
    return env.unknownVariables === 'keep' ? whole : '';
  });
}

function describe(value: string | null): string {
  return value === null ? 'bare, i.e. true' : quoted(value);
}

function lineOf(finding: Finding): number | null {
  return finding.line === 0 ? null : finding.line;
}
