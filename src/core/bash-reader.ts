// The argv a MicroK8s wrapper gets from an args file. Every wrapper runs
//     declare -a args="($(cat "$SNAP_DATA/args/$app"))"
// so bash re-parses the file body as a compound array assignment, then expands each word.
//
// Supported subset, emulated exactly: blank/newline-separated words, '...', "...", backslash
// escapes, backslash-newline continuations, $NAME and ${NAME}, field splitting of unquoted
// expansions, dropping of words that expand to nothing, comments at the start of a word, and
// the trailing-newline stripping of $(cat).
//
// Anything else is reported as `unsupported-construct` (or `reader-fails` when bash refuses the
// file). For those, argv is a best-effort approximation: the construct's text is kept literally
// (never executed, never brace-, glob- or tilde-expanded), except $"..." which is read as the
// double-quoted string it is without a message catalogue.
import { FindingList, type Severity } from './finding.js';
import type { ArgvWord, ReadResult, ReaderEnv } from './reader.js';

/**
 * bash's reading, with where each line starts as bash reads it: what an edit check needs to prove that an
 * edit leaves every other line read as before.
 */
export interface BashReadResult extends ReadResult {
  readonly reader: 'bash';
  /**
   * Per line of the input (index 0 is line 1), where bash stands as the line starts: 0 when between words
   * at the top level (the previous line's newline ended every word, quote and construct), else the line on
   * which the word, quoted string, construct or backslash-newline continuation it is inside began.
   * Lines past the last one bash reads ($(cat) drops trailing newlines) are not listed.
   */
  readonly lineStarts: readonly number[];
  /**
   * Whether text after the last line bash reads would start between words at the top level: false when the
   * input ends with a backslash (which would join the next line) or inside an unclosed construct.
   */
  readonly endsBetweenWords: boolean;
}

/**
 * A piece of a word before field splitting. `fixed` text (source characters, quoted strings,
 * quoted expansions) is never split and keeps the word alive even when empty (`""`);
 * `split` text is the value of an unquoted expansion: bash splits it on blanks and an empty one
 * contributes nothing.
 */
