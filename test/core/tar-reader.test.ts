import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_MEMBERS, normalise, TarError, TarReader, type KeepRule, type TarMember } from '../../src/core/tar-reader.js';
import { tarBytes } from '../helpers/inspection-report.js';

const keepAll = (): KeepRule => ({ limit: 1024, overflow: 'truncate' });
function read(bytes: Buffer, chunk = bytes.length, keep: (name: string, size: number) => KeepRule | null = keepAll): TarMember[] {
  const reader = new TarReader(keep);
  for (let at = 0; at < bytes.length; at += chunk) reader.push(bytes.subarray(at, at + chunk));
  reader.end();
  return reader.members;
}
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    assert.instance(error, TarError);
    return (error as Error).message;
  }
  throw new Error('not refused');
};

test('members in any chunking read the same: names normalised, directories listed, bodies kept', () => {
  const bytes = tarBytes([
    { name: './inspection-report/', type: '5' },
    { name: './inspection-report//args/kubelet', content: '--read-only-port=0\n' },
    { name: 'inspection-report/sys/snap-list', content: 'x'.repeat(700) },
  ]);
  for (const chunk of [1, 7, 511, 512, 513, 4096, bytes.length]) {
    const members = read(bytes, chunk);
    assert.equal(members.map((m) => [m.name, m.type, m.size, m.data?.toString() ?? null]), [
      ['inspection-report', 'directory', 0, null],
      ['inspection-report/args/kubelet', 'file', 19, '--read-only-port=0\n'],
      ['inspection-report/sys/snap-list', 'file', 700, 'x'.repeat(700)],
    ], `chunk ${chunk}`);
  }
});

test('a GNU long name (as Debian tar writes names over 100 bytes) names the next member', () => {
  const name = `inspection-report/${'d'.repeat(120)}/systemctl.log`;
  const members = read(tarBytes([{ name, content: 'Active: active' }]));
  assert.equal(members.map((m) => [m.name, m.data?.toString()]), [[name, 'Active: active']]);
});

test('a pax header names the next member and gives its size; a long name does not take it', () => {
  const record = (key: string, value: string) => {
    const body = ` ${key}=${value}\n`;
    let length = body.length + 1;
    while (`${length}${body}`.length !== length) length += 1;
    return `${length}${body}`;
  };
  const name = `inspection-report/args/${'k'.repeat(150)}`;
  const bytes = tarBytes([{ name: 'PaxHeader/x', type: 'x', content: record('path', name) }, { name: 'short', content: 'abc' }]);
  assert.equal(read(bytes, 100).map((m) => [m.name, m.data?.toString()]), [[name, 'abc']]);
});

test('a member not asked for is passed over; one kept past its limit is truncated or refused', () => {
  const bytes = tarBytes([{ name: 'a/journal.log', content: 'j'.repeat(5000) }, { name: 'a/systemctl.log', content: 's'.repeat(3000) }]);
  const members = read(bytes, 1000, (name) => (name.endsWith('journal.log') ? null : { limit: 100, overflow: 'truncate' }));
  assert.equal(members.map((m) => [m.name, m.data?.length ?? null, m.truncated]), [['a/journal.log', null, false], ['a/systemctl.log', 100, true]]);
  assert.is(refusal(() => read(bytes, 1000, () => ({ limit: 100, overflow: 'error' }))), 'a/journal.log is 5000 bytes, more than the 100 harden reads of it');
});

test('names that climb out, absolute names, links, devices and a bad checksum are refused', () => {
  assert.is(refusal(() => normalise('a/../../b')), "a/../../b climbs out of the archive with '..'");
  assert.is(refusal(() => normalise('/etc/passwd')), '/etc/passwd is an absolute name: an inspection report holds only names inside it');
  assert.is(refusal(() => read(tarBytes([{ name: 'x', type: '2', linkName: '/' }]))), 'x is a symbolic link to /: harden reads only regular files from an inspection report, and follows no link');
  assert.is(refusal(() => read(tarBytes([{ name: 'x', type: '3' }]))), 'x is a character device: harden reads only regular files and directories from an inspection report');
  const bad = tarBytes([{ name: 'x', content: 'y' }]);
  bad[0] ^= 1;
  assert.is(refusal(() => read(bad)), 'not a tar archive: the header at byte 0 has a bad checksum');
});

test('an archive that stops inside a member is truncated; one without end blocks but whole is read', () => {
  const whole = tarBytes([{ name: 'x', content: 'y'.repeat(600) }], { end: false });
  assert.equal(read(whole).map((m) => m.name), ['x']);
  assert.is(refusal(() => read(whole.subarray(0, 900))), 'the archive is truncated: it stops at byte 900, inside member x');
});

test('after the end-of-archive block nothing is read', () => {
  const bytes = Buffer.concat([tarBytes([{ name: 'x', content: 'y' }]), Buffer.from('garbage that is not a header'.repeat(40))]);
  const reader = new TarReader(keepAll);
  reader.push(bytes);
  assert.is(reader.done, true);
  assert.equal(reader.members.map((m) => m.name), ['x']);
});

test(`more than ${MAX_MEMBERS} members are refused`, () => {
  const reader = new TarReader(() => null);
  const one = tarBytes([{ name: 'e' }], { end: false });
  const many = Buffer.concat(Array.from({ length: 1000 }, () => one));
  assert.is(refusal(() => { for (let i = 0; i <= MAX_MEMBERS / 1000; i += 1) reader.push(many); }), `the archive has more than ${MAX_MEMBERS} members`);
});

test.run();
