// Editing an args file: set or remove flags, line by line, on the lossless model (args-file.ts), so that
// every line no edit is about keeps its exact bytes. Pure: text in, text and a list of line changes out.
//
// Flags are matched by their exact name on flag lines only (never a substring, never inside a comment or
// a `#~` marker): MicroK8s' own `sed` helpers once deleted `--container-runtime-endpoint` while removing
// `--container-runtime`, and we must not repeat that.
import { parseArgsFile, printLine, type ArgsLine, type FlagPart, type LineEnd } from './args-file.js';
import { isBooleanFlag } from './flag-types.js';
import { unsafeValueReason } from './safe-value.js';

export type FlagEdit =
  | { readonly kind: 'set'; readonly flag: string; readonly value: string | null /* null = bare flag */; readonly ruleId: string }
  | { readonly kind: 'remove'; readonly flag: string; readonly ruleId: string };

export interface LineChange {
  readonly ruleId: string;
  readonly flag: string;
  readonly action: 'change' | 'add' | 'remove';
  /** Line number in the original file (null for add). */
  readonly line: number | null;
  /** Line number in the new file (null for remove). */
  readonly newLine: number | null;
  /** The original line's text without its line end. */
  readonly before: string | null;
  /** The new line's text without its line end. */
  readonly after: string | null;
  readonly note?: string;
}

/** What the output is built from: a line (kept, rewritten or added) and the change that made it, if any. */
interface Slot {
  readonly line: ArgsLine;
  readonly original: number | null;
  readonly change: Omit<LineChange, 'newLine'> | null;
}

