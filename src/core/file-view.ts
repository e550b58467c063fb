// One flag file as its real consumer sees it: the lossless model, the reader's argv, the effective flags,
// and every finding. For the files kubelite reads, bash's view is computed too: MicroK8s' own scripts and
// anyone who copies a line into a bash-read file see that one, so the two must agree.
import { parseArgsFile, type ArgsFile } from './args-file.js';
import { readWithBash } from './bash-reader.js';
import type { Component } from './consumers.js';
import { effectiveFlags, type EffectiveFlags } from './effective-flags.js';
import { FindingList, quotedWords, sortFindings, type Finding } from './finding.js';
import { readWithKubelite } from './kubelite-reader.js';
import type { ArgvWord, ReadResult, ReaderEnv, ReaderName } from './reader.js';
import { appendAll } from './lists.js';

export interface FileView {
  /** The lossless model, made when first asked for (`check` never asks: a 16 MiB file's model is large). */
  readonly file: ArgsFile;
  readonly read: ReadResult;
  readonly flags: EffectiveFlags;
  readonly findings: readonly Finding[];
}

export interface ViewOptions {
  readonly reader: ReaderName;
  readonly component: Component | null;
  readonly env: ReaderEnv;
  /** How many findings of one code are kept (FINDINGS_PER_CODE unless given); the rest are counted. */
  readonly findingsPerCode?: number;
}

export function viewFlagsFile(text: string, options: ViewOptions): FileView {
  const limit = options.findingsPerCode;
  const read = options.reader === 'kubelite' ? readWithKubelite(text, options.env, limit) : readWithBash(text, options.env, undefined, limit);
  const flags = effectiveFlags(read.argv, options.component, limit);
  const findings = [...read.findings, ...flags.findings];
  if (options.reader === 'kubelite') appendAll(findings, compareWithBash(text, options.env, read, limit));
  let file: ArgsFile | undefined;
  return {
    get file() {
      file ??= parseArgsFile(text);
      return file;
    },
    read,
    flags,
    findings: sortFindings(findings),
  };
}

/** How a flag file's view is made: viewFlagsFile, or a viewer that remembers the files it has seen. */
export type FlagsViewer = (text: string, options: ViewOptions) => FileView;

/** Largest file a shared viewer keeps: MicroK8s' own args files are a few hundred bytes to a few KB. */
const SHARED_VIEW_MAX_BYTES = 64 * 1024;

/**
 * A viewer for a fleet: nodes of one MicroK8s release mostly carry identical args files, and a view depends on
 * nothing but the text, the reader, the component and the variables, so each distinct file is read once.
 * Views are immutable, so sharing one between nodes changes nothing a report shows.
 */
export function sharedViewer(): FlagsViewer {
  const seen = new Map<string, FileView>();
  return (text, options) => {
    if (text.length > SHARED_VIEW_MAX_BYTES) return viewFlagsFile(text, options);
    const key = `${options.reader}\0${options.component ?? ''}\0${options.findingsPerCode ?? ''}\0${options.env.unknownVariables}\0${JSON.stringify(options.env.vars)}\0${text}`;
    let view = seen.get(key);
    if (!view) {
      view = viewFlagsFile(text, options);
      seen.set(key, view);
    }
    return view;
  };
}

/** Lines of `text` that bash and kubelite turn into different arguments. */
export function compareReaders(text: string, bash: ReadResult, kubelite: ReadResult): Finding[] {
  const comparison = new ReadersComparison(text, kubelite, undefined);
  for (const word of bash.argv) comparison.word(word);
  return comparison.finish(bash);
}

/** bash's reading of `text` compared with kubelite's, as bash's words come (without holding them all). */
function compareWithBash(text: string, env: ReaderEnv, kubelite: ReadResult, findingsPerCode: number | undefined): Finding[] {
  const comparison = new ReadersComparison(text, kubelite, findingsPerCode);
  const bash = readWithBash(text, env, (word) => comparison.word(word), findingsPerCode);
  return comparison.finish(bash);
}

/**
 * Walks bash's words and kubelite's line by line (both readers give their words in file order): bash's come
 * one at a time, those of one line gathered; kubelite's are all at hand.
 */
class ReadersComparison {
  private readonly findings: FindingList;
  private readonly lineOf: (number: number) => string | undefined;
  /** bash's words of the line being gathered. */
  private words: ArgvWord[] = [];
  private wordsLine = 0;
  /** The next kubelite word to compare. */
  private next = 0;

