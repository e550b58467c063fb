// The args-file model: a lossless, line-by-line view of a MicroK8s args file.
//
// Each physical line is split into parts (indent, flag name, separator, value, trailing text, line end);
// printing the parts back gives the original bytes. Nothing here decides what a flag *means*: that is the
// readers' job (bash-reader, kubelite-reader). This model is what edits are made on, one line at a time.

export type LineEnd = '\n' | '\r\n' | '';

export type LineKind =
  | 'blank' // only whitespace
  | 'comment' // first visible character is '#'
  | 'marker' // MicroK8s' block end marker: '#~...'
  | 'flag' // starts with '-'
  | 'other'; // anything else: `failure-domain=1`, a shell statement, the tail of a multi-line value

export type QuoteStyle = 'none' | 'single' | 'double' | 'mixed';

export interface FlagPart {
  /** As written, with its dashes: `--authorization-mode`, `-H`. */
  readonly name: string;
  /** `=`, the whitespace between `--flag value`, or '' for a bare flag. */
  readonly separator: string;
  /** The value exactly as written, quotes included; null for a bare flag. */
  readonly rawValue: string | null;
  /** The value with quotes and backslashes removed, variables left as written; null for a bare flag. */
  readonly value: string | null;
  readonly quote: QuoteStyle;
}

export interface ArgsLine {
  /** 1-based line number. */
  readonly number: number;
  readonly kind: LineKind;
  /** Leading spaces and tabs. */
  readonly indent: string;
  /** Flag lines only. */
  readonly flag: FlagPart | null;
  /** Everything after the indent (non-flag lines) or after the value (flag lines), up to the line end. */
  readonly rest: string;
  readonly eol: LineEnd;
}

export interface ArgsFile {
  readonly lines: readonly ArgsLine[];
}

export function parseArgsFile(text: string): ArgsFile {
  const lines: ArgsLine[] = [];
  let start = 0;
  let number = 1;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    let body = text.slice(start, end);
    let eol: LineEnd = '';
    if (newline !== -1) {
      eol = body.endsWith('\r') ? '\r\n' : '\n';
      if (eol === '\r\n') body = body.slice(0, -1);
    }
    lines.push(parseLine(body, eol, number));
    number += 1;
    start = end + 1;
  }
  return { lines };
}

export function printArgsFile(file: ArgsFile): string {
  return file.lines.map(printLine).join('');
}

export function printLine(line: ArgsLine): string {
  const flag = line.flag;
  const middle = flag ? flag.name + flag.separator + (flag.rawValue ?? '') : '';
  return line.indent + middle + line.rest + line.eol;
}

/** Parses one physical line (without its line end). Exported for editors that build new lines. */
export function parseLine(body: string, eol: LineEnd, number: number): ArgsLine {
  // Called for every line of every file read: a plain scan and one object literal per line, no spreads.
  let start = 0;
  while (start < body.length && (body[start] === ' ' || body[start] === '\t')) start += 1;
  const indent = start === 0 ? '' : body.slice(0, start);
  const text = start === 0 ? body : body.slice(start);
  const first = text[0];
  let kind: LineKind;
  if (first === '#') kind = text[1] === '~' ? 'marker' : 'comment';
  else if (first === '-') kind = 'flag';
  else kind = text.trim() === '' ? 'blank' : 'other';
  if (kind !== 'flag') return { number, indent, eol, kind, flag: null, rest: text };
  const { flag, rest } = parseFlag(text);
  return { number, indent, eol, kind, flag, rest };
}

function parseFlag(text: string): { flag: FlagPart; rest: string } {
  const nameEnd = text.search(/[=\s]/);
  const name = nameEnd === -1 ? text : text.slice(0, nameEnd);
  const after = text.slice(name.length);
  const bare = (rest: string) => ({ flag: { name, separator: '', rawValue: null, value: null, quote: 'none' as const }, rest });

  if (after.startsWith('=')) {
    const rawValue = scanWord(after, 1);
    return { flag: valued(name, '=', rawValue), rest: after.slice(1 + rawValue.length) };
  }
  const gap = /^[ \t]+/.exec(after)?.[0] ?? '';
  const next = after.slice(gap.length);
  // `--flag value`: the next word is the value unless it is a comment or another flag.
  if (gap === '' || next === '' || next.startsWith('#') || next.startsWith('-')) return bare(after);
  const rawValue = scanWord(next, 0);
  return { flag: valued(name, gap, rawValue), rest: next.slice(rawValue.length) };
}

function valued(name: string, separator: string, rawValue: string): FlagPart {
  return { name, separator, rawValue, value: unquote(rawValue), quote: quoteStyle(rawValue) };
}

export type ShellQuote = '' | "'" | '"';

/** Where a quote-aware scan of a line stands: the next character's index and the open quote. */
export interface QuoteScan {
  i: number;
  quote: ShellQuote;
}

/**
 * bash's quoting, one character at a time: moves `scan` past `text[scan.i]`. Inside '...' only the closing
 * quote counts; elsewhere a backslash takes the next character with it. Whitespace, comments and
 * metacharacters outside quotes are the caller's to judge. Mutates instead of returning, as it runs per
 * character of every args file.
 */
export function quoteStep(text: string, scan: QuoteScan): void {
  const c = text[scan.i];
  if (scan.quote === "'") {
    if (c === "'") scan.quote = '';
  } else if (c === '\\') {
    scan.i += 1;
  } else if (scan.quote === '"') {
    if (c === '"') scan.quote = '';
  } else if (c === "'" || c === '"') {
    scan.quote = c;
  }
  scan.i += 1;
}

/** The shell word starting at `from`: up to unquoted whitespace; an unclosed quote runs to the end. */
function scanWord(text: string, from: number): string {
  const scan: QuoteScan = { i: from, quote: '' };
  while (scan.i < text.length && !(scan.quote === '' && (text[scan.i] === ' ' || text[scan.i] === '\t'))) quoteStep(text, scan);
  return text.slice(from, Math.min(scan.i, text.length));
}

/** Removes quoting as bash would, leaving `$VAR` references as written. */
export function unquote(raw: string): string {
  let out = '';
  let quote: '' | "'" | '"' = '';
  for (let i = 0; i < raw.length; i += 1) {
    const c = raw[i];
    if (quote === "'") {
      if (c === "'") quote = '';
      else out += c;
    } else if (quote === '"') {
      if (c === '"') quote = '';
      else if (c === '\\' && i + 1 < raw.length && '$`"\\'.includes(raw[i + 1])) out += raw[++i];
      else out += c;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '\\' && i + 1 < raw.length) {
      out += raw[++i];
    } else {
      out += c;
    }
  }
  return out;
}

function quoteStyle(raw: string): QuoteStyle {
  const single = raw.includes("'");
  const double = raw.includes('"');
  if (single && double) return 'mixed';
  if (single) return raw.startsWith("'") && raw.endsWith("'") && raw.length > 1 ? 'single' : 'mixed';
  if (double) return raw.startsWith('"') && raw.endsWith('"') && raw.length > 1 ? 'double' : 'mixed';
  return 'none';
}
