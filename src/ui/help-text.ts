// --help, wrapped to a width by words: yargs' own wrapping (in its ES module build) cuts lines every N
// characters, through the middle of an option, a rule id or a path. yargs lays the help out unwrapped; this
// folds each long line at spaces, continuing under the line's description column.

/** Help text is never folded narrower than this: below it, a narrow terminal wraps lines itself. */
export const MIN_HELP_WIDTH = 40;
/** The width when there is no terminal to ask (a pipe, a file, a test). */
export const DEFAULT_HELP_WIDTH = 100;

/**
 * Folds every line longer than `width` at spaces. A word (an option, a rule id, a path, a `[default: …]`) is
 * never cut: one longer than the room left stands on a line of its own, past the width.
 */
export function wrapHelp(text: string, width: number): string {
  const room = Math.max(MIN_HELP_WIDTH, Math.floor(width));
  const lines = text.split('\n');
  // A block (indented lines under a heading) whose first column is too wide for one of its lines puts every
  // description under its line, so the block stays aligned.
  const stacked = new Set<number>();
  for (let start = 0; start < lines.length; start += 1) {
    if (!lines[start].startsWith(' ')) continue;
    let end = start;
    while (end + 1 < lines.length && lines[end + 1].startsWith(' ')) end += 1;
    const block = lines.slice(start, end + 1);
    if (block.some((line) => line.length > room && (firstColumn(line)?.length ?? 0) > room / 2)) {
      block.forEach((line, index) => firstColumn(line) && stacked.add(start + index));
    }
    start = end;
  }
  return lines.map((line, index) => (line.length <= room && !stacked.has(index) ? line : foldLine(line, room, stacked.has(index)))).join('\n');
}

/** Two columns (an option or example, then what it does): up to the first gap of two or more spaces after the first word. */
function firstColumn(line: string): string | undefined {
  return /^( *\S(?:\S| (?! ))*  +)\S/.exec(line)?.[1];
}

function foldLine(line: string, width: number, stack: boolean): string {
  const indentation = /^ */.exec(line)![0].length;
  // Continuation lines start under the description, or, when that column is too wide to leave room, the
  // description goes on lines of its own, indented a step further.
  const column = firstColumn(line);
  if (column && column.length <= width / 2 && !stack) return fill(column, line.slice(column.length), width);
  if (column) {
    const left = column.trimEnd();
    return `${fill(' '.repeat(indentation), left.trimStart(), width)}\n${fill(' '.repeat(indentation + 4), line.slice(column.length), width)}`;
  }
  return fill(' '.repeat(indentation), line.trimStart(), width);
}

/** `text` after `head`, folded at spaces; continuation lines are indented as far as `head` is long. */
function fill(head: string, text: string, width: number): string {
  const words = text.match(/\[[^\]]*\]|\S+/g) ?? [];
  const lines: string[] = [];
  let current = head;
  let empty = true;
  for (const word of words) {
    if (!empty && current.length + 1 + word.length > width) {
      lines.push(current);
      current = ' '.repeat(head.length);
      empty = true;
    }
    current += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(current);
  return lines.join('\n');
}
