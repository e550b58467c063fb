// A FileOps that performs every operation on the real disk and journals it, and a model of what a power cut
// keeps. A kill keeps the page cache; a power cut keeps only what was made durable:
// - a file's content once it is fsynced (writeNew fsyncs what it writes);
// - a directory entry (create, rename, link, unlink, mkdir, rmdir) once its directory is fsyncDir'ed;
// - a chmod or chown once the file (or directory) is fsync'ed.
// An inode keeps the attributes it was created with until an fsync makes later ones durable. Replaying the
// first k operations of the journal on a model of the tree gives the tree a power cut after operation k
// leaves (DiskModel.durableTree), which can be checked and written out into a directory (materialise).
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { realFileOps, type FileOps } from '../../src/effects/file-ops.js';
import type { TreeEntry } from './live-node.js';

export type JournalOp =
  | { readonly op: 'mkdir'; readonly path: string; readonly mode: number; readonly uid: number; readonly gid: number }
  | { readonly op: 'writeNew'; readonly path: string; readonly data: Buffer; readonly mode: number; readonly uid: number; readonly gid: number }
  | { readonly op: 'writeInPlace'; readonly path: string; readonly data: Buffer }
  | { readonly op: 'rename' | 'link'; readonly from: string; readonly to: string }
  | { readonly op: 'chmod'; readonly path: string; readonly mode: number }
  | { readonly op: 'chown'; readonly path: string; readonly uid: number; readonly gid: number }
  | { readonly op: 'unlink' | 'rmdir' | 'fsync' | 'fsyncDir'; readonly path: string };

export interface JournalingOps extends FileOps {
  /** Every operation that changed the disk or made something durable, in order, with host paths. */
  readonly journal: JournalOp[];
}

/**
 * Real file ops that journal what they do inside `root` (operations outside it are refused: the model covers
 * the root only). `bootId` is what /proc/sys/kernel/random/boot_id reads as: the boot before the power cut.
 */
export function journalingOps(root: string, options: { bootId?: string } = {}): JournalingOps {
  const base = path.resolve(root);
  const journal: JournalOp[] = [];
  const inside = (p: string) => {
    const resolved = path.resolve(p);
    if (resolved !== base && !resolved.startsWith(`${base}/`)) throw new Error(`journalingOps: ${p} is outside the root ${base}`);
    return resolved;
  };
  const attrs = async (p: string) => {
    const stat = await fs.lstat(p);
    return { mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid };
  };
  return {
    journal,
    readFile: async (p) => (options.bootId !== undefined && p === '/proc/sys/kernel/random/boot_id' ? Buffer.from(`${options.bootId}\n`) : realFileOps.readFile(p)),
    lstat: (p) => realFileOps.lstat(p),
    readlink: (p) => realFileOps.readlink(p),
    readdir: (p) => realFileOps.readdir(p),
    readRegularFile: (p, limit) => realFileOps.readRegularFile(p, limit),
    mkdir: async (p, mode) => {
      // One journal entry per directory created, parents first.
      const missing: string[] = [];
      for (let at = inside(p); ; at = path.dirname(at)) {
        if (await fs.lstat(at).then(() => true, () => false)) break;
        missing.unshift(at);
      }
      await realFileOps.mkdir(p, mode);
      for (const created of missing) journal.push({ op: 'mkdir', path: created, ...(await attrs(created)) });
    },
    writeNew: async (p, data, mode) => {
      await realFileOps.writeNew(inside(p), data, mode);
      journal.push({ op: 'writeNew', path: inside(p), data: Buffer.from(data), ...(await attrs(p)) });
    },
    writeInPlace: async (p, data) => {
      await realFileOps.writeInPlace(inside(p), data);
      journal.push({ op: 'writeInPlace', path: inside(p), data: Buffer.from(data) });
    },
    rename: async (from, to) => {
      await realFileOps.rename(inside(from), inside(to));
      journal.push({ op: 'rename', from: inside(from), to: inside(to) });
    },
    link: async (from, to) => {
      await realFileOps.link(inside(from), inside(to));
      journal.push({ op: 'link', from: inside(from), to: inside(to) });
    },
    chmod: async (p, mode) => {
      await realFileOps.chmod(inside(p), mode);
      journal.push({ op: 'chmod', path: inside(p), mode: mode & 0o7777 });
    },
    chown: async (p, uid, gid) => {
      await realFileOps.chown(inside(p), uid, gid);
      journal.push({ op: 'chown', path: inside(p), uid, gid });
    },
    setOwnerAndMode: async (p, change) => {
      // One descriptor, three effects: journaled as the chown, chmod and fsync they are.
      await realFileOps.setOwnerAndMode(inside(p), change);
      journal.push({ op: 'chown', path: inside(p), uid: change.uid, gid: change.gid });
      journal.push({ op: 'chmod', path: inside(p), mode: change.mode & 0o7777 });
      journal.push({ op: 'fsync', path: inside(p) });
    },
    unlink: async (p) => {
      await realFileOps.unlink(inside(p));
      journal.push({ op: 'unlink', path: inside(p) });
    },
    rmdir: async (p) => {
      await realFileOps.rmdir(inside(p));
      journal.push({ op: 'rmdir', path: inside(p) });
    },
    fsync: async (p) => {
      await realFileOps.fsync(inside(p));
      journal.push({ op: 'fsync', path: inside(p) });
    },
    fsyncDir: async (p) => {
      await realFileOps.fsyncDir(inside(p));
      journal.push({ op: 'fsyncDir', path: inside(p) });
    },
  };
}

