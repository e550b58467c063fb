// Text from a node (file names, paths, flag names and values, reasons quoting them, diff lines) as a terminal
// may show it. A name with a newline must not start a line of its own (a fake `error:`), an escape sequence must
// not move the cursor, retitle the window or recolour what follows, and a bidi override must not reorder what
// a person reads. Such characters are shown as escapes, and the backslash itself as `\\`, so that what is shown
// tells exactly what is there (as `ls -b` does).

/**
 * The characters never written raw: C0 controls (tab and newline too, inside a value), DEL, C1 controls, the
 * Unicode line and paragraph separators, and the bidi controls (embeddings, overrides, isolates and marks).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const UNSAFE_OR_BACKSLASH = new RegExp(`${UNSAFE.source}|\\\\`, 'g');

const NAMED: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeOf(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.charCodeAt(0);
  return code <= 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One string from the node, for a terminal: control and bidi characters as `\n`, `\x1b`, `\u2028`; `\` as `\\`. */
export function shown(text: string): string {
  return text.replace(UNSAFE_OR_BACKSLASH, escapeOf);
}

/** Whether a string holds a character `shown` would escape (a backslash aside). */
export function hasUnsafe(text: string): boolean {
  return UNSAFE.test(text);
}

// The last line of defence, over a whole text document about to be written: harden's own colour codes (SGR,
// `ESC [ digits m`), newlines and tabs pass; any other control or bidi character is escaped. Every view escapes
// node text itself (`shown`), so this only ever acts on something a view missed; it keeps even that from
// reaching the terminal raw.
const SGR_OR_UNSAFE = /\r\u001b\[K|\u001b\[[0-9;]*m|[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * A text document with every control character other than newline, tab, colour codes and the rewrite of the
 * current line that progress uses (carriage return then clear-to-end, together only) escaped.
 */
export function terminalSafe(text: string): string {
  return text.replace(SGR_OR_UNSAFE, (match) => (match.length > 1 ? match : escapeOf(match)));
}

const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * A value as JSON text that holds no raw control or bidi character: JSON.stringify already escapes C0 controls;
 * DEL, C1, U+2028/U+2029 and the bidi controls are written as `\uXXXX` too. The same value when parsed.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
