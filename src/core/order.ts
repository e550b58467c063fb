// One order for names and ids: by UTF-16 code unit, the same on every machine. localeCompare would depend on
// ICU and the locale (an operator's LANG must not reorder a plan), and its first call costs a CLI's start-up
// tens of milliseconds setting up a collator.
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
