// Seeded generator of args files that stay inside the bash subset readWithBash emulates exactly,
// but cover it densely: every quoting form, escapes, continuations, comments, CRLF, variables.
// It never produces anything bash would expand beyond that subset: no command substitution or
// backtick (bash would run it), no unquoted { } [ ] * ?, no '~' starting a word, no $( ${op} $' $"
// or special parameters, no unquoted metacharacter. Reused by property tests: keep it general.

export type Rng = () => number;

/** mulberry32: a small deterministic PRNG; the same seed gives the same sequence everywhere. */
export function makeRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const KNOWN_VARIABLES = ['SNAP', 'SNAP_DATA', 'SNAP_COMMON'] as const;
/** Names no shell sets, so bash expands them to nothing, as an unknown variable under `empty`. */
export const UNKNOWN_VARIABLES = ['UNSET_ONE', 'DEFAULT_INTERFACE_IP_ADDR'] as const;

const FLAG_NAMES = ['config', 'data-dir', 'iface', 'eviction-hard', 'keyfile', 'etcd-servers', 'node-labels', 'feature-gates', 'bind', 'address', 'x'];
const SHORT_FLAGS = ['H', 'v', 'n'];
/** Unquoted characters that bash leaves alone anywhere in a word ('#' and '~' only after its start). */
const PLAIN = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./:,_+%@!^=-';
const PLAIN_NOT_FIRST = `${PLAIN}#~`;
/** Characters after which an unquoted '$' stays literal. */
const LITERAL_AFTER_DOLLAR = '/.:=%,+^~';
/** The same inside double quotes, where $' and a '$' before blanks or metacharacters are literal too. */
const LITERAL_AFTER_DOLLAR_QUOTED = `${LITERAL_AFTER_DOLLAR}' <>|&;)]}`;
/** Characters worth escaping with an unquoted backslash (all of them are then literal). */
const ESCAPABLE = ' \t#\\"\'$;<>|&()*?[]{}~an-=!';
/** Inside quotes: blanks, metacharacters, glob and brace characters, all literal there. */
const QUOTED_RICH = 'ab Z09 \t<>|&;()#*?[]{}~=,.:/!-';
const SINGLE_QUOTED_EXTRA = '"\\$\r';
const DOUBLE_QUOTED_ESCAPES = ['\\"', '\\\\', '\\$', '\\a', "\\'", '\\ ', '\\#', '\\n', '\\{'];
const CANNED_VALUES = [
  '"memory.available<100Mi,nodefs.available<1Gi,imagefs.available<1Gi"',
  "'unix://etcd.socket:2379'",
  '"${SNAP_DATA}/certs/server.key"',
  '${SNAP_COMMON}/var/run/etcd',
  'https://${DEFAULT_INTERFACE_IP_ADDR}:12379',
  '$SNAP_DATA/args/kube-scheduler',
  '""',
  'A=true,B=false',
];

function pick<T>(rng: Rng, items: readonly T[] | string): T {
  return items[Math.floor(rng() * items.length)] as T;
}

function chance(rng: Rng, probability: number): boolean {
  return rng() < probability;
}

