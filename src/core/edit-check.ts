// Checking an edited args file against its original, as its real consumer reads it: an edit must not
// add findings, must not make bash and kubelite disagree, must not smuggle in anything a shell would
// run or refuse, and must actually give the component the flags it was meant to give. Pure.
import { printLine, quoteStep, type QuoteScan } from './args-file.js';
import type { Component } from './consumers.js';
import type { FlagEdit } from './edit-args.js';
import { viewFlagsFile, type FileView } from './file-view.js';
import { quoted, type Finding } from './finding.js';
import type { ArgvWord, ReaderEnv } from './reader.js';

export interface EditProblem {
  readonly code: 'new-finding' | 'readers-differ' | 'unsafe-value' | 'not-applied';
  readonly message: string;
  readonly line: number | null;
}

export interface CheckOptions {
  readonly reader: 'bash' | 'kubelite';
  readonly component: Component | null;
  readonly env: ReaderEnv;
  readonly expect: readonly FlagEdit[];
  /** The view of `before` made with this reader, component and env (the node model's), so it is not read again. */
  readonly original?: FileView | undefined;
}

export function checkEditedFile(before: string, after: string, options: CheckOptions): EditProblem[] {
  const view = { reader: options.reader, component: options.component, env: options.env };
  const old = options.original ?? viewFlagsFile(before, view);
  const now = viewFlagsFile(after, view);
  return [...newFindings(old, now), ...readersDiffer(old, now), ...unsafeWords(old, now), ...notApplied(now, options)];
}

/**
 * Findings the new file has and the original had not, compared by code and message with line numbers
 * taken out (an edit that removes a line renumbers every finding below it), as a multiset.
 * `readers-differ` findings are left to their own check below.
 */
function newFindings(old: FileView, now: FileView): EditProblem[] {
  const remaining = new Map<string, number>();
  const findingKey = findingKeys();
  for (const finding of old.findings) {
    if (finding.code === 'readers-differ') continue;
    const key = findingKey(finding);
    remaining.set(key, (remaining.get(key) ?? 0) + 1);
  }
  const problems: EditProblem[] = [];
  for (const finding of now.findings) {
    if (finding.code === 'readers-differ') continue;
    const key = findingKey(finding);
    const left = remaining.get(key) ?? 0;
    if (left > 0) {
      remaining.set(key, left - 1);
      continue;
    }
    problems.push({ code: 'new-finding', message: `${finding.code}: ${finding.message}`, line: lineOf(finding) });
  }
  return problems;
}

/** A finding's code and message with its line numbers taken out; remembered, as a file repeats messages. */
function findingKeys(): (finding: Finding) => string {
  const known = new Map<string, string>();
  return (finding) => {
    let message = known.get(finding.message);
    if (message === undefined) {
      message = finding.message.includes('line') ? finding.message.replace(/\blines? \d+(?:(?:, | and )\d+)*/g, 'line N') : finding.message;
      known.set(finding.message, message);
    }
    return `${finding.code}\0${message}`;
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

/** Argv words that a shell would run, that span lines, or that came from an unquoted metacharacter. */
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