const FLAG_NAME = /^--?[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function editArgsFile(text: string, edits: readonly FlagEdit[]): { text: string; changes: LineChange[] } {
  validateEdits(edits);
  const lines = parseArgsFile(text).lines;
  const byName = new Map(edits.map((edit) => [edit.flag, edit]));

  // Occurrences of each edited flag, by line index.
  const occurrences = new Map<string, number[]>();
  lines.forEach((line, index) => {
    const name = line.flag?.name;
    if (line.kind !== 'flag' || name === undefined || !byName.has(name)) return;
    occurrences.set(name, [...(occurrences.get(name) ?? []), index]);
  });

  const slots: (Slot | null)[] = lines.map((line) => ({ line, original: line.number, change: null }));
  const appended: FlagEdit[] = [];
  for (const edit of edits) {
    const found = occurrences.get(edit.flag) ?? [];
    if (edit.kind === 'remove') {
      for (const index of found) slots[index] = null;
      continue;
    }
    if (found.length === 0) {
      appended.push(edit);
      continue;
    }
    const keep = found[found.length - 1];
    for (const index of found.slice(0, -1)) slots[index] = null;
    const rewritten = rewriteFlagLine(lines[keep], edit.value);
    if (rewritten) slots[keep] = { line: rewritten, original: lines[keep].number, change: changeOf(edit, 'change', lines[keep], rewritten) };
  }

  const removed = removals(lines, slots, byName, occurrences);
  const kept = slots.filter((slot): slot is Slot => slot !== null);
  const added = appendLines(text, lines, kept, appended);
  const out = [...kept, ...added];

  const changes: LineChange[] = [];
  out.forEach((slot, index) => {
    if (slot.change) changes.push({ ...slot.change, newLine: index + 1 });
  });
  // Removals are listed where the line stood, among the other changes in original-file order; adds last.
  for (const change of removed) changes.push({ ...change, newLine: null });
  const order = (change: LineChange) => (change.line === null ? lines.length + change.newLine! : change.line);
  changes.sort((a, b) => order(a) - order(b));
  if (changes.length === 0) return { text, changes };
  return { text: out.map((slot) => printLine(slot.line)).join(''), changes };
}

/**
 * Two edits of one flag would each undo the other: the caller has a bug. Values are checked again here against
 * the one definition of a safe value (no quote, backslash, whitespace, `$(` or backtick, no `${…}` but the snap's
 * three variables, nothing outside printable ASCII), which the profile schema shares.
 */
function validateEdits(edits: readonly FlagEdit[]): void {
  const seen = new Set<string>();
  for (const edit of edits) {
    if (!FLAG_NAME.test(edit.flag)) throw new Error(`editArgsFile: ${JSON.stringify(edit.flag)} is not a flag name (rule ${edit.ruleId})`);
    if (seen.has(edit.flag)) throw new Error(`editArgsFile: ${edit.flag} is edited twice in one call (rule ${edit.ruleId})`);
    seen.add(edit.flag);
    if (edit.kind === 'set' && edit.value !== null) {
      // The same definition the profile schema holds values to (safe-value.ts): the planner checks first, so
      // reaching this is a bug.
      const problem = unsafeValueReason(edit.value);
      if (problem) throw new Error(`editArgsFile: unsafe value for ${edit.flag} (rule ${edit.ruleId}): ${problem}`);
    }
  }
}

/** Characters bash treats specially in an unquoted word (metacharacters, globs, braces, comment, tilde). */
function needsQuotes(value: string): boolean {
  return /[<>|&;()*?[\]{}~#]/.test(value.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g, ''));
}

/** The same line with a new value, or null when it already has that value. */
function rewriteFlagLine(line: ArgsLine, value: string | null): ArgsLine | null {
  const flag = line.flag!;
  if (value === null) {
    if (flag.rawValue === null) return null;
    return { ...line, flag: { name: flag.name, separator: '', rawValue: null, value: null, quote: 'none' } };
  }
  if (flag.rawValue === null ? value === 'true' : flag.value === value) return null;
  return { ...line, flag: valuedFlag(flag, value) };
}

function valuedFlag(old: Pick<FlagPart, 'name' | 'separator' | 'quote'>, value: string): FlagPart {
  // `--flag value` stays so only where it still reads as flag + value: never for a boolean flag (pflag does
  // not take the next word), an empty value (it would vanish) or a value starting with '-' (another flag).
  const spaced = old.separator !== '' && old.separator !== '=';
  const separator = spaced && value !== '' && !value.startsWith('-') && !isBooleanFlag(old.name) ? old.separator : '=';
  let quote = old.quote === 'mixed' ? 'double' : old.quote;
  // Single quotes would stop bash expanding ${SNAP_DATA} while kubelite still expands it.
  if (quote === 'single' && value.includes('$')) quote = 'double';
  if (quote === 'none' && needsQuotes(value)) quote = 'double';
  const rawValue = quote === 'single' ? `'${value}'` : quote === 'double' ? `"${value}"` : value;
  return { name: old.name, separator, rawValue, value, quote };
}

function changeOf(edit: FlagEdit, action: 'change' | 'add', before: ArgsLine | null, after: ArgsLine): Omit<LineChange, 'newLine'> {
  return {
    ruleId: edit.ruleId,
    flag: edit.flag,
    action,
    line: before?.number ?? null,
    before: before ? textOf(before) : null,
    after: textOf(after),
  };
}

function removals(
  lines: readonly ArgsLine[],
  slots: readonly (Slot | null)[],
  byName: ReadonlyMap<string, FlagEdit>,
  occurrences: ReadonlyMap<string, number[]>,
): Omit<LineChange, 'newLine'>[] {
  const out: Omit<LineChange, 'newLine'>[] = [];
  slots.forEach((slot, index) => {
    if (slot !== null) return;
    const line = lines[index];
    const edit = byName.get(line.flag!.name)!;
    const found = occurrences.get(edit.flag)!;
    const kept = lines[found[found.length - 1]].number;
    const base = { ruleId: edit.ruleId, flag: edit.flag, action: 'remove' as const, line: line.number, before: textOf(line), after: null };
    out.push(edit.kind === 'set' ? { ...base, note: `duplicate of line ${kept}, removed so one value stands` } : base);
  });
  return out;
}

/**
 * New lines for flags the file does not have, at its end. They take the file's usual line end; when the
 * file has no final newline, the old last line gets one and the new last line goes without, so the
 * final-newline state is kept (MicroK8s ships such files: kubectl-env, flannel-network-mgr-config).
 */
function appendLines(text: string, lines: readonly ArgsLine[], kept: Slot[], appended: readonly FlagEdit[]): Slot[] {
  if (appended.length === 0) return [];
  const eol = usualLineEnd(lines);
  const finalNewline = text === '' || text.endsWith('\n');
  const last = kept[kept.length - 1];
  let note: string | null = null;
  if (last && last.line.eol === '') {
    // Recorded on the first add rather than as a change of its own: the line's text is untouched.
    note = `line ${last.original} had no line end; it gets one so the new line starts on its own line`;
    kept[kept.length - 1] = { ...last, line: { ...last.line, eol } };
  }
  return appended.map((edit, i) => {
    const value = edit.kind === 'set' ? edit.value : null;
    const lineEnd: LineEnd = i === appended.length - 1 && !finalNewline ? '' : eol;
    const flag = value === null
      ? { name: edit.flag, separator: '', rawValue: null, value: null, quote: 'none' as const }
      : valuedFlag({ name: edit.flag, separator: '=', quote: 'none' }, value);
    const line: ArgsLine = { number: 0, kind: 'flag', indent: '', flag, rest: '', eol: lineEnd };
    const change = changeOf(edit, 'add', null, line);
    return { line, original: null, change: i === 0 && note ? { ...change, note } : change };
  });
}

/** The most common line end among the lines that have one; `\n` when none has (or on a tie). */
function usualLineEnd(lines: readonly ArgsLine[]): LineEnd {
  let lf = 0;
  let crlf = 0;
  for (const line of lines) {
    if (line.eol === '\n') lf += 1;
    else if (line.eol === '\r\n') crlf += 1;
  }
  return crlf > lf ? '\r\n' : '\n';
}

function textOf(line: ArgsLine): string {
  return printLine({ ...line, eol: '' });
}