interface Attrs {
  content: Buffer | string;
  mode: number;
  uid: number;
  gid: number;
}

interface Inode {
  readonly type: TreeEntry['type'];
  visible: Attrs;
  durable: Attrs;
  /** A directory's entries as processes see them, and as a power cut would leave them. */
  entries?: Map<string, Inode>;
  durableEntries?: Map<string, Inode>;
}

/** A modelled tree entry: what readTree gives, and the bytes (files) to write it out. */
export interface ModelEntry extends TreeEntry {
  readonly bytes: Buffer | null;
}

/** The tree under a root, as processes see it and as a power cut would leave it, driven by a journal. */
export class DiskModel {
  private constructor(
    private readonly base: string,
    private readonly root: Inode,
  ) {}

  /** The tree as it is on disk now, all of it durable (what existed before the run). */
  static async load(root: string): Promise<DiskModel> {
    const base = path.resolve(root);
    const read = async (p: string): Promise<Inode> => {
      const stat = await fs.lstat(p);
      const meta = { mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid };
      if (stat.isDirectory()) {
        const entries = new Map<string, Inode>();
        for (const name of await fs.readdir(p)) entries.set(name, await read(path.join(p, name)));
        return { type: 'dir', visible: { content: '', ...meta }, durable: { content: '', ...meta }, entries, durableEntries: new Map(entries) };
      }
      if (stat.isSymbolicLink()) {
        const target = await fs.readlink(p);
        return { type: 'symlink', visible: { content: target, ...meta }, durable: { content: target, ...meta } };
      }
      if (stat.isFile()) {
        const bytes = await fs.readFile(p);
        return { type: 'file', visible: { content: bytes, ...meta }, durable: { content: bytes, ...meta } };
      }
      return { type: stat.isSocket() ? 'socket' : 'other', visible: { content: '', ...meta }, durable: { content: '', ...meta } };
    };
    return new DiskModel(base, await read(base));
  }

  /** Replays one journal operation. */
  apply(op: JournalOp): void {
    switch (op.op) {
      case 'mkdir': {
        const { dir, name } = this.parent(op.path);
        const meta = { content: '', mode: op.mode, uid: op.uid, gid: op.gid };
        dir.entries!.set(name, { type: 'dir', visible: { ...meta }, durable: { ...meta }, entries: new Map(), durableEntries: new Map() });
        return;
      }
      case 'writeNew': {
        // Created, written and fsynced: content and initial attributes are durable with the inode.
        const { dir, name } = this.parent(op.path);
        const meta = { content: op.data, mode: op.mode, uid: op.uid, gid: op.gid };
        dir.entries!.set(name, { type: 'file', visible: { ...meta }, durable: { ...meta } });
        return;
      }
      case 'writeInPlace': {
        // A kernel parameter's running value: a root's proc/sys file here, written through at once.
        const inode = this.inode(op.path);
        inode.visible = { ...inode.visible, content: op.data };
        inode.durable = { ...inode.durable, content: op.data };
        return;
      }
      case 'rename':
      case 'link': {
        const from = this.parent(op.from);
        const to = this.parent(op.to);
        const inode = from.dir.entries!.get(from.name);
        if (!inode) throw new Error(`DiskModel: ${op.op} of a missing ${op.from}`);
        to.dir.entries!.set(to.name, inode);
        if (op.op === 'rename') from.dir.entries!.delete(from.name);
        return;
      }
      case 'chmod':
        this.inode(op.path).visible.mode = op.mode;
        return;
      case 'chown': {
        const inode = this.inode(op.path);
        inode.visible.uid = op.uid;
        inode.visible.gid = op.gid;
        return;
      }
      case 'unlink':
      case 'rmdir': {
        const { dir, name } = this.parent(op.path);
        dir.entries!.delete(name);
        return;
      }
      case 'fsync':
      case 'fsyncDir': {
        // fsync of a directory is the same call: its entries and its own attributes become durable.
        const inode = this.inode(op.path);
        inode.durable = { ...inode.visible };
        if (inode.entries) inode.durableEntries = new Map(inode.entries);
        return;
      }
    }
  }

