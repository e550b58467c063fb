// Commands harden tells a person to run, written so that a shell reads them back as they were meant.

/**
 * A word as a shell reads it back: as it is when plain; in double quotes when it holds a single quote and
 * nothing double quotes would expand; in single quotes otherwise (a single quote inside as `'\''`, whose
 * backslash a terminal view shows doubled, so that form is kept for words no other form can hold).
 */
export function shellWord(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  if (word.includes("'") && !/["$`\\!]/.test(word)) return `"${word}"`;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
