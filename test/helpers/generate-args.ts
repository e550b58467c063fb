// Seeded generator of args files that stay inside the bash subset readWithBash emulates exactly,
// but cover it densely: every quoting form, escapes, continuations, comments, CRLF, variables.
// It never produces anything bash would expand beyond that subset: no command substitution or
// backtick (bash would run it), no unquoted { } [ ] * ?, no '~' starting a word, no $( ${op} $' $"
// or special parameters, no unquoted metacharacter. Reused by property tests: keep it general.

import { between, chance, makeRng, pick, type Rng } from './prng.js';

export { makeRng, type Rng };

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

// ---- hostile files ----
//
// What an attacker or a careless hand puts in an args file, mixed into lines shaped like the real ones:
// command and process substitutions (also hidden inside ${...}, $((...)), $[...] and [...]= subscripts),
// globs, '~', brace expansion, parameter operations, special parameters, ANSI-C and locale quoting,
// unquoted metacharacters and `=` values with spaces, unbalanced quotes, bad substitutions, tabs, CR, NUL.
// Every command it writes is CANARY_COMMAND, a shell builtin that only appends to `ran` in bash's working
// directory: a test that lets bash read such a file by mistake sees the file appear, and nothing else happens.

export const CANARY_FILE = 'ran';
const CANARY_COMMAND = `printf x >>${CANARY_FILE}`;

const EXECUTING = [
  `$(${CANARY_COMMAND})`,
  `\`${CANARY_COMMAND}\``,
  `"$(${CANARY_COMMAND})"`,
  `"a\`${CANARY_COMMAND}\`b"`,
  `<(${CANARY_COMMAND})`,
  `>(${CANARY_COMMAND})`,
  `\${UNSET_ONE:-$(${CANARY_COMMAND})}`,
  `"\${UNSET_ONE:-$(${CANARY_COMMAND})}"`,
  `\${UNSET_ONE:-\`${CANARY_COMMAND}\`}`,
  `\${SNAP/$(${CANARY_COMMAND})/y}`,
  `$((1+$(${CANARY_COMMAND})0))`,
  `$[$(${CANARY_COMMAND})0]`,
  `$"$(${CANARY_COMMAND})"`,
];
/** Text that looks like a command substitution but that bash keeps literal. */
const DEFUSED = [`'$(${CANARY_COMMAND})'`, `"\\$(x)"`, `'\`x\`'`, `\\\`x\\\``, `$'$(x)'`, `"\\\`x\\\`"`];
/** Expansions beyond the subset that run nothing: bash reads them, differently from the literal text. */
const EXPANDING = [
  '*', '*.key', 'x?', '[ab]c', '~', '~/x', '~root', '{a,b}', 'x{1..3}', '${SNAP:-/snap}', '${#SNAP}', '${SNAP%/*}', '${UNSET_ONE-default}',
  '$((1+2))', '$[3*4]', "$'a\\tb'", '$"x y"', '$1', '$@', '$*', '$#', '$?', '$$', '$!', '$-', '$0', '$_', '${1}',
];
/** Constructs that make bash refuse the whole file. */
const REFUSED = ['a;b', 'x|y', 'a&b', 'x>y', 'x<y', 'a(b', 'a)b', '"unclosed', "'unclosed", '${SNAP', '${}', '${SNAP.DATA}', '${ SNAP}', '`unclosed', '$(unclosed'];
/** Values as real args files and careless edits write them. */
const REALISTIC = [
  'AlwaysAllow', 'Node,RBAC', '0', 'true', 'false', '10.152.183.0/24', '${SNAP_DATA}/certs/ca.crt', '"${SNAP_DATA}/certs/server.key"',
  "'unix://etcd.socket:2379'", '$SNAP_DATA/args/kube-scheduler', 'https://${DEFAULT_INTERFACE_IP_ADDR}:12379', '""',
  '"memory.available<100Mi,nodefs.available<1Gi"', 'memory.available<100Mi', 'node.kubernetes.io/microk8s-controlplane=microk8s-controlplane',
  'a=b c=d', '"with space"', "'single with space'", 'x\\ y', 'C:\\\\path', 'caf\u00e9', '\u00a0nbsp', '\u{1F512}lock', 'trailing\\',
];
const HOSTILE_FLAGS = ['authorization-mode', 'anonymous-auth', 'read-only-port', 'kubelet-certificate-authority', 'node-labels', 'eviction-hard', 'etcd-servers', 'x'];

function hostilePiece(rng: Rng): string {
  const kind = rng();
  if (kind < 0.12) return pick(rng, EXECUTING);
  if (kind < 0.2) return pick(rng, DEFUSED);
  if (kind < 0.35) return pick(rng, EXPANDING);
  if (kind < 0.45) return pick(rng, REFUSED);
  if (kind < 0.8) return pick(rng, REALISTIC);
  return variableReference(rng);
}

function hostileValue(rng: Rng): string {
  let value = hostilePiece(rng);
  for (let n = chance(rng, 0.3) ? between(rng, 1, 2) : 0; n > 0; n--) value += (chance(rng, 0.2) ? pick(rng, ['', ' ', '\t']) : '') + hostilePiece(rng);
  return value;
}

function hostileItem(rng: Rng): string {
  const name = pick(rng, HOSTILE_FLAGS);
  const kind = rng();
  if (kind < 0.5) return `--${name}=${hostileValue(rng)}`;
  if (kind < 0.7) return `--${name}${pick(rng, [' ', '\t', '  '])}${hostileValue(rng)}`;
  if (kind < 0.8) return `--${name}`;
  if (kind < 0.9) return `[${pick(rng, ['0', `$(${CANARY_COMMAND})`, 'x y'])}]=${hostileValue(rng)}`;
  return hostileValue(rng);
}

function hostileLine(rng: Rng): string {
  const kind = rng();
  if (kind < 0.08) return '';
  if (kind < 0.16) return `#${chance(rng, 0.5) ? hostileValue(rng) : ' --anonymous-auth=false'}`;
  if (kind < 0.2) return `#~${hostileValue(rng)}`;
  if (kind < 0.45) return flagLine(rng);
  let line = pick(rng, ['', '', ' ', '\t']) + hostileItem(rng);
  if (chance(rng, 0.2)) line += pick(rng, [' ', '\t', ' \\\n']) + hostileItem(rng);
  if (chance(rng, 0.1)) line += ` # ${hostileValue(rng)}`;
  if (chance(rng, 0.04)) line += '\r';
  if (chance(rng, 0.01)) line += '\0';
  return line;
}

/** An args file with hostile lines among ordinary ones; LF or CRLF, with or without a final newline. */
export function generateHostileArgsFile(rng: Rng): string {
  const lineEnd = chance(rng, 0.1) ? '\r\n' : '\n';
  const lines: string[] = [];
  for (let n = between(rng, 1, 8); n > 0; n--) lines.push(hostileLine(rng));
  const text = lines.join(lineEnd);
  return chance(rng, 0.8) ? text + lineEnd : text;
}
