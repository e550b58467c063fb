// A small tar reader for `microk8s inspect` reports, fed the decompressed bytes chunk by chunk: ustar and GNU
// headers (with GNU long names and pax `path`), regular files and directories only. Nothing is written
// anywhere; a member is kept (up to a cap) only when the caller asks for it by name, every other member's
// body is passed over as it streams by. Links, devices and names that climb out of the archive are refused.

const BLOCK = 512;

/** How much of a member to keep: `error` refuses a larger one, `truncate` keeps its first `limit` bytes. */
export interface KeepRule {
  readonly limit: number;
  readonly overflow: 'error' | 'truncate';
}

export interface TarMember {
  /** Normalised: no `./`, no empty or `.` parts, no trailing slash. */
  readonly name: string;
  readonly type: 'file' | 'directory';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** The bytes kept (the first `limit` when truncated); null for a member not asked for, or a directory. */
  readonly data: Buffer | null;
  readonly truncated: boolean;
}

/** A refusal, one line naming the member (or the byte where the archive stops making sense). */
export class TarError extends Error {}

/** At most this many members: an archive of millions of empty members is refused rather than listed. */
export const MAX_MEMBERS = 100_000;
/** A GNU long name or a pax header larger than this is not a name. */
const MAX_META = 64 * 1024;

interface Collecting {
  readonly kind: 'member' | 'long-name' | 'pax';
  readonly member: Omit<TarMember, 'data' | 'truncated'> | null;
  readonly parts: Buffer[];
  kept: number;
  readonly keep: number;
  remaining: number;
  readonly padding: number;
}

export class TarReader {
  readonly members: TarMember[] = [];
  private carry: Buffer | null = null;
  private skip = 0;
  private collecting: Collecting | null = null;
  private longName: string | null = null;
  private paxPath: string | null = null;
  private paxSize: number | null = null;
  private ended = false;
  private offset = 0;

  /** `keep(name, size)`: how much of a regular member to keep, or null to pass over its body (it may throw a TarError). */
  constructor(private readonly keep: (name: string, size: number) => KeepRule | null) {}

  /** Whether the end-of-archive block was read: nothing after it is a member. */
  get done(): boolean {
    return this.ended;
  }

  push(chunk: Buffer): void {
    const data = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = null;
    let at = 0;
    while (at < data.length && !this.ended) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length - at);
        this.skip -= n;
        at += n;
        this.offset += n;
        continue;
      }
      if (this.collecting) {
        const c = this.collecting;
        const n = Math.min(c.remaining, data.length - at);
        const room = Math.max(0, Math.min(n, c.keep - c.kept));
        if (room > 0) c.parts.push(Buffer.from(data.subarray(at, at + room)));
        c.kept += room;
        c.remaining -= n;
        at += n;
        this.offset += n;
        if (c.remaining === 0) {
          this.collecting = null;
          this.skip = c.padding;
          this.finish(c);
        }
        continue;
      }
      if (data.length - at < BLOCK) break;
      this.header(data.subarray(at, at + BLOCK));
      at += BLOCK;
      this.offset += BLOCK;
    }
    if (at < data.length && !this.ended) this.carry = Buffer.from(data.subarray(at));
  }

  /** The end of the bytes: refuses an archive that stops inside a header or a member. */
  end(): void {
    if (this.ended) return;
    if (this.collecting || this.skip > 0 || (this.carry && this.carry.length > 0)) {
      throw new TarError(`the archive is truncated: it stops at byte ${this.offset + (this.carry?.length ?? 0)}, inside ${this.collecting?.member ? `member ${this.collecting.member.name}` : 'a member'}`);
    }
    // No end-of-archive blocks, but every member complete: read as GNU tar reads it (it warns, and goes on).
  }

  private header(block: Buffer): void {
    if (block.every((byte) => byte === 0)) {
      this.ended = true;
      return;
    }
    const stored = octal(block, 148, 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 32 : block[i];
    if (stored === null || stored !== sum) throw new TarError(`not a tar archive: the header at byte ${this.offset} has a bad checksum`);
    const type = String.fromCharCode(block[156] || 48);
    const meta = type === 'L' || type === 'x' || type === 'K' || type === 'g';
    // A pax `size` is the next member's, never a long name's or another pax header's.
    const rawSize = meta ? size(block) : (this.paxSize ?? size(block));
    if (rawSize === null) throw new TarError(`the header at byte ${this.offset} has no readable size`);
    const padding = (BLOCK - (rawSize % BLOCK)) % BLOCK;
    const ustar = block.toString('latin1', 257, 262) === 'ustar';
    const prefix = ustar && block.toString('latin1', 257, 263) === 'ustar\0' ? cString(block, 345, 155) : '';
    const headerName = prefix ? `${prefix}/${cString(block, 0, 100)}` : cString(block, 0, 100);

    if (type === 'L' || type === 'x' || type === 'K') {
      if (rawSize > MAX_META) throw new TarError(`a ${type === 'x' ? 'pax' : 'long name'} header at byte ${this.offset} is ${rawSize} bytes, more than ${MAX_META}`);
      this.collect({ kind: type === 'x' ? 'pax' : 'long-name', member: null, parts: [], kept: 0, keep: type === 'K' ? 0 : rawSize, remaining: rawSize, padding });
      return;
    }
    if (type === 'g') {
      this.skip = rawSize + padding;
      return;
    }
    const name = normalise(this.longName ?? this.paxPath ?? headerName);
    this.longName = null;
    this.paxPath = null;
    this.paxSize = null;
    if (type === '1' || type === '2') {
      const target = cString(block, 157, 100);
      throw new TarError(`${name} is a ${type === '1' ? 'hard link' : 'symbolic link'} to ${target}: harden reads only regular files from an inspection report, and follows no link`);
    }
    if (type !== '0' && type !== '7' && type !== '5') {
      throw new TarError(`${name} is ${MEMBER_TYPES[type] ?? `a member of type '${type}'`}: harden reads only regular files and directories from an inspection report`);
    }
    if (this.members.length >= MAX_MEMBERS) throw new TarError(`the archive has more than ${MAX_MEMBERS} members`);
    const member = { name, type: type === '5' ? ('directory' as const) : ('file' as const), mode: octal(block, 100, 8) ?? 0, uid: octal(block, 108, 8) ?? 0, gid: octal(block, 116, 8) ?? 0, size: rawSize };
    const rule = member.type === 'file' ? this.keep(name, rawSize) : null;
    if (rule && rawSize > rule.limit && rule.overflow === 'error') {
      throw new TarError(`${name} is ${rawSize} bytes, more than the ${rule.limit} harden reads of it`);
    }
    if (!rule) {
      this.members.push({ ...member, data: null, truncated: false });
      this.skip = rawSize + padding;
      return;
    }
    this.collect({ kind: 'member', member, parts: [], kept: 0, keep: rule.limit, remaining: rawSize, padding });
  }

  private collect(c: Collecting): void {
    if (c.remaining === 0) {
      this.skip = c.padding;
      this.finish(c);
      return;
    }
    this.collecting = c;
  }

  private finish(c: Collecting): void {
    const data = Buffer.concat(c.parts, c.kept);
    if (c.kind === 'long-name') {
      if (c.keep > 0) this.longName = cString(data, 0, data.length);
      return;
    }
    if (c.kind === 'pax') {
      const { path, size: paxSize } = paxRecords(data);
      if (path !== null) this.paxPath = path;
      if (paxSize !== null) this.paxSize = paxSize;
      return;
    }
    this.members.push({ ...c.member!, data, truncated: c.kept < c.member!.size });
  }
}

