// Reads the `*.conf` entries of systemd-sysctl's directories off a node root, for core/sysctl.ts to judge.
// Symlinks are followed inside the root (an absolute target, or `..` past the top, stays in the node), as
// systemd's conf-files code chases them with CHASE_AT_RESOLVE_IN_ROOT. Only regular files are opened: a FIFO
// would block, a device could be read forever.
import { SYSCTL_DIRS, type SysctlConfFile } from '../core/sysctl.js';
import { NodeReadError } from '../errors.js';
import { errorCode, fileTypeOf } from './file-system.js';
import { MAX_FILE_BYTES, type RootedReader } from './node-reader.js';

/**
 * Every `*.conf` entry of each of SYSCTL_DIRS that exists in the root, in that order and by name (byte order)
 * within a dir. A regular file (directly or through symlinks) is read, under the reader's size limit; a symlink
 * to `/dev/null` is a mask (text null); anything else that bears the name (a directory, FIFO, socket, device, a
 * dangling link or a link loop) is listed unread (text null, `unread` says what it is), since systemd lists it
 * too and it hides a same-named file of a later dir. Hidden names (`.x.conf`) are not systemd's and are left out.
 */
export async function readSysctlFiles(reader: RootedReader): Promise<SysctlConfFile[]> {
  const files: SysctlConfFile[] = [];
  for (const dir of SYSCTL_DIRS) {
    const resolvedDir = await reader.resolve(dir);
    if (!resolvedDir || !(await reader.stat(resolvedDir))?.isDirectory()) continue;
    const names = (await reader.list(resolvedDir)).filter((name) => name.endsWith('.conf') && !name.startsWith('.'));
    names.sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
    for (const name of names) files.push(await readEntry(reader, dir, resolvedDir, name));
  }
  return files;
}

async function readEntry(reader: RootedReader, dir: string, resolvedDir: string, name: string): Promise<SysctlConfFile> {
  const own = `${resolvedDir}/${name}`;
  const shown = `${dir}/${name}`;
  const via = await reader.linkTarget(own);
  let target: string | null;
  try {
    target = await reader.resolve(own);
  } catch (error) {
    // systemd up to at least 255 lists the entry without looking at it, so a loop hides a same-named file as a
    // dangling link does (newer conf-files code, which chases each entry, drops a loop instead).
    if (error instanceof NodeReadError && error.message.endsWith('too many levels of symbolic links')) return { dir, name, text: null, via, unread: 'a symlink loop' };
    throw error;
  }
  // An offline copy of a node may have no /dev/null at all: a link that would lead there is a mask all the same
  // (systemd's conf-files code checks the chased path against dev/null before it looks for the device).
  if (target === '/dev/null' || (target === null && via !== null && lexicalTarget(resolvedDir, via) === '/dev/null')) {
    return { dir, name, text: null, via };
  }
  const stat = target === null ? null : await reader.stat(target);
  if (target === null || !stat) return { dir, name, text: null, via, unread: 'a dangling symlink' };
  if (!stat.isFile()) return { dir, name, text: null, via, unread: fileTypeOf(stat.mode) };
  return readConf(reader, dir, name, via, target, shown);
}

/**
 * The text of a regular file, as systemd-sysctl would take it: bytes that are not UTF-8 are read as U+FFFD (no
 * kernel parameter name has them, and systemd does not care), a NUL ends a line as in systemd's read_line (core
 * splits there). Over the reader's size limit, or unreadable, is an error: what such a file sets is unknown.
 */
async function readConf(reader: RootedReader, dir: string, name: string, via: string | null, target: string, shown: string): Promise<SysctlConfFile> {
  let opened;
  try {
    opened = await reader.fs.readRegularFile(reader.host(target), MAX_FILE_BYTES);
  } catch (error) {
    const code = errorCode(error) ?? 'error';
    throw new NodeReadError(`cannot read ${shown} (${code})`, {
      hint:
        code === 'EACCES' || code === 'EPERM'
          ? 'run harden as root (sudo): systemd-sysctl reads this file at boot, and harden needs it to judge the kernel parameters'
          : 'check the disk and the file’s permissions',
    });
  }
  // Swapped for a FIFO or device since it was looked at: not opened, as any other such entry.
  if (!opened.stat.isFile()) return { dir, name, text: null, via, unread: fileTypeOf(opened.stat.mode) };
  if (opened.content === null) {
    throw new NodeReadError(`${shown} is over ${MAX_FILE_BYTES} bytes, more than harden reads of a sysctl file`, {
      hint: 'systemd-sysctl reads it at boot and harden cannot tell what it sets: move it out of the sysctl.d directories or shrink it',
    });
  }
  return { dir, name, text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(opened.content), via };
}

/** Where a link in `linkDir` to `target` leads when nothing on the way is a link, `..` stopping at the root. */
function lexicalTarget(linkDir: string, target: string): string {
  const parts = target.startsWith('/') ? [] : linkDir.split('/').filter(Boolean);
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}
