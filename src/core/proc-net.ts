// What is listening, from the kernel's /proc/net/tcp and /proc/net/tcp6 tables, and the address facts
// `harden ports` judges a listener by (loopback only, or every address).
//
// The kernel prints each row as `sl: local remote st tx:rx tr:when retrnsmt uid timeout inode …`. The local
// address is the socket's in-memory address printed with %08X per 32-bit word: IPv4 as one word, IPv6 as four
// (s6_addr32[0..3]), so on a little-endian host the bytes of every word come out reversed (127.0.0.1 is
// 0100007F). The port is converted to host order first, so it reads as written (:1F90 is 8080).

export type AddressFamily = 4 | 6;

/** How the node's CPU stores a 32-bit word; every architecture MicroK8s ships for but s390x is little-endian. */
export type ByteOrder = 'LE' | 'BE';

export interface Listener {
  readonly family: AddressFamily;
  /** As people write it: 0.0.0.0, 127.0.0.1, ::, ::1, ::ffff:127.0.0.1, fd00::2 (RFC 5952). */
  readonly address: string;
  readonly port: number;
  /** The socket's inode: /proc/<pid>/fd/* of the owning process links to socket:[inode]. */
  readonly inode: number;
  readonly uid: number;
}

export interface ProcNetListeners {
  readonly listeners: Listener[];
  /** One line each, `<file>:<line>: what is wrong`. */
  readonly problems: string[];
}

const TCP_LISTEN = '0A';
const MIN_COLUMNS = 10; // sl … inode; later columns vary by kernel and state.

/** LISTEN rows of one /proc/net/tcp (family 4) or tcp6 (family 6) table; `file` names it in problems. */
export function parseProcNet(text: string, family: AddressFamily, file: string, byteOrder: ByteOrder = 'LE'): ProcNetListeners {
  const listeners: Listener[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, index) => {
    const columns = raw.trim().split(/\s+/).filter(Boolean);
    if (columns.length === 0 || columns[0] === 'sl') return;
    const row = parseRow(columns, family, byteOrder);
    if (typeof row === 'string') {
      problems.push(`${file}:${index + 1}: ${row}`);
      return;
    }
    // A table read in several chunks while sockets come and go can repeat a row; one socket is one listener.
    const key = `${row.inode} ${row.address} ${row.port}`;
    if (row.state !== TCP_LISTEN || seen.has(key)) return;
    seen.add(key);
    listeners.push({ family, address: row.address, port: row.port, inode: row.inode, uid: row.uid });
  });
  return { listeners, problems };
}

interface Row {
  readonly state: string;
  readonly address: string;
  readonly port: number;
  readonly uid: number;
  readonly inode: number;
}

/** A row, or why it is not one. */
function parseRow(columns: string[], family: AddressFamily, byteOrder: ByteOrder): Row | string {
  if (columns.length < MIN_COLUMNS) return `expected at least ${MIN_COLUMNS} columns, found ${columns.length}: ${JSON.stringify(columns.join(' '))}`;
  const [slot, local, remote, state, , , , uid, , inode] = columns;
  if (!/^\d+:$/.test(slot)) return `expected a slot number like "0:", found ${JSON.stringify(slot)}`;
  const digits = family === 4 ? 8 : 32;
  const endpoint = new RegExp(`^([0-9A-Fa-f]{${digits}}):([0-9A-Fa-f]{4})$`);
  const localMatch = endpoint.exec(local);
  if (!localMatch) return `local address ${JSON.stringify(local)} is not ${digits} hex digits, a colon and a 4-digit hex port`;
  if (!endpoint.test(remote)) return `remote address ${JSON.stringify(remote)} is not ${digits} hex digits, a colon and a 4-digit hex port`;
  if (!/^[0-9A-Fa-f]{2}$/.test(state)) return `state ${JSON.stringify(state)} is not two hex digits`;
  if (!/^\d+$/.test(uid) || !Number.isSafeInteger(Number(uid))) return `uid ${JSON.stringify(uid)} is not a number`;
  if (!/^\d+$/.test(inode) || !Number.isSafeInteger(Number(inode))) return `inode ${JSON.stringify(inode)} is not a number`;
  return {
    state: state.toUpperCase(),
    address: formatAddress(kernelBytes(localMatch[1], byteOrder)),
    port: parseInt(localMatch[2], 16),
    uid: Number(uid),
    inode: Number(inode),
  };
}