  constructor(text: string, private readonly kubelite: ReadResult, findingsPerCode: number | undefined) {
    this.findings = new FindingList({ limit: findingsPerCode });
    this.lineOf = lineReader(text);
  }

  word(word: ArgvWord): void {
    if (word.line !== this.wordsLine) this.flush();
    this.wordsLine = word.line;
    this.words.push(word);
  }

  finish(bash: ReadResult): Finding[] {
    if (bash.fails) {
      const failure = bash.findings.find((f) => f.code === 'reader-fails');
      return [{
        code: 'readers-differ',
        severity: 'warning',
        line: failure?.line ?? 0,
        message: 'bash cannot read this file (shell syntax error) although kubelite can',
      }];
    }
    this.flush();
    this.kubeliteLinesBefore(Infinity);
    return this.findings.list();
  }

  /** Compares the gathered line, after every kubelite line before it (which bash has no words on). */
  private flush(): void {
    if (this.words.length === 0) return;
    const number = this.wordsLine;
    this.kubeliteLinesBefore(number);
    const k = this.kubelite.argv;
    const end = endOfLine(k, this.next, number);
    this.compare(number, this.words, this.next, end);
    this.next = end;
    this.words = [];
  }

  private kubeliteLinesBefore(line: number): void {
    const k = this.kubelite.argv;
    while (this.next < k.length && k[this.next].line < line) {
      const end = endOfLine(k, this.next, k[this.next].line);
      this.compare(k[this.next].line, [], this.next, end);
      this.next = end;
    }
  }

  private compare(number: number, bash: readonly ArgvWord[], from: number, end: number): void {
    const k = this.kubelite.argv;
    if (sameWords(bash, 0, bash.length, k, from, end)) return;
    if (!this.findings.admits('readers-differ')) return this.findings.count('readers-differ', 'warning', number);
    const b = bash.map((word) => word.value);
    const q = k.slice(from, end).map((word) => word.value);
    const reason = whyReadersDiffer(this.lineOf(number));
    this.findings.add({
      code: 'readers-differ',
      severity: 'warning',
      line: number,
      message: `bash reads ${quotedWords(b)} but kubelite reads ${quotedWords(q)}${reason ? `: ${reason}` : ''}`,
    });
  }
}

/** Where the words of line `number` starting at `from` end (words come in line order). */
function endOfLine(words: readonly ArgvWord[], from: number, number: number): number {
  let end = from;
  while (end < words.length && words[end].line === number) end += 1;
  return end;
}

function sameWords(a: readonly ArgvWord[], aFrom: number, aEnd: number, b: readonly ArgvWord[], bFrom: number, bEnd: number): boolean {
  if (aEnd - aFrom !== bEnd - bFrom) return false;
  for (let n = 0; n < aEnd - aFrom; n += 1) if (a[aFrom + n].value !== b[bFrom + n].value) return false;
  return true;
}

/** Line `number` of `text` (without its `\n`; a CRLF line keeps its `\r`), asked for in increasing order. */
function lineReader(text: string): (number: number) => string | undefined {
  let start = 0;
  let at = 1;
  return (number) => {
    while (at < number && start <= text.length) {
      const newline = text.indexOf('\n', start);
      start = newline === -1 ? text.length + 1 : newline + 1;
      at += 1;
    }
    if (start > text.length || (start === text.length && number > 1)) return undefined;
    const end = text.indexOf('\n', start);
    return text.slice(start, end === -1 ? text.length : end);
  };
}

function whyReadersDiffer(text: string | undefined): string {
  if (text === undefined) return '';
  if (text.includes('\r')) return 'a carriage return (CRLF line end): bash keeps it in the value, kubelite drops it';
  if (text.trim().includes('\t')) return 'a tab: bash splits on it, kubelite does not';
  if (/\s#/.test(text.trim())) return 'a trailing comment: kubelite passes it on as arguments';
  if (/["'][^"']* [^"']*["']/.test(text)) return 'a quoted value with a space: kubelite splits it';
  if (/ {2}/.test(text.trim())) return 'repeated spaces: kubelite makes empty arguments of them';
  if (text.includes('\\')) return 'a backslash: bash removes it, kubelite keeps it';
  if (/["']/.test(text)) return 'quote characters: kubelite deletes every quote, bash pairs them';
  return 'the line is read differently';
}
