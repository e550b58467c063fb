// What systemd-sysctl would set at the next boot, from the `*.conf` files of a node's sysctl.d directories.
//
// Read off systemd's own source (src/sysctl/sysctl.c, src/basic/conf-files.c, src/shared/sysctl-util.c,
// src/basic/fileio.c read_line) and sysctl.d(5); what each function relies on is said where it is used:
// - Files: conf_files_list_strv(".conf", CONF_PATHS_STRV("sysctl.d")) with no type or mask filter. Every entry
//   whose name ends `.conf` (hidden `.name.conf` ones excepted, FOREACH_DIRENT skips them) takes its name, in
//   the first directory that has it; later same-named entries are skipped unseen. A `/dev/null` link, an empty
//   file, a directory, a dangling link: each hides the later ones and sets nothing (reading fails or finds no
//   lines). The list is sorted by file name with strcmp, whatever the directory, and parsed in that order.
// - `/etc/sysctl.conf` is not read by itself: only through Debian's `/etc/sysctl.d/99-sysctl.conf` link.
// - One ordered map of options, key -> value: a later assignment of a different value removes the earlier one
//   and appends itself (so the last file wins); the same value again keeps the earlier entry where it was.
//   `-key` without `=` is a "negative match": it replaces the key's entry with one that writes nothing.
// - Globs (`*?[` in the key, systemd's string_is_glob): after parsing, options are written in map order; a
//   glob is expanded against /proc/sys, and a key that has ANY entry of its own in the map (an assignment or a
//   negative match, from any file, earlier or later) is never written by a glob ("explicit setting exists").
//   So an explicit key beats every glob; a key set only by globs gets the value of the glob written last (the
//   last in map order); a negative match without a value of its own excludes the key from every glob.
//   (Globs and `-key` arrived together, in systemd commit e0f4247 "sysctl: add glob syntax to sysctl.d files";
//   the rules above are the same from there to today's sysctl.c.)
// - Comments: sysctl.d(5) skips lines starting `#` or `;`. Today's conf_file_read skips only `#`, but then a
//   `;` line's key names no /proc/sys file, so either way it sets nothing a real key could be.
// - Credentials (`sysctl.extra`, passed to the service) are applied last; harden cannot see them from a node
//   root and ignores them.

/** systemd-sysctl's directories, highest precedence first. */
export const SYSCTL_DIRS: readonly string[] = ['/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d'];

/**
 * One `*.conf` entry of those dirs as read off the node. text null: nothing is read from it, but it still takes
 * its name (a symlink to /dev/null; a directory, FIFO, device or dangling link, with `unread` saying which); an
 * empty regular file counts as text ''. `via`: where a symlink led (`../sysctl.conf`), for messages.
 */
export interface SysctlConfFile {
  readonly dir: string;
  readonly name: string;
  readonly text: string | null;
  readonly via?: string | null;
  /** Why an entry with text null was not read, when it is not a mask (`a directory`, `a dangling symlink`). */
  readonly unread?: string | null;
}

export interface SysctlAssignment {
  readonly key: string;
  readonly value: string;
  /** node path `/etc/sysctl.d/99-sysctl.conf` */
  readonly file: string;
  readonly line: number;
  readonly via?: string | null;
  /** The glob, as normalized, when the value comes from a pattern such as `net.ipv4.conf.*.rp_filter`. */
  readonly pattern?: string | null;
}

/** One meaningful line of a sysctl.d file. */
export type SysctlLine =
  | { readonly kind: 'assign'; readonly key: string; readonly value: string; readonly line: number; readonly glob: boolean }
  /** `-key` alone: keeps every glob off the key and cancels an earlier assignment of it. */
  | { readonly kind: 'exclude'; readonly key: string; readonly line: number; readonly glob: boolean }
  /** Not an assignment (systemd logs "Line is not an assignment, ignoring"). */
  | { readonly kind: 'bad'; readonly text: string; readonly line: number };

