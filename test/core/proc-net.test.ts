import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalAddress, isLoopback, isWildcard, parseProcNet } from '../../src/core/proc-net.js';

// Rows captured on a Linux 6.x x86_64 host from `cat /proc/net/tcp /proc/net/tcp6` while node:net servers
// listened (uid 0 for most, 65534 for the 192.0.2.2, fd00::2 and fe80:: ones), with an open connection to one
// of them and a TIME_WAIT row; trailing spaces as the kernel pads them.
const TCP = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     ',
  '  12: 0100007F:9381 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3832228 1 000000009ad26f56 100 0 0 10 0                   ',
  '  30: 00000000:89B3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3832229 1 000000007e587dac 100 0 0 10 0                   ',
  '  31: 020200C0:9903 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65534        0 3832319 1 000000009ad26f56 100 0 0 10 0                   ',
  '  46: 0100007F:8749 0100007F:9732 06 00000000:00000000 03:00000AD1 00000000     0        0 0 3 000000004067e63b                                      ',
  ' 103: 0100007F:9381 0100007F:CD2E 01 00000000:00000000 00:00000000 00000000     0        0 3832234 1 00000000aa3d1980 20 0 0 10 -1                   ',
  ' 170: 0100007F:CD2E 0100007F:9381 01 00000000:00000000 00:00000000 00000000     0        0 3832233 2 00000000d13ba328 20 0 0 10 -1                   ',
  '',
].join('\n');

const TCP6 = [
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 00000000000000000000000001000000:B477 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3832230 1 00000000598ae713 100 0 0 10 0',
  '   1: 00000000000000000000000000000000:8071 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3832231 1 0000000027cf9f98 100 0 0 10 0',
  '   2: 0000000000000000FFFF00000100007F:A30F 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3832232 1 000000003122ad61 100 0 0 10 0',
  '   3: 00000000000000000000000001000000:B477 00000000000000000000000001000000:E8A2 01 00000000:00000000 00:00000000 00000000     0        0 3832236 1 0000000031eae548 20 0 0 10 -1',
  '   4: 00000000000000000000000001000000:E8A2 00000000000000000000000001000000:B477 01 00000000:00000000 00:00000000 00000000     0        0 3832235 2 000000006c723791 20 0 0 10 -1',
  '   5: 000000FD000000000000000002000000:80EF 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 65534        0 3832320 1 000000003122ad61 100 0 0 10 0',
  '   6: 000080FE00000000FF00FC00010000FE:801B 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 65534        0 3832322 1 0000000027cf9f98 100 0 0 10 0',
  '',
].join('\n');

/** A LISTEN row of tcp6 with `local` as the local address and port; the rest as captured. */
const row6 = (local: string, slot = 0): string =>
  `   ${slot}: ${local} 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 ${4000 + slot} 1 00000000598ae713 100 0 0 10 0`;

test('tcp: LISTEN rows only, IPv4 words read little-endian, ports as written, uid and inode', () => {
  assert.equal(parseProcNet(TCP, 4, '/proc/net/tcp'), {
    listeners: [
      { family: 4, address: '127.0.0.1', port: 37761, inode: 3832228, uid: 0 },
      { family: 4, address: '0.0.0.0', port: 35251, inode: 3832229, uid: 0 },
      { family: 4, address: '192.0.2.2', port: 39171, inode: 3832319, uid: 65534 },
    ],
    problems: [],
  });
});

test('tcp6: ::1, ::, ::ffff:127.0.0.1, a global and a link-local address, each word byte-swapped', () => {
  assert.equal(parseProcNet(TCP6, 6, '/proc/net/tcp6'), {
    listeners: [
      { family: 6, address: '::1', port: 46199, inode: 3832230, uid: 0 },
      { family: 6, address: '::', port: 32881, inode: 3832231, uid: 0 },
      { family: 6, address: '::ffff:127.0.0.1', port: 41743, inode: 3832232, uid: 0 },
      { family: 6, address: 'fd00::2', port: 33007, inode: 3832320, uid: 65534 },
      { family: 6, address: 'fe80::fc:ff:fe00:1', port: 32795, inode: 3832322, uid: 65534 },
    ],
    problems: [],
  });
});

test('established, TIME_WAIT and other non-LISTEN rows are no listeners', () => {
  const notListening = TCP.split('\n').filter((line) => !/ 0A /.test(line)).join('\n');
  assert.equal(notListening.split('\n').length, 5, 'header, three connection rows and the final empty line');
  assert.equal(parseProcNet(notListening, 4, '/proc/net/tcp'), { listeners: [], problems: [] });
});

test('IPv6 is written per RFC 5952: longest zero run compressed (the first on a tie), lone zero kept, lower case', () => {
  const table = [
    row6('B80D0120000000000000010001000000:0016', 0), // 2001:db8:0:0:1:0:0:1
    row6('B80D0120010000000100010001000100:0016', 1), // 2001:db8:0:1:1:1:1:1
    row6('00000120010000000000000001000000:0016', 2), // 2001:0:0:1:0:0:0:1
    row6('00000100000000000000000000000000:0016', 3), // 1:0:0:0:0:0:0:0
    row6('00000000000000000000000004030201:0016', 4), // ::1.2.3.4, IPv4-compatible: not mixed notation
    row6('0000000000000000FFFF000000000000:0016', 5), // ::ffff:0.0.0.0
  ].join('\n');
  assert.equal(
    parseProcNet(table, 6, 'tcp6').listeners.map((listener) => listener.address),
    ['2001:db8::1:0:0:1', '2001:db8:0:1:1:1:1:1', '2001:0:0:1::1', '1::', '::102:304', '::ffff:0.0.0.0'],
  );
});