type Piece = { readonly kind: 'fixed' | 'split'; readonly text: string };

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SPECIAL_PARAMETER = /[0-9@*#?$!-]/;
/** Characters that may follow a name inside ${...} as a parameter operation (${x:-y}, ${x#p}, ${x[0]}, ...). */
const PARAMETER_OPERATOR = /[:\-=?+#%/^,@[]/;
/** Unquoted, these end a word and are a syntax error inside an array assignment. */
const METACHARACTERS = new Set(['<', '>', '|', '&', ';', '(', ')']);
/**
 * Unquoted characters bash takes literally in a word, whatever comes next: no quote, escape, expansion,
 * metacharacter, glob, brace, tilde, comment, blank, newline or carriage return.
 */
const PLAIN_RUN = /[A-Za-z0-9_\-+=.,:/@%]+/y;
const PLAIN_RUN_IN_BRACE = /[A-Za-z0-9_\-+=:/@%]+/y;
/** Blanks of the default IFS: what unquoted expansion results are split on. */
const IFS_BLANKS = new Set([' ', '\t', '\n']);

const RUNS_AS_ROOT = 'bash would run it as root when reading the file; write the value literally';
const REFUSED = 'bash refuses the whole file and the daemon does not start';

/**
 * `onWord`: given, each word is handed to it as it is read and the result's argv stays empty (a caller that
 * only compares the words need not hold millions of them).
 */
export function readWithBash(text: string, env: ReaderEnv, onWord?: (word: ArgvWord) => void, findingsPerCode?: number): BashReadResult {
  return new BashArrayReader(text, env, onWord, findingsPerCode).read();
}

class BashArrayReader {
  private readonly src: string;
  private pos = 0;
  private line = 1;
  /** See BashReadResult.lineStarts; line 1 starts between words. */
  private readonly lineStarts: number[] = [0];
  /** The line the word being read began on; 0 between words. */
  private wordLine = 0;
  /** Whether the input ends inside a quoted string or construct (a syntax error). */
  private unclosed = false;
  private readonly argv: ArgvWord[] = [];
  private readonly findings: FindingList;
  private readonly unknownSeen = new Set<string>();
  /** Where the last line of the input starts, and whether bash read its start inside '...'. */
  private readonly lastLineStart: number;
  private lastLineEnteredInSingleQuotes = false;
  /** Whether bash sees an odd run of backslashes at the end of its input (see finalBackslashStays). */
  private readonly endsWithOddBackslashes: boolean;

  /** Pieces of the word being read, and what its unquoted characters may turn into. */
  private pieces: Piece[] = [];
  private openBrace: { line: number; hasSeparator: boolean } | undefined;
  private openBracketLine: number | undefined;

  constructor(
    text: string,
    private readonly env: ReaderEnv,
    private readonly onWord: ((word: ArgvWord) => void) | undefined,
    findingsPerCode: number | undefined,
  ) {
    this.findings = new FindingList({ dedupe: true, limit: findingsPerCode });
    this.noteNulBytes(text);
    // $(cat) drops NUL bytes, then strips every trailing newline (a `\r` is not stripped).
    this.src = text.replaceAll('\0', '').replace(/\n+$/, '');
    this.lastLineStart = this.src.lastIndexOf('\n') + 1;
    this.endsWithOddBackslashes = endsWithOddBackslashRun(this.src, this.lastLineStart);
  }

  read(): BashReadResult {
    while (true) {
      this.skipContinuations();
      if (this.atEnd()) break;
      const c = this.peek();
      if (c === ' ' || c === '\t') this.pos++;
      else if (c === '\n') this.take();
      else if (c === '#') this.skipComment();
      else this.readWord();
    }
    const findings = this.findings.list();
    const fails = findings.some((f) => f.code === 'reader-fails');
    return {
      reader: 'bash',
      argv: this.argv,
      findings,
      fails,
      lineStarts: this.lineStarts,
      endsBetweenWords: !this.unclosed && !this.src.endsWith('\\'),
    };
  }

  // ---- cursor ----

  private atEnd(): boolean {
    return this.pos >= this.src.length;
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  /** Consumes one character that belongs to a word (comments and blanks never come here). */
  private take(): string {
    const c = this.src[this.pos++]!;
    if (c === '\n') {
      this.line++;
      this.lineStarts.push(this.wordLine);
    }
    if (c === '\r') {
      const message = 'carriage return inside a word: bash keeps the carriage return in the value; use LF line ends';
      this.report('carriage-return', 'warning', this.line, message);
    }
    return c;
  }

  /** bash removes backslash-newline while reading its input, except inside '...' and comments. */
  private skipContinuations(): void {
    while (this.peek() === '\\' && this.peek(1) === '\n') {
      this.report(
        'quoted-newline',
        'warning',
        this.line,
        'backslash-newline continuation: bash joins this line with the next, so the value spans lines',
      );
      this.pos += 2;
      this.lineStarts.push(this.wordLine === 0 ? this.line : this.wordLine);
      this.line++;
    }
  }

  private skipComment(): void {
    while (!this.atEnd() && this.peek() !== '\n') this.pos++;
  }

  private report(code: string, severity: Severity, line: number, message: string): void {
    // A construct quoted in a message may span lines (an unclosed `${`): a finding stays one line.
    const oneLine = message.includes('\r') || message.includes('\n') ? message.replace(/\r/g, '\\r').replace(/\n/g, '\\n') : message;
    this.findings.add({ code, severity, line, message: oneLine });
  }

  // ---- words ----

  private readWord(): void {
    const startLine = this.line;
    this.wordLine = startLine;
    this.pieces = [];
    this.openBrace = undefined;
    this.openBracketLine = undefined;
    let atWordStart = true;
    while (true) {
      this.skipContinuations();
      const c = this.peek();
      if (c === undefined || c === ' ' || c === '\t' || c === '\n') break;
      if (atWordStart && c === '[') this.readLeadingSubscript();
      else {
        if (atWordStart && c === '~') {
          this.report(
            'unsupported-construct',
            'warning',
            this.line,
            "'~' at the start of a word: bash replaces it with a home directory; quote it or write the path",
          );
        }
        this.readUnquoted(c);
      }
      atWordStart = false;
    }
    this.wordLine = 0;
    for (const value of splitFields(this.pieces)) {
      if (this.onWord) this.onWord({ value, line: startLine });
      else this.argv.push({ value, line: startLine });
    }
  }

  private readUnquoted(c: string): void {
    switch (c) {
      case '\\':
        this.take();
        if (!this.atEnd()) this.fixed(this.take());
        else if (this.finalBackslashStays()) this.fixed('\\');
        return;
      case "'":
        return this.readSingleQuoted();
      case '"':
        return this.readDoubleQuoted();
      case '$':
        return this.readDollar(false);
      case '`':
        return this.readBackticks();
      default:
        break;
    }
    // A run of characters with no meaning to bash here is taken whole: most of an args file is such runs.
    // ',' and '.' count only outside a '{' (they make a brace expansion inside one).
    const plain = this.openBrace === undefined ? PLAIN_RUN : PLAIN_RUN_IN_BRACE;
    plain.lastIndex = this.pos;
    if (plain.test(this.src)) {
      this.fixed(this.src.slice(this.pos, plain.lastIndex));
      this.pos = plain.lastIndex;
      return;
    }
    const line = this.line;
    if ((c === '<' || c === '>') && this.peek(1) === '(') {
      this.take();
      this.take();
      const body = this.scanBalanced('(', ')', `'${c}(' without its closing ')'`);
      this.report('unsupported-construct', 'error', line, `process substitution ${c}(...): ${RUNS_AS_ROOT}`);
      this.fixed(`${c}(${body}`);
      return;
    }
    if (METACHARACTERS.has(c)) {
      this.report('reader-fails', 'error', line, `unquoted '${c}' is a shell syntax error: ${REFUSED}; quote the value`);
    } else if (c === '*' || c === '?') {
      this.reportGlob(line, c);
    } else if (c === '[') {
      this.openBracketLine ??= line;
    } else if (c === ']' && this.openBracketLine !== undefined) {
      this.reportGlob(this.openBracketLine, '[...]');
    } else if (c === '{') {
      this.openBrace ??= { line, hasSeparator: false };
    } else if (this.openBrace && (c === ',' || (c === '.' && this.peek(1) === '.'))) {
      this.openBrace.hasSeparator = true;
    } else if (c === '}' && this.openBrace?.hasSeparator) {
      // Conservative: bash's own matching has exceptions (`{}` is literal inside a brace group).
      const message = 'brace expansion {...}: bash turns the word into several words; quote the value';
      this.report('unsupported-construct', 'warning', this.openBrace.line, message);
    }
    this.fixed(this.take());
  }

  /**
   * bash ends its last input line with a newline, except after an odd run of backslashes, where
   * it adds a backslash instead so that the last one stays literal. It does so only when it read
   * that line outside single quotes; otherwise the unpaired backslash meets the newline and
   * disappears as a line continuation.
   */
  private finalBackslashStays(): boolean {
    return this.endsWithOddBackslashes && !this.lastLineEnteredInSingleQuotes;
  }

  private reportGlob(line: number, what: string): void {
    this.report(
      'unsupported-construct',
      'warning',
      line,
      `glob pattern ${what}: bash replaces the word with matching file names; quote the value`,
    );
  }

  /**
   * In an array assignment a word starting with '[' is read up to the matching ']' (blanks
   * included) as a subscript: `[n]=value` sets element n, anything else is a glob pattern.
   */
  private readLeadingSubscript(): void {
    const line = this.line;
    this.take();
    const body = this.scanBalanced('[', ']', "'[' at the start of a word without its closing ']'");
    this.reportNestedSubstitution(line, body, '[...]');
    if (this.peek() === '=') {
      this.report(
        'unsupported-construct',
        'warning',
        line,
        `array subscript [${body.slice(0, -1)}]=: bash sets that array element instead of adding a word; quote the value`,
      );
    } else {
      this.reportGlob(line, '[...]');
    }
    this.fixed(`[${body}`);
  }

  private readSingleQuoted(): void {
    const openLine = this.line;
    this.take();
    let text = '';
    while (!this.atEnd() && this.peek() !== "'") {
      text += this.take();
      if (this.pos === this.lastLineStart) this.lastLineEnteredInSingleQuotes = true;
    }
    if (this.atEnd()) {
      this.reportUnbalanced(openLine, 'single quote');
    } else {
      this.take();
      if (text.includes('\n')) this.reportQuotedNewline(openLine);
    }
    this.fixed(text);
  }

  private readDoubleQuoted(): void {
    const openLine = this.line;
    this.take();
    let text = '';
    let spansLines = false;
    while (true) {
      this.skipContinuations();
      const c = this.peek();
      if (c === undefined) {
        this.reportUnbalanced(openLine, 'double quote');
        return this.fixed(text);
      }
      if (c === '"') {
        this.take();
        break;
      }
      if (c === '$' || c === '`') {
        this.fixed(text);
        text = '';
        if (c === '$') this.readDollar(true);
        else this.readBackticks();
        continue;
      }
      this.take();
      if (c === '\\') {
        // Inside double quotes a backslash escapes only $ ` " \ (newline was handled above).
        const next = this.peek();
        if (next !== undefined && '$`"\\'.includes(next)) text += this.take();
        else text += '\\';
        continue;
      }
      if (c === '\n') spansLines = true;
      text += c;
    }
    if (spansLines) this.reportQuotedNewline(openLine);
    this.fixed(text);
  }

  private reportUnbalanced(line: number, what: string): void {
    this.unclosed = true;
    this.report('reader-fails', 'error', line, `unbalanced ${what}: ${REFUSED}; close the quote`);
  }

  private reportQuotedNewline(line: number): void {
    this.report('quoted-newline', 'warning', line, 'quoted string spans lines: bash keeps the newline in the value');
  }

  // ---- $ ----

  private readDollar(quoted: boolean): void {
    const line = this.line;
    this.take();
    this.skipContinuations();
    const c = this.peek();
    if (c !== undefined && NAME_START.test(c)) {
      const name = this.readName();
      if (name !== '_') return this.expandVariable(name, `$${name}`, quoted, line);
      // $_ is bash's own special parameter (the last argument of the previous command).
      this.reportSpecialParameter(line, '$_');
      return this.fixed('$_');
    }
    switch (c) {
      case '{':
        return this.readBracedParameter(quoted, line);
      case '(':
        return this.readDollarParen(line);
      case '[': {
        this.take();
        const body = this.scanBalanced('[', ']', "'$[' without its closing ']'");
        this.reportNestedSubstitution(line, body, '$[...]');
        this.report('unsupported-construct', 'warning', line, 'arithmetic expansion $[...]: not supported here; write the result');
        return this.fixed(`$[${body}`);
      }
      default:
        break;
    }
    if (c !== undefined && SPECIAL_PARAMETER.test(c)) {
      this.take();
      this.reportSpecialParameter(line, `$${c}`);
      return this.fixed(`$${c}`);
    }
    // Inside double quotes, $' and $" are a plain '$' followed by a quote.
    if (!quoted && c === "'") return this.readAnsiCQuoted(line);
    if (!quoted && c === '"') {
      this.report('unsupported-construct', 'warning', line, 'locale quoting $"...": not supported here; use plain double quotes');
      return this.readDoubleQuoted();
    }
    // Any other character (or the end of the file) leaves the '$' literal.
    this.fixed('$');
  }

  private readName(): string {
    let name = '';
    while (true) {
      this.skipContinuations();
      const c = this.peek();
      if (c === undefined || !NAME_CHAR.test(c)) return name;
      name += this.take();
    }
  }

  private readBracedParameter(quoted: boolean, line: number): void {
    this.take();
    const body = this.scanBalanced('{', '}', "'${' without its closing '}'");
    const inner = body.endsWith('}') ? body.slice(0, -1) : body;
    const written = `\${${body}`;
    this.reportNestedSubstitution(line, body, '${...}');
    if (inner === '_') {
      this.reportSpecialParameter(line, written);
      return this.fixed(written);
    }
    if (PLAIN_NAME.test(inner)) return this.expandVariable(inner, written, quoted, line);
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(inner)?.[0];
    const afterName = name === undefined ? undefined : inner[name.length];
    const badSubstitution =
      inner === '' ||
      (name === undefined && !SPECIAL_PARAMETER.test(inner[0]!)) ||
      (afterName !== undefined && !PARAMETER_OPERATOR.test(afterName));
    if (badSubstitution) {
      this.report(
        'reader-fails',
        'error',
        line,
        `bad substitution ${written}: bash aborts the wrapper and the daemon does not start; write \${NAME}`,
      );
    } else {
      this.report('unsupported-construct', 'warning', line, `parameter operation ${written}: not supported here; use a plain \${NAME}`);
    }
    this.fixed(written);
  }

  private readDollarParen(line: number): void {
    this.take();
    const arithmetic = this.peek() === '(';
    const body = this.scanBalanced('(', ')', "'$(' without its closing ')'");
    if (arithmetic) {
      this.reportNestedSubstitution(line, body, '$((...))');
      this.report('unsupported-construct', 'warning', line, 'arithmetic expansion $((...)): not supported here; write the result');
    } else {
      this.report('unsupported-construct', 'error', line, `command substitution $(...): ${RUNS_AS_ROOT}`);
    }
    this.fixed(`$(${body}`);
  }

  private readBackticks(): void {
    const line = this.line;
    this.take();
    let body = '';
    while (!this.atEnd() && this.peek() !== '`') {
      if (this.peek() === '\\' && this.pos + 1 < this.src.length) body += this.take();
      body += this.take();
    }
    if (this.atEnd()) {
      this.unclosed = true;
      this.report('reader-fails', 'error', line, `'\`' without its closing '\`': ${REFUSED}`);
    } else {
      body += this.take();
    }
    this.report('unsupported-construct', 'error', line, `command substitution \`...\`: ${RUNS_AS_ROOT}`);
    this.fixed(`\`${body}`);
  }

  private readAnsiCQuoted(line: number): void {
    let body = this.take();
    while (!this.atEnd() && this.peek() !== "'") {
      if (this.peek() === '\\' && this.pos + 1 < this.src.length) body += this.take();
      body += this.take();
      if (this.pos === this.lastLineStart) this.lastLineEnteredInSingleQuotes = true;
    }
    if (this.atEnd()) this.reportUnbalanced(line, "$'...' quote");
    else body += this.take();
    this.report('unsupported-construct', 'warning', line, "ANSI-C quoting $'...': not supported here; use plain quotes");
    this.fixed(`$${body}`);
  }

  /**
   * A construct kept literally may hold a command substitution that bash still runs while expanding it:
   * `${UNSET:-$(cmd)}`, `$(( $(cmd) ))`, `$[ $(cmd) ]`, a `[$(cmd)]=` subscript. Quotes inside do not
   * make it safe (`"${x:-'$(cmd)'}"` runs it), so any `$(` or backtick in the body counts.
   */
  private reportNestedSubstitution(line: number, body: string, construct: string): void {
    if (!body.includes('$(') && !body.includes('`')) return;
    this.report('unsupported-construct', 'error', line, `command substitution inside ${construct}: ${RUNS_AS_ROOT}`);
  }

  private reportSpecialParameter(line: number, written: string): void {
    this.report(
      'unsupported-construct',
      'warning',
      line,
      `special parameter ${written}: not supported here; it does not hold a flag value`,
    );
  }

  private expandVariable(name: string, written: string, quoted: boolean, line: number): void {
    if (Object.hasOwn(this.env.vars, name)) {
      const value = this.env.vars[name]!;
      this.pieces.push({ kind: quoted ? 'fixed' : 'split', text: value });
      return;
    }
    const key = `${line}\0${name}`;
    if (!this.unknownSeen.has(key)) {
      this.unknownSeen.add(key);
      this.report('unknown-variable', 'info', line, `unknown variable ${written}: its value is not known here`);
    }
    if (this.env.unknownVariables === 'keep') this.fixed(written);
    else this.pieces.push({ kind: quoted ? 'fixed' : 'split', text: '' });
  }

  /**
   * Reads up to the `close` matching an `open` already consumed (nesting, quotes and backslashes
   * respected) and returns the text read, closing character included. Used for constructs kept
   * literally; an unclosed one is a syntax error.
   */
  private scanBalanced(open: string, close: string, unclosed: string): string {
    const line = this.line;
    let text = '';
    let depth = 1;
    while (true) {
      this.skipContinuations();
      const c = this.peek();
      if (c === undefined) {
        this.unclosed = true;
        this.report('reader-fails', 'error', line, `${unclosed}: ${REFUSED}`);
        return text;
      }
      if (c === '\\' && this.pos + 1 < this.src.length) {
        text += this.take() + this.take();
      } else if (c === "'" || c === '"' || c === '`') {
        text += this.scanQuotedRaw(c);
      } else {
        text += this.take();
        if (c === open) depth++;
        else if (c === close && --depth === 0) return text;
      }
    }
  }

  private scanQuotedRaw(quote: string): string {
    let text = this.take();
    while (!this.atEnd() && this.peek() !== quote) {
      if (quote !== "'" && this.peek() === '\\' && this.pos + 1 < this.src.length) text += this.take();
      text += this.take();
    }
    if (!this.atEnd()) text += this.take();
    return text;
  }

  private fixed(text: string): void {
    this.pieces.push({ kind: 'fixed', text });
  }

  private noteNulBytes(text: string): void {
    if (!text.includes('\0')) return;
    let line = 1;
    for (const c of text) {
      if (c === '\n') line++;
      if (c === '\0') {
        this.report('unsupported-construct', 'warning', line, 'NUL byte: bash drops it (with a warning) when reading the file');
      }
    }
  }
}

/**
 * Field splitting as bash does it with the default IFS: only unquoted expansion results are
 * split; runs of blanks are one separator; a field survives when it has a character or a quoted
 * (possibly empty) part, so `--a $UNSET` loses the second word but `""` keeps an empty one.
 */
function splitFields(pieces: readonly Piece[]): string[] {
  const fields: string[] = [];
  let current = '';
  let hasContent = false;
  for (const piece of pieces) {
    if (piece.kind === 'fixed') {
      current += piece.text;
      hasContent = true;
      continue;
    }
    for (const c of piece.text) {
      if (!IFS_BLANKS.has(c)) {
        current += c;
        hasContent = true;
      } else if (hasContent) {
        fields.push(current);
        current = '';
        hasContent = false;
      }
    }
  }
  if (hasContent) fields.push(current);
  return fields;
}

/**
 * The parity bash computes while reading its last input line: it counts the trailing backslashes,
 * carrying the count over from lines consisting of a single backslash (continuations it read in
 * the same call, see shell_getc in bash's parse.y).
 */
function endsWithOddBackslashRun(src: string, lastLineStart: number): boolean {
  const lastLine = src.slice(lastLineStart);
  let run = /\\*$/.exec(lastLine)![0].length;
  if (run === lastLine.length) {
    let lineEnd = lastLineStart - 1;
    while (lineEnd >= 1 && src[lineEnd - 1] === '\\' && (lineEnd === 1 || src[lineEnd - 2] === '\n')) {
      run++;
      lineEnd -= 2;
    }
  }
  return run % 2 === 1;
}