/**
 * The canonical form of a key, dotted as sysctl(8) prints it: `kernel/panic` and `kernel.panic` are one key.
 * systemd's sysctl_normalize: when the first separator is a dot, dots and slashes are swapped (else the key is
 * already in slash form); empty and `.` path components are dropped. The dotted form swaps back, so
 * `net/ipv4/conf/eth0.100/forwarding` is `net.ipv4.conf.eth0/100.forwarding` (sysctl.d(5)'s example).
 */
export function normalizeSysctlKey(key: string): string {
  return swapSeparators(slashForm(key));
}

/** The key as a path under /proc/sys (systemd's normalized form): `kernel/panic`. */
function slashForm(key: string): string {
  const first = key.search(/[./]/);
  const swapped = first !== -1 && key[first] === '.' ? swapSeparators(key) : key;
  return swapped
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

function swapSeparators(key: string): string {
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/** systemd's WHITESPACE for strstrip: space, tab, newline, carriage return (not the wider set of trim()). */
function strip(text: string): string {
  return text.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');
}

/** systemd's string_is_glob: any of `*?[`. */
function isGlob(key: string): boolean {
  return /[*?[]/.test(key);
}

/**
 * Every meaningful line: assignments, `-key` exclusions and lines that assign nothing. Lines end at `\n`, `\r`,
 * NUL, or one of systemd's read_line combinations (`\r\n`, `\n\r`, either or both followed by NUL); blank lines and those starting `#` or `;` are skipped. `key = value`:
 * both sides stripped, a leading `-` (failure ignored) dropped, the key normalized (dotted).
 */
export function sysctlConfLines(text: string): SysctlLine[] {
  const lines: SysctlLine[] = [];
  text.split(/\r\n\0|\n\r\0|\r\n|\n\r|\n\0|\r\0|[\r\n\0]/).forEach((raw, index) => {
    const line = index + 1;
    const stripped = strip(raw);
    if (stripped === '' || stripped[0] === '#' || stripped[0] === ';') return;
    const eq = stripped.indexOf('=');
    if (eq === -1) {
      if (stripped[0] !== '-') {
        lines.push({ kind: 'bad', text: stripped, line });
        return;
      }
      const key = normalizeSysctlKey(strip(stripped.slice(1)));
      lines.push({ kind: 'exclude', key, line, glob: isGlob(key) });
      return;
    }
    const name = stripped[0] === '-' ? stripped.slice(1, eq) : stripped.slice(0, eq);
    const key = normalizeSysctlKey(strip(name));
    if (key === '') {
      lines.push({ kind: 'bad', text: stripped, line });
      return;
    }
    lines.push({ kind: 'assign', key, value: strip(stripped.slice(eq + 1)), line, glob: isGlob(key) });
  });
  return lines;
}

/**
 * The lines that assign: `key = value`, `key=value`, leading `-` (ignore failure) dropped, `#`/`;` comments and
 * blank lines skipped; value trimmed; key normalized (dotted). See sysctlConfLines for the rest.
 */
export function parseSysctlConf(text: string): { key: string; value: string; line: number; glob: boolean }[] {
  return sysctlConfLines(text).flatMap((l) => (l.kind === 'assign' ? [{ key: l.key, value: l.value, line: l.line, glob: l.glob }] : []));
}

/** strcmp order of file names: UTF-8 bytes, not UTF-16 code units. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The files systemd-sysctl applies, in the order it applies them: for each file name, the one of the
 * highest-precedence dir (a same-named file in an earlier dir hides a later one; a masked one hides and applies
 * nothing); then sorted by file name (plain byte order, as strcmp). Masked and unread entries are kept (text
 * null) so a caller can say what hides what; they set nothing. Names not ending `.conf` and hidden names are
 * not systemd's and are left out.
 */
export function appliedFiles(files: readonly SysctlConfFile[]): SysctlConfFile[] {
  const rank = (dir: string) => {
    const at = SYSCTL_DIRS.indexOf(dir);
    return at === -1 ? SYSCTL_DIRS.length : at;
  };
  const byName = new Map<string, SysctlConfFile>();
  for (const file of files) {
    if (!file.name.endsWith('.conf') || file.name.startsWith('.') || rank(file.dir) === SYSCTL_DIRS.length) continue;
    const held = byName.get(file.name);
    if (!held || rank(file.dir) < rank(held.dir)) byName.set(file.name, file);
  }
  return [...byName.values()].sort((a, b) => byteOrder(a.name, b.name));
}

interface MapEntry {
  /** null: a negative match (`-key`), which writes nothing. */
  value: string | null;
  origin: SysctlAssignment | null;
  glob: boolean;
}

/**
 * For each key, the assignment that wins at boot (the last applied), or null when no file sets it (or a
 * `-key` line cancels it). Follows systemd-sysctl's map (see the top of this file): an explicit assignment
 * beats every glob; otherwise the glob written last that matches the key wins (`pattern` names it). The map's
 * result is keyed by the keys as given.
 */
export function persistedSysctls(files: readonly SysctlConfFile[], keys: readonly string[]): Map<string, SysctlAssignment | null> {
  const options = new Map<string, MapEntry>();
  for (const file of appliedFiles(files)) {
    if (file.text === null) continue;
    const path = `${file.dir}/${file.name}`;
    for (const line of sysctlConfLines(file.text)) {
      if (line.kind === 'bad') continue;
      const key = slashForm(line.key);
      const value = line.kind === 'assign' ? line.value : null;
      const origin = value === null ? null : { key: line.key, value, file: path, line: line.line, via: file.via ?? null };
      const existing = options.get(key);
      if (existing && existing.value === value) {
        // systemd keeps the earlier entry in its place; the value is the same, and this file is the last to set it.
        if (origin) existing.origin = origin;
        continue;
      }
      options.delete(key);
      options.set(key, { value, origin, glob: line.glob });
    }
  }
  const result = new Map<string, SysctlAssignment | null>();
  for (const wanted of keys) {
    const key = slashForm(wanted);
    const own = options.get(key);
    if (own) {
      result.set(wanted, own.origin);
      continue;
    }
    let winner: SysctlAssignment | null = null;
    for (const [pattern, entry] of options) {
      if (!entry.glob || entry.origin === null || !globMatches(pattern, key)) continue;
      winner = { ...entry.origin, key: normalizeSysctlKey(key), pattern: entry.origin.key };
    }
    result.set(wanted, winner);
  }
  return result;
}

/**
 * glob(3) on `/proc/sys/<pattern>`, for one path: `*` and `?` match within one component (never a `/`),
 * `[...]` a class (`!` or `^` negates, ranges), `\` quotes the next character.
 */
function globMatches(pattern: string, key: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]!);
    else if (c === '[') {
      const close = classEnd(pattern, i);
      if (close === -1) {
        source += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negated = body[0] === '!' || body[0] === '^';
      if (negated) body = body.slice(1);
      const members = body.replace(/\\(.)/g, '$1').replace(/[\\\]^[]/g, '\\$&');
      source += negated ? `(?!/)[^${members}]` : `(?!/)[${members}]`;
      i = close;
    } else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`).test(key);
}

/** Where a `[` class ends (a `]` right after `[` or `[!` is a member), or -1 when it does not. */
function classEnd(pattern: string, open: number): number {
  let i = open + 1;
  if (pattern[i] === '!' || pattern[i] === '^') i += 1;
  if (pattern[i] === ']') i += 1;
  for (; i < pattern.length; i += 1) {
    if (pattern[i] === '\\') i += 1;
    else if (pattern[i] === ']') return i;
  }
  return -1;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** `/proc/sys/vm/overcommit_memory` for `vm.overcommit_memory`. */
export function sysctlProcPath(key: string): string {
  return `/proc/sys/${slashForm(key)}`;
}

/** Whether a value read from procfs (`1\n`, tabs between numbers) is the wanted value (whitespace runs equal). */
export function sameSysctlValue(found: string, wanted: string): boolean {
  const canonical = (text: string) => strip(text).split(/[ \t\n\r]+/).join(' ');
  return canonical(found) === canonical(wanted);
}
