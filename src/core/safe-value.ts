// What a flag value harden writes may hold: one definition for the profile schema (the `value` pattern of
// profiles/schema.json, which the build and a test keep equal to VALUE_PATTERN) and for the editor
// (edit-args.ts), which refuses anything else. An allow-list, not a list of what is dangerous: printable ASCII
// without whitespace, quotes, backslash, backtick, `$`, and bash's `; & | < > ( ) { }`, plus the three
// variables both readers expand. Everything else (every Unicode space, line or paragraph separator, control
// or format character, every letter outside ASCII) is refused: bash and kubelite would read it differently,
// or a reviewer would not see it for what it is.

/** The characters of a value, as the body of a regular-expression class (JSON Schema's ECMA-262 dialect). */
export const VALUE_CHARACTERS = 'A-Za-z0-9!#%*+,./:=?@^_~\\[\\]-';

/** The variables a value may name, as `${NAME}`: both bash and kubelite expand them to the snap's paths. */
export const VALUE_VARIABLES = ['SNAP', 'SNAP_DATA', 'SNAP_COMMON'] as const;

/** The whole value: the `pattern` of `definitions.value` in profiles/schema.json, exactly. */
export const VALUE_PATTERN = `^([${VALUE_CHARACTERS}]|\\$\\{SNAP(_DATA|_COMMON)?\\})*$`;

/** What a value may hold, in words: the schema's message and the editor's. */
export const VALUE_RULE = 'a value may hold only ASCII letters, digits and ! # % * + , - . / : = ? @ [ ] ^ _ ~, and $ only in ${SNAP}, ${SNAP_DATA} or ${SNAP_COMMON}';

// Ajv compiles patterns with the `u` flag; so does this.
const WHOLE = new RegExp(VALUE_PATTERN, 'u');
const TOKEN = new RegExp(`[${VALUE_CHARACTERS}]|\\$\\{SNAP(?:_DATA|_COMMON)?\\}`, 'uy');

export function isSafeValue(value: string): boolean {
  return WHOLE.test(value);
}

/** Why a value is not safe (its first character outside the allow-list, and where), or null when it is. */
export function unsafeValueReason(value: string): string | null {
  if (isSafeValue(value)) return null;
  let at = 0;
  for (;;) {
    TOKEN.lastIndex = at;
    const match = TOKEN.exec(value);
    if (match === null) break;
    at += match[0].length;
  }
  // Everything before it is ASCII: its index is its position.
  const char = String.fromCodePoint(value.codePointAt(at)!);
  return `it holds ${characterName(char)} at character ${at + 1}`;
}

const NAMES: Readonly<Record<number, string>> = {
  0x00: 'NUL',
  0x09: 'a tab',
  0x0a: 'a line feed',
  0x0b: 'a vertical tab',
  0x0c: 'a form feed',
  0x0d: 'a carriage return',
  0x20: 'a space',
  0x85: 'a next-line character',
  0xa0: 'a no-break space',
  0x1680: 'an ogham space mark',
  0x200b: 'a zero-width space',
  0x200e: 'a left-to-right mark',
  0x200f: 'a right-to-left mark',
  0x2028: 'a line separator',
  0x2029: 'a paragraph separator',
  0x202f: 'a narrow no-break space',
  0x205f: 'a medium mathematical space',
  0x3000: 'an ideographic space',
  0xfeff: 'a zero-width no-break space',
};

/** `U+00A0 (a no-break space)`, or a printable ASCII character in quotes: `";"`. */
function characterName(char: string): string {
  const code = char.codePointAt(0)!;
  if (code > 0x20 && code < 0x7f) return char === '$' ? '"$" outside ${SNAP}, ${SNAP_DATA}, ${SNAP_COMMON}' : JSON.stringify(char);
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  const name = NAMES[code] ?? (code >= 0x2000 && code <= 0x200a ? 'a space' : undefined);
  return name ? `${hex} (${name})` : hex;
}