const MEMBER_TYPES: Readonly<Record<string, string>> = {
  '3': 'a character device',
  '4': 'a block device',
  '6': 'a FIFO',
  S: 'a sparse file',
  V: 'a volume label',
  M: 'a multi-volume continuation',
};

/** `./a//b/` → `a/b`; refuses an absolute name or one with `..`. */
export function normalise(raw: string): string {
  if (raw.startsWith('/')) throw new TarError(`${raw} is an absolute name: an inspection report holds only names inside it`);
  const parts = raw.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw new TarError(`${raw} climbs out of the archive with '..'`);
  if (parts.length === 0) throw new TarError(`a member has an empty name`);
  return parts.join('/');
}

function cString(block: Buffer, start: number, length: number): string {
  const end = block.indexOf(0, start);
  return block.toString('utf8', start, end === -1 || end > start + length ? start + length : end);
}

function octal(block: Buffer, start: number, length: number): number | null {
  const text = block.toString('latin1', start, start + length).replace(/[\0 ]+$/, '').replace(/^[ ]+/, '');
  if (!/^[0-7]+$/.test(text)) return text === '' ? 0 : null;
  return Number.parseInt(text, 8);
}

/** The size field: octal, or GNU's base-256 for members of 8 GiB and more. */
function size(block: Buffer): number | null {
  if ((block[124] & 0x80) === 0) return octal(block, 124, 12);
  let value = 0;
  for (let i = 125; i < 136; i += 1) value = value * 256 + block[i];
  return (block[124] & 0x40) !== 0 || !Number.isSafeInteger(value) ? null : value;
}

/** The pax records harden uses: `path` and `size`. */
function paxRecords(data: Buffer): { path: string | null; size: number | null } {
  let path: string | null = null;
  let sizeValue: number | null = null;
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number.parseInt(data.toString('latin1', at, space), 10);
    if (!Number.isSafeInteger(length) || length <= 0 || at + length > data.length) throw new TarError('a pax header has a malformed record');
    const record = data.toString('utf8', space + 1, at + length - 1);
    const eq = record.indexOf('=');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === 'path') path = value;
    if (key === 'size') {
      if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new TarError('a pax header has a malformed size');
      sizeValue = Number(value);
    }
    at += length;
  }
  return { path, size: sizeValue };
}