function between(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

function run(rng: Rng, alphabet: string, min: number, max: number): string {
  let text = '';
  for (let n = between(rng, min, max); n > 0; n--) text += pick<string>(rng, alphabet);
  return text;
}

function variableReference(rng: Rng): string {
  const name = chance(rng, 0.7) ? pick(rng, KNOWN_VARIABLES) : pick(rng, UNKNOWN_VARIABLES);
  return chance(rng, 0.5) ? `$${name}` : `\${${name}}`;
}

function blanks(rng: Rng, min: number): string {
  return run(rng, '  \t', min, min + 2);
}

function singleQuoted(rng: Rng): string {
  const newline = chance(rng, 0.15) ? '\n' : '';
  return `'${run(rng, QUOTED_RICH + SINGLE_QUOTED_EXTRA, 0, 6)}${newline}${run(rng, QUOTED_RICH, 0, 4)}'`;
}

function doubleQuoted(rng: Rng): string {
  let body = '';
  for (let n = between(rng, 0, 5); n > 0; n--) {
    const kind = rng();
    if (kind < 0.3) body += run(rng, QUOTED_RICH, 1, 6);
    else if (kind < 0.5) body += variableReference(rng);
    else if (kind < 0.7) body += pick(rng, DOUBLE_QUOTED_ESCAPES);
    else if (kind < 0.8) body += `$${pick<string>(rng, LITERAL_AFTER_DOLLAR_QUOTED)}`;
    else if (kind < 0.88) body += '\n';
    else if (kind < 0.94) body += '\\\n';
    else body += "'";
  }
  // A '$' just before the closing quote is literal.
  if (chance(rng, 0.1)) body += '$';
  return `"${body}"`;
}

/** One piece of an unquoted word; `first` pieces avoid what would start a comment or a tilde. */
function wordPiece(rng: Rng, first: boolean): string {
  const kind = rng();
  if (kind < 0.3) return run(rng, PLAIN, 1, 1) + run(rng, first ? PLAIN : PLAIN_NOT_FIRST, 0, 8);
  if (kind < 0.45) return variableReference(rng);
  if (kind < 0.55) return doubleQuoted(rng);
  if (kind < 0.63) return singleQuoted(rng);
  if (kind < 0.73) return `\\${pick<string>(rng, ESCAPABLE)}`;
  if (kind < 0.8) return `$${pick<string>(rng, LITERAL_AFTER_DOLLAR)}`;
  if (kind < 0.85) return pick(rng, ['""', "''"]);
  if (kind < 0.9) return first ? pick(rng, CANNED_VALUES) : `#${run(rng, PLAIN, 0, 3)}`;
  if (kind < 0.95) return first ? run(rng, PLAIN, 1, 4) : `~${run(rng, PLAIN, 0, 3)}`;
  return pick(rng, CANNED_VALUES);
}

/**
 * An unquoted word. Pieces may be joined by backslash-newline; a bare '$' may end the word,
 * since whatever follows a word (blank, newline, end of file) leaves it literal.
 */
function word(rng: Rng, startsWord: boolean): string {
  let text = wordPiece(rng, startsWord);
  for (let n = between(rng, 0, 3); n > 0; n--) {
    if (chance(rng, 0.08)) text += '\\\n';
    text += wordPiece(rng, false);
  }
  if (chance(rng, 0.05)) text += '$';
  return text;
}

function flagItem(rng: Rng): string {
  const name = pick(rng, FLAG_NAMES);
  const kind = rng();
  if (kind < 0.45) return `--${name}=${chance(rng, 0.05) ? '' : word(rng, false)}`;
  if (kind < 0.65) return `--${name}${blanks(rng, 1)}${word(rng, true)}`;
  if (kind < 0.75) return `--${name}`;
  if (kind < 0.82) return `-${pick(rng, SHORT_FLAGS)}${blanks(rng, 1)}${word(rng, true)}`;
  if (kind < 0.9) return `${pick(rng, ['nvidia', 'a_b', 'key'])}=${word(rng, false)}`;
  return word(rng, true);
}

function comment(rng: Rng): string {
  return run(rng, `${PLAIN} \t'"\\$;<>|&(){}[]*?~#`, 0, 12);
}

function flagLine(rng: Rng): string {
  let line = blanks(rng, 0) + flagItem(rng);
  for (let n = chance(rng, 0.25) ? between(rng, 1, 2) : 0; n > 0; n--) {
    const separator = chance(rng, 0.3) ? ` \\\n${blanks(rng, 0)}` : blanks(rng, 1);
    line += separator + flagItem(rng);
  }
  if (chance(rng, 0.15)) line += `${blanks(rng, 1)}#${comment(rng)}`;
  return line;
}

function line(rng: Rng): string {
  const kind = rng();
  if (kind < 0.1) return '';
  if (kind < 0.15) return blanks(rng, 1);
  if (kind < 0.23) return `${blanks(rng, 0)}#${comment(rng)}`;
  if (kind < 0.27) return `#~${comment(rng)}`;
  return flagLine(rng);
}

/** An args file body: flag lines, comments, blank lines; LF or CRLF; with or without a final newline. */
export function generateArgsFile(rng: Rng): string {
  const lineEnd = chance(rng, 0.15) ? '\r\n' : '\n';
  const lines: string[] = [];
  for (let n = chance(rng, 0.03) ? 0 : between(rng, 1, 14); n > 0; n--) lines.push(line(rng));
  // A backslash ending the file (before its final newlines) stays: $(cat) strips those newlines first.
  if (lines.length > 0 && chance(rng, 0.05)) lines[lines.length - 1] += '\\';
  let text = lines.map((l) => l + (chance(rng, 0.03) ? '\r\n' : lineEnd)).join('');
  if (lines.length > 0 && chance(rng, 0.2)) text = text.slice(0, -1); // no final newline (CRLF keeps its \r)
  if (chance(rng, 0.15)) text += lineEnd.repeat(between(rng, 1, 3));
  return text;
}