test('a big-endian node prints words in network order', () => {
  const v4 = '   0: 7F000001:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 77 1 0000000000000000 100 0 0 10 0';
  assert.equal(parseProcNet(v4, 4, 'tcp', 'BE').listeners, [{ family: 4, address: '127.0.0.1', port: 8080, inode: 77, uid: 101 }]);
  const v6 = row6('FD000000000000000000000000000002:2710');
  assert.equal(parseProcNet(v6, 6, 'tcp6', 'BE').listeners, [{ family: 6, address: 'fd00::2', port: 10000, inode: 4000, uid: 0 }]);
});

test('no header, CRLF, blank lines, lower-case hex and columns a future kernel may add are fine', () => {
  const text = '\r\n  0: 0100007f:1f90 00000000:0000 0a 00000000:00000000 00:00000000 00000000 0 0 12 1 0 100 0 0 10 0 extra more\r\n\n';
  assert.equal(parseProcNet(text, 4, 'tcp'), { listeners: [{ family: 4, address: '127.0.0.1', port: 8080, inode: 12, uid: 0 }], problems: [] });
});

test('malformed lines are problems naming file and line; the good rows around them still count', () => {
  const lines = TCP6.split('\n');
  const text = [
    lines[0],
    lines[1],
    '   9: 00000000000000000000000001000000:B477 00000000000000000000000000000000:0000 0A', // cut short
    '  10: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 12 1', // an IPv4 row in tcp6
    '  11: 0000000000000000000000000100000G:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 12 1',
    'x12: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 12 1',
    '  13: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 LISTEN 00000000:00000000 00:00000000 00000000 0 0 12 1',
    '  14: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 root 0 12 1',
    '  15: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 -1 1',
    '  16: 00000000000000000000000001000000:0050 00000000000000000000000000000000:00 01 00000000:00000000 00:00000000 00000000 0 0 0 1',
    lines[2],
  ].join('\n');
  const parsed = parseProcNet(text, 6, '/proc/net/tcp6');
  assert.equal(parsed.listeners.map((listener) => `[${listener.address}]:${listener.port}`), ['[::1]:46199', '[::]:32881']);
  assert.equal(parsed.problems, [
    '/proc/net/tcp6:3: expected at least 10 columns, found 4: "9: 00000000000000000000000001000000:B477 00000000000000000000000000000000:0000 0A"',
    '/proc/net/tcp6:4: local address "0100007F:1F90" is not 32 hex digits, a colon and a 4-digit hex port',
    '/proc/net/tcp6:5: local address "0000000000000000000000000100000G:0050" is not 32 hex digits, a colon and a 4-digit hex port',
    '/proc/net/tcp6:6: expected a slot number like "0:", found "x12:"',
    '/proc/net/tcp6:7: state "LISTEN" is not two hex digits',
    '/proc/net/tcp6:8: uid "root" is not a number',
    '/proc/net/tcp6:9: inode "-1" is not a number',
    '/proc/net/tcp6:10: remote address "00000000000000000000000000000000:00" is not 32 hex digits, a colon and a 4-digit hex port',
  ]);
});

test('a row the kernel repeats between two reads of the table is one listener; SO_REUSEPORT twins are two', () => {
  const lines = TCP.split('\n');
  const twin = lines[1].replace('3832228', '3832999');
  const parsed = parseProcNet([lines[0], lines[1], lines[1], twin].join('\n'), 4, 'tcp');
  assert.equal(parsed.listeners.map((listener) => listener.inode), [3832228, 3832999]);
});

test('empty text: no listeners, no problems', () => {
  assert.equal(parseProcNet('', 4, 'tcp'), { listeners: [], problems: [] });
});

test('isLoopback: 127.0.0.0/8, ::1 and mapped 127/8 in any spelling; not wildcards, other addresses or names', () => {
  for (const address of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '[::1]', '::ffff:127.0.0.1', '::FFFF:7f00:1']) {
    assert.ok(isLoopback(address), address);
  }
  for (const address of ['0.0.0.0', '::', '128.0.0.1', '10.0.0.1', '::2', '1::', '::127.0.0.1', '::ffff:10.0.0.1', 'localhost', '', '127.0.0.01']) {
    assert.not.ok(isLoopback(address), address);
  }
});

test('isWildcard: 0.0.0.0, :: and ::ffff:0.0.0.0 in any spelling; nothing else', () => {
  for (const address of ['0.0.0.0', '::', '0:0:0:0:0:0:0:0', '[::]', '::0', '::ffff:0.0.0.0']) {
    assert.ok(isWildcard(address), address);
  }
  for (const address of ['127.0.0.1', '::1', '0.0.0.1', '::ffff:0.0.0.1', '*', '', '0.0.0', '0:0:0:0:0:0:0']) {
    assert.not.ok(isWildcard(address), address);
  }
});

test('canonicalAddress writes a flag’s address as parseProcNet does, and refuses what is not one', () => {
  const cases: Array<[string, string | null]> = [
    ['0.0.0.0', '0.0.0.0'],
    ['[::1]', '::1'],
    ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
    ['FE80::FC:FF:FE00:1%eth0', 'fe80::fc:ff:fe00:1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1'],
    ['::ffff:7f00:1', '::ffff:127.0.0.1'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:2:3:4:5:6:7:8:9', null],
    ['1:2:3:4:5:6:7::8', null],
    ['1::2::3', null],
    ['1.2.3.4::', null],
    ['::1.2.3.4:5', null],
    ['12345::', null],
    ['256.0.0.1', null],
    ['010.0.0.1', null],
    ['localhost', null],
  ];
  for (const [text, want] of cases) assert.is(canonicalAddress(text), want, text);
});

test.run();
