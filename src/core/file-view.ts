// One flag file as its real consumer sees it: the lossless model, the reader's argv, the effective flags,
// and every finding. For the files kubelite reads, bash's view is computed too: MicroK8s' own scripts and
// anyone who copies a line into a bash-read file see that one, so the two must agree.
import { parseArgsFile, printLine, type ArgsFile, type ArgsLine } from './args-file.js';
import { readWithBash } from './bash-reader.js';
import type { Component } from './consumers.js';
import { effectiveFlags, type EffectiveFlags } from './effective-flags.js';
import { quotedWords, sortFindings, type Finding } from './finding.js';
import { readWithKubelite } from './kubelite-reader.js';
import type { ArgvWord, ReadResult, ReaderEnv, ReaderName } from './reader.js';

export interface FileView {
  readonly file: ArgsFile;
  readonly read: ReadResult;
  readonly flags: EffectiveFlags;
  readonly findings: readonly Finding[];
}

export interface ViewOptions {
  readonly reader: ReaderName;
  readonly component: Component | null;
  readonly env: ReaderEnv;
}

export function viewFlagsFile(text: string, options: ViewOptions): FileView {
  const file = parseArgsFile(text);
  const read = options.reader === 'kubelite' ? readWithKubelite(text, options.env) : readWithBash(text, options.env);
  const flags = effectiveFlags(read.argv, options.component);
  const findings = [...read.findings, ...flags.findings];
  if (options.reader === 'kubelite') findings.push(...compareReaders(file, readWithBash(text, options.env), read));
  return { file, read, flags, findings: sortFindings(findings) };
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
    const key = `${options.reader}\0${options.component ?? ''}\0${options.env.unknownVariables}\0${JSON.stringify(options.env.vars)}\0${text}`;
    let view = seen.get(key);
    if (!view) {
      view = viewFlagsFile(text, options);
      seen.set(key, view);
    }
    return view;
  };
}

/** Lines that bash and kubelite turn into different arguments. */
export function compareReaders(file: ArgsFile, bash: ReadResult, kubelite: ReadResult): Finding[] {
  if (bash.fails) {
    const failure = bash.findings.find((f) => f.code === 'reader-fails');
    return [{
      code: 'readers-differ',
      severity: 'warning',
      line: failure?.line ?? 0,
      message: 'bash cannot read this file (shell syntax error) although kubelite can',
    }];
  }
  // Both readers give their words in file order: walk the two lists line by line.
  const findings: Finding[] = [];
  const a = bash.argv;
  const k = kubelite.argv;
  let i = 0;
  let j = 0;
  while (i < a.length || j < k.length) {
    const number = Math.min(i < a.length ? a[i].line : Infinity, j < k.length ? k[j].line : Infinity);
    const aEnd = endOfLine(a, i, number);
    const kEnd = endOfLine(k, j, number);
    if (!sameWords(a, i, aEnd, k, j, kEnd)) {
      const b = a.slice(i, aEnd).map((word) => word.value);
      const q = k.slice(j, kEnd).map((word) => word.value);
      const reason = whyReadersDiffer(file.lines[number - 1]);
      findings.push({
        code: 'readers-differ',
        severity: 'warning',
        line: number,
        message: `bash reads ${quotedWords(b)} but kubelite reads ${quotedWords(q)}${reason ? `: ${reason}` : ''}`,
      });
    }
    i = aEnd;
    j = kEnd;
  }
  return findings;
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

function whyReadersDiffer(line: ArgsLine | undefined): string {
  if (!line) return '';
  const text = printLine({ ...line, eol: '' });
  if (line.eol === '\r\n' || text.includes('\r')) return 'a carriage return (CRLF line end): bash keeps it in the value, kubelite drops it';
  if (text.trim().includes('\t')) return 'a tab: bash splits on it, kubelite does not';
  if (/\s#/.test(text.trim())) return 'a trailing comment: kubelite passes it on as arguments';
  if (/["'][^"']* [^"']*["']/.test(text)) return 'a quoted value with a space: kubelite splits it';
  if (/ {2}/.test(text.trim())) return 'repeated spaces: kubelite makes empty arguments of them';
  if (text.includes('\\')) return 'a backslash: bash removes it, kubelite keeps it';
  if (/["']/.test(text)) return 'quote characters: kubelite deletes every quote, bash pairs them';
  return 'the line is read differently';
}