/** The address bytes in network order, from the kernel's %08X words. */
function kernelBytes(hex: string, byteOrder: ByteOrder): number[] {
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    const wordBytes = [0, 2, 4, 6].map((at) => parseInt(hex.slice(word + at, word + at + 2), 16));
    for (const byte of byteOrder === 'LE' ? wordBytes.reverse() : wordBytes) bytes.push(byte);
  }
  return bytes;
}

/** An address written the one way RFC 5952 (IPv6) and dotted-quad (IPv4) allow. */
function formatAddress(bytes: readonly number[]): string {
  if (bytes.length === 4) return bytes.join('.');
  if (isMappedIPv4(bytes)) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => bytes[2 * i] * 256 + bytes[2 * i + 1]);
  // The longest run of two or more zero groups becomes "::"; the first such run on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; start += 1) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length += 1;
    if (length > bestLength) [bestStart, bestLength] = [start, length];
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** ::ffff:a.b.c.d, the IPv4 address a dual-stack socket sees an IPv4 peer as. */
function isMappedIPv4(bytes: readonly number[]): boolean {
  return bytes.length === 16 && bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * An address as parseProcNet writes it, from any way a flag may write it: `[::1]`, `0:0:0:0:0:0:0:1`,
 * `fe80::1%eth0` (the zone is dropped), `::FFFF:127.0.0.1`. Null for what is not an IP address (a host name).
 */
export function canonicalAddress(text: string): string | null {
  const bytes = parseAddress(text);
  return bytes === null ? null : formatAddress(bytes);
}

/** 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104: reachable from this node only. */
export function isLoopback(address: string): boolean {
  const bytes = parseAddress(address);
  if (bytes === null) return false;
  if (bytes.length === 4) return bytes[0] === 127;
  if (isMappedIPv4(bytes)) return bytes[12] === 127;
  return bytes.slice(0, 15).every((byte) => byte === 0) && bytes[15] === 1;
}

/** 0.0.0.0, :: and ::ffff:0.0.0.0: every address of the node (for ::, every IPv4 one too unless v6only). */
export function isWildcard(address: string): boolean {
  const bytes = parseAddress(address);
  if (bytes === null) return false;
  const tail = isMappedIPv4(bytes) ? bytes.slice(12) : bytes;
  return tail.every((byte) => byte === 0);
}

/** The bytes of an IPv4 (4) or IPv6 (16) address, or null. */
function parseAddress(text: string): number[] | null {
  let address = text.trim();
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  if (!address.includes(':')) return parseIPv4(address);
  address = address.replace(/%[^%]+$/, '');
  const halves = address.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 1 || halves[1] === '' ? [] : halves[1].split(':');
  const bytes: number[][] = [];
  const parts = [...head, ...tail];
  for (const [i, part] of parts.entries()) {
    // A dotted IPv4 tail may only close the address: `::ffff:1.2.3.4`, never `1.2.3.4::`.
    const closes = i === parts.length - 1 && (halves.length === 1 || tail.length > 0);
    if (closes && part.includes('.')) {
      const v4 = parseIPv4(part);
      if (v4 === null) return null;
      bytes.push(v4);
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(part)) {
      const group = parseInt(part, 16);
      bytes.push([group >> 8, group & 0xff]);
    } else {
      return null;
    }
    if (i === head.length - 1 && halves.length === 2) bytes.push([]); // where "::" stands
  }
  if (halves.length === 2 && head.length === 0) bytes.unshift([]);
  const written = bytes.reduce((sum, chunk) => sum + chunk.length, 0);
  if (halves.length === 1) return written === 16 ? bytes.flat() : null;
  if (written > 14) return null; // "::" stands for at least one group
  const gap = bytes.findIndex((chunk) => chunk.length === 0);
  bytes[gap] = new Array<number>(16 - written).fill(0);
  return bytes.flat();
}

/** Dotted quad, no leading zeros (Go's net.ParseIP, which the Kubernetes daemons use, refuses them). */
function parseIPv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255)) return null;
  return parts.map(Number);
}