  /** The tree (relative paths) a power cut now would leave. */
  durableTree(): Map<string, ModelEntry> {
    return this.walk((inode) => inode.durableEntries, (inode) => inode.durable);
  }

  /** The tree as processes see it now (to check the model against the disk). */
  visibleTree(): Map<string, ModelEntry> {
    return this.walk((inode) => inode.entries, (inode) => inode.visible);
  }

  private walk(entriesOf: (inode: Inode) => Map<string, Inode> | undefined, attrsOf: (inode: Inode) => Attrs): Map<string, ModelEntry> {
    const out = new Map<string, ModelEntry>();
    const visit = (inode: Inode, rel: string) => {
      for (const name of [...(entriesOf(inode)?.keys() ?? [])].sort()) {
        const child = entriesOf(inode)!.get(name)!;
        const childRel = rel ? `${rel}/${name}` : name;
        const attrs = attrsOf(child);
        const bytes = child.type === 'file' ? (attrs.content as Buffer) : null;
        const content = bytes ? createHash('sha256').update(bytes).digest('hex') : child.type === 'symlink' ? (attrs.content as string) : '';
        out.set(childRel, { type: child.type, mode: attrs.mode.toString(8).padStart(4, '0'), uid: attrs.uid, gid: attrs.gid, content, bytes });
        if (child.type === 'dir') visit(child, childRel);
      }
    };
    visit(this.root, '');
    return out;
  }

  private parts(p: string): string[] {
    const rel = path.relative(this.base, path.resolve(p));
    if (rel.startsWith('..')) throw new Error(`DiskModel: ${p} is outside ${this.base}`);
    return rel.split('/').filter(Boolean);
  }

  private inode(p: string): Inode {
    let at = this.root;
    for (const part of this.parts(p)) {
      const next = at.entries?.get(part);
      if (!next) throw new Error(`DiskModel: no ${p}`);
      at = next;
    }
    return at;
  }

  private parent(p: string): { dir: Inode; name: string } {
    const parts = this.parts(p);
    const name = parts.pop()!;
    const dir = this.inode(path.join(this.base, ...parts));
    if (!dir.entries) throw new Error(`DiskModel: the parent of ${p} is not a directory`);
    return { dir, name };
  }
}

/** Writes a modelled tree out under `dir` (which must exist and be empty): bytes, modes and owners. */
export async function materialise(tree: Map<string, ModelEntry>, dir: string): Promise<void> {
  const dirs: [string, ModelEntry][] = [];
  for (const [rel, entry] of tree) {
    const target = path.join(dir, rel);
    if (entry.type === 'dir') {
      await fs.mkdir(target);
      dirs.push([target, entry]);
      await fs.lchown(target, entry.uid, entry.gid);
    } else if (entry.type === 'symlink') {
      await fs.symlink(entry.content, target);
      await fs.lchown(target, entry.uid, entry.gid);
    } else if (entry.type === 'file') {
      await fs.writeFile(target, entry.bytes!);
      await fs.chown(target, entry.uid, entry.gid);
      await fs.chmod(target, Number.parseInt(entry.mode, 8));
    }
  }
  // Directory modes last (a 0500 directory must still be written into first).
  for (const [target, entry] of dirs.reverse()) await fs.chmod(target, Number.parseInt(entry.mode, 8));
}
