// Reads the `*.conf` entries of systemd-sysctl's directories off a node root, for core/sysctl.ts to judge.
// Symlinks are followed inside the root (an absolute target, or `..` past the top, stays in the node), as
// systemd's conf-files code chases them with CHASE_AT_RESOLVE_IN_ROOT. Only regular files are opened: a FIFO
// would block, a device could be read forever.
import { SYSCTL_DIRS, type SysctlConfFile } from '../core/sysctl.js';
import { NodeReadError } from '../errors.js';
import { fileTypeOf } from './file-system.js';
import type { RootedReader } from './node-reader.js';

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
  return { dir, name, text: await reader.readArgsFile(target, shown, stat), via };
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
