// kubelite's own args-file reader (`ReadArgsFromFile` in MicroK8s' kubelite patch, 1.21 to today), emulated.
//
// For each line (Go's bufio.Scanner: split on '\n', a trailing '\r' dropped, a line of 64 KiB or more is a
// fatal "token too long"): trim surrounding whitespace; skip empty lines and lines starting with '#';
// delete every ' and "; split on single spaces; expand each part with os.ExpandEnv. No quoting, no escapes.
import { FindingList } from './finding.js';
import type { ArgvWord, ReadResult, ReaderEnv } from './reader.js';

/** bufio.MaxScanTokenSize: the scanner's buffer cannot hold a longer line. */
export const KUBELITE_MAX_LINE_BYTES = 64 * 1024;

export function readWithKubelite(text: string, env: ReaderEnv, findingsPerCode?: number): ReadResult {
  const argv: ArgvWord[] = [];
  const findings = new FindingList({ limit: findingsPerCode });
  /** The unknown variables of the line being read. */
  const unknown = new Set<string>();
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let index = 0; index < lines.length; index += 1) {
    const number = index + 1;
    let line = lines[index];
    // The scanner's buffer holds the line with its carriage return: a CRLF line reaches the limit a byte sooner.
    // (A UTF-16 unit is at most 3 bytes of UTF-8: shorter lines need no counting.)
    if (line.length * 3 >= KUBELITE_MAX_LINE_BYTES && Buffer.byteLength(line) >= KUBELITE_MAX_LINE_BYTES) {
      findings.add({
        code: 'reader-fails',
        severity: 'error',
        line: number,
        message: `line is ${Buffer.byteLength(line)} bytes: kubelite's reader stops at 64 KiB ("token too long") and kubelite does not start`,
      });
      return { reader: 'kubelite', argv, findings: findings.list(), fails: true };
    }
    if (line.endsWith('\r')) line = line.slice(0, -1);
    line = goTrimSpace(line);
    if (line === '' || line.startsWith('#')) continue;
    if (line.includes('"') || line.includes("'")) line = line.replace(/["']/g, '');
    unknown.clear();
    for (const part of line.split(' ')) {
      argv.push({ value: goExpandEnv(part, env, unknown), line: number });
    }
    for (const name of unknown) {
      if (!findings.admits('unknown-variable')) {
        findings.count('unknown-variable', 'info', number);
        continue;
      }
      findings.add({
        code: 'unknown-variable',
        severity: 'info',
        line: number,
        message: `unknown variable \${${name}}: its value is not known here`,
      });
    }
  }
  return { reader: 'kubelite', argv, findings: findings.list(), fails: false };
}

// Go's unicode.IsSpace, which strings.TrimSpace uses.
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

function goTrimSpace(s: string): string {
  // Most lines have nothing to trim: a printable ASCII character at both ends.
  if (s.length > 0 && isPlainAscii(s.charCodeAt(0)) && isPlainAscii(s.charCodeAt(s.length - 1))) return s;
  return s.replace(GO_SPACE, '');
}

function isPlainAscii(code: number): boolean {
  return code > 0x20 && code < 0x7f;
}

const SPECIAL = '*#$@!?-0123456789';
const ALNUM = /[A-Za-z0-9_]/;

/** os.ExpandEnv, including its handling of bad syntax (`${}` and an unclosed `${` are eaten). */
function goExpandEnv(s: string, env: ReaderEnv, unknown: Set<string>): string {
  if (!s.includes('$')) return s;
  let out = '';
  let i = 0;
  for (let j = 0; j < s.length; j += 1) {
    if (s[j] !== '$' || j + 1 >= s.length) continue;
    out += s.slice(i, j);
    const { name, width } = goShellName(s.slice(j + 1));
    if (name === '' && width > 0) {
      // invalid syntax: the characters are eaten
    } else if (name === '') {
      out += '$';
    } else if (Object.hasOwn(env.vars, name)) {
      out += env.vars[name];
    } else {
      unknown.add(name);
      if (env.unknownVariables === 'keep') out += s.slice(j, j + 1 + width);
    }
    j += width;
    i = j + 1;
  }
  return i === 0 ? s : out + s.slice(i);
}

function goShellName(s: string): { name: string; width: number } {
  if (s[0] === '{') {
    if (s.length > 2 && SPECIAL.includes(s[1]) && s[2] === '}') return { name: s[1], width: 3 };
    for (let i = 1; i < s.length; i += 1) {
      if (s[i] === '}') return i === 1 ? { name: '', width: 2 } : { name: s.slice(1, i), width: i + 1 };
    }
    return { name: '', width: 1 };
  }
  if (SPECIAL.includes(s[0])) return { name: s[0], width: 1 };
  let i = 0;
  while (i < s.length && ALNUM.test(s[i])) i += 1;
  return { name: s.slice(0, i), width: i };
}
