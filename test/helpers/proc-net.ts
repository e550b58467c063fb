// /proc/net/tcp and tcp6 text as the Linux kernel prints it (tcp4_seq_show / tcp6_seq_show on a little-endian
// CPU), for node roots that need "what is listening" without real sockets.
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface FakeListener {
  readonly address: string;
  readonly port: number;
}

const HEADER4 = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const HEADER6 = '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

/** One 32-bit word of the address, printed %08X from the CPU's (little-endian) byte order. */
const word = (bytes: readonly number[]) => [...bytes].reverse().map((b) => b.toString(16).padStart(2, '0')).join('').toUpperCase();

function ipv6Bytes(address: string): number[] {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, null];
  // A trailing dotted quad (::ffff:127.0.0.1) is the last two groups.
  const parts = (text: string) =>
    text === ''
      ? []
      : text.split(':').flatMap((g) => {
          if (!g.includes('.')) return [g];
          const [a, b, c, d] = g.split('.').map(Number);
          return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
        });
  const left = parts(head);
  const right = tail === null ? [] : parts(tail);
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.flatMap((g) => [Number.parseInt(g, 16) >> 8, Number.parseInt(g, 16) & 0xff]);
}

function row(index: number, local: string, inode: number, remoteZero: string): string {
  return `${String(index).padStart(4)}: ${local} ${remoteZero} 0A 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;
}

export function procNetTcp(listeners: readonly FakeListener[]): string {
  return HEADER4 + listeners.map((l, i) => row(i, `${word(l.address.split('.').map(Number))}:${l.port.toString(16).toUpperCase().padStart(4, '0')}`, 40000 + i, '00000000:0000')).join('');
}

export function procNetTcp6(listeners: readonly FakeListener[]): string {
  return (
    HEADER6 +
    listeners
      .map((l, i) => {
        const bytes = ipv6Bytes(l.address);
        const local = [0, 4, 8, 12].map((at) => word(bytes.slice(at, at + 4))).join('');
        return row(i, `${local}:${l.port.toString(16).toUpperCase().padStart(4, '0')}`, 50000 + i, '00000000000000000000000000000000:0000');
      })
      .join('')
  );
}

/** Writes <root>/proc/net/tcp and tcp6 listing these listeners (IPv4 addresses in tcp, the rest in tcp6). */
export async function writeProcNet(root: string, listeners: readonly FakeListener[]): Promise<void> {
  const dir = path.join(root, 'proc/net');
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'tcp'), procNetTcp(listeners.filter((l) => !l.address.includes(':'))));
  await fs.writeFile(path.join(dir, 'tcp6'), procNetTcp6(listeners.filter((l) => l.address.includes(':'))));
}
