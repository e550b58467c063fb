import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  appliedFiles,
  normalizeSysctlKey,
  parseSysctlConf,
  persistedSysctls,
  sameSysctlValue,
  SYSCTL_DIRS,
  sysctlConfLines,
  sysctlProcPath,
  type SysctlConfFile,
} from '../../src/core/sysctl.js';

const file = (dir: string, name: string, text: string | null, via: string | null = null): SysctlConfFile => ({ dir, name, text, via });
const ETC = '/etc/sysctl.d';
const RUN = '/run/sysctl.d';
const LOCAL = '/usr/local/lib/sysctl.d';
const USR = '/usr/lib/sysctl.d';

/** key -> `value@file:line` (or null), for exact comparison. */
function persisted(files: readonly SysctlConfFile[], keys: readonly string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [key, a] of persistedSysctls(files, keys)) out[key] = a === null ? null : `${a.value}@${a.file}:${a.line}${a.pattern ? ` via ${a.pattern}` : ''}`;
  return out;
}

test('the directories are systemd’s, highest precedence first', () => {
  assert.equal([...SYSCTL_DIRS], ['/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d']);
});

test('parse: both spacings, comments with # and ;, blank lines, a leading - dropped, values stripped, line numbers counted from 1', () => {
  const text = [
    '# comment',
    '; another = comment',
    '',
    '   ',
    'kernel.panic = 10',
    'vm.overcommit_memory=1',
    '  -kernel.panic_on_oops =   1  ',
    'net.ipv4.tcp_rmem = 4096\t87380   6291456',
    'kernel.hostname =',
    '\tvm.panic_on_oom\t=\t0\t',
  ].join('\n');
  assert.equal(parseSysctlConf(text), [
    { key: 'kernel.panic', value: '10', line: 5, glob: false },
    { key: 'vm.overcommit_memory', value: '1', line: 6, glob: false },
    { key: 'kernel.panic_on_oops', value: '1', line: 7, glob: false },
    { key: 'net.ipv4.tcp_rmem', value: '4096\t87380   6291456', line: 8, glob: false },
    { key: 'kernel.hostname', value: '', line: 9, glob: false },
    { key: 'vm.panic_on_oom', value: '0', line: 10, glob: false },
  ]);
});

test('parse: a value keeps its own = signs; the first = splits; CRLF, lone CR, LF-CR and NUL end lines as systemd’s read_line does', () => {
  assert.equal(parseSysctlConf('kernel.core_pattern = |/bin/x a=b\r\nvm.swappiness=1\rvm.a=2\n\rvm.b=3'), [
    { key: 'kernel.core_pattern', value: '|/bin/x a=b', line: 1, glob: false },
    { key: 'vm.swappiness', value: '1', line: 2, glob: false },
    { key: 'vm.a', value: '2', line: 3, glob: false },
    { key: 'vm.b', value: '3', line: 4, glob: false },
  ]);
  // NUL ends a line too, alone or after CR, LF, CRLF or LFCR.
  assert.equal(parseSysctlConf('a.a=1\0a.b=2\n\0a.c=3\r\n\0a.d=4'), [
    { key: 'a.a', value: '1', line: 1, glob: false },
    { key: 'a.b', value: '2', line: 2, glob: false },
    { key: 'a.c', value: '3', line: 3, glob: false },
    { key: 'a.d', value: '4', line: 4, glob: false },
  ]);
});

test('lines that assign nothing are reported bad; -key alone is an exclusion; globs are marked', () => {
  assert.equal(sysctlConfLines('kernel.panic\n-net.ipv4.conf.all.rp_filter\nnet.ipv4.conf.*.rp_filter = 2\n= 5\n'), [
    { kind: 'bad', text: 'kernel.panic', line: 1 },
    { kind: 'exclude', key: 'net.ipv4.conf.all.rp_filter', line: 2, glob: false },
    { kind: 'assign', key: 'net.ipv4.conf.*.rp_filter', value: '2', line: 3, glob: true },
    { kind: 'bad', text: '= 5', line: 4 },
  ]);
  assert.equal(parseSysctlConf('kernel.panic\n-vm.x\n'), []);
});

test('keys: slash and dot forms are one key; the first separator decides (sysctl.d(5)’s enp3s0.200 example)', () => {
  assert.is(normalizeSysctlKey('kernel/panic'), 'kernel.panic');
  assert.is(normalizeSysctlKey('kernel.panic'), 'kernel.panic');
  assert.is(normalizeSysctlKey('net/ipv4/conf/enp3s0.200/forwarding'), 'net.ipv4.conf.enp3s0/200.forwarding');
  assert.is(normalizeSysctlKey('net.ipv4.conf.enp3s0/200.forwarding'), 'net.ipv4.conf.enp3s0/200.forwarding');
  assert.is(normalizeSysctlKey('/kernel//panic/'), 'kernel.panic');
  assert.is(sysctlProcPath('vm.overcommit_memory'), '/proc/sys/vm/overcommit_memory');
  assert.is(sysctlProcPath('net.ipv4.conf.enp3s0/200.forwarding'), '/proc/sys/net/ipv4/conf/enp3s0.200/forwarding');
  assert.is(sysctlProcPath('kernel/keys/root_maxkeys'), '/proc/sys/kernel/keys/root_maxkeys');
});

test('a key written with slashes in one file and dots in a later one is the same key: the later wins', () => {
  const files = [file(ETC, '10-a.conf', 'kernel/panic = 5\n'), file(ETC, '20-b.conf', 'kernel.panic = 10\n')];
  assert.equal(persisted(files, ['kernel.panic', 'kernel/panic']), {
    'kernel.panic': '10@/etc/sysctl.d/20-b.conf:1',
    'kernel/panic': '10@/etc/sysctl.d/20-b.conf:1',
  });
});

test('precedence: a same-named file in /etc hides the one in /usr/lib, whatever order they are given in', () => {
  const files = [file(USR, '50-default.conf', 'kernel.panic = 0\nvm.panic_on_oom = 1\n'), file(ETC, '50-default.conf', 'kernel.panic = 10\n')];
  assert.equal(persisted(files, ['kernel.panic', 'vm.panic_on_oom']), { 'kernel.panic': '10@/etc/sysctl.d/50-default.conf:1', 'vm.panic_on_oom': null });
  assert.equal(
    appliedFiles(files).map((f) => `${f.dir}/${f.name}`),
    ['/etc/sysctl.d/50-default.conf'],
  );
  // /run hides /usr/local/lib, which hides /usr/lib.
  const three = [file(USR, 'x.conf', 'a.b = 3\n'), file(LOCAL, 'x.conf', 'a.b = 2\n'), file(RUN, 'x.conf', 'a.b = 1\n')];
  assert.equal(persisted(three, ['a.b']), { 'a.b': '1@/run/sysctl.d/x.conf:1' });
  assert.equal(persisted(three.slice(0, 2), ['a.b']), { 'a.b': '2@/usr/local/lib/sysctl.d/x.conf:1' });
});

test('order: files apply by name across dirs, the last one wins, in byte order (uppercase before lowercase, 10 before 9)', () => {
  const files = [
    file(ETC, '10-early.conf', 'kernel.panic = 1\n'),
    file(USR, '99-late.conf', 'kernel.panic = 99\n'),
    file(ETC, '50-mid.conf', 'kernel.panic = 50\nvm.a = upper-last\n'),
    file(USR, 'Z.conf', 'vm.a = Z\n'),
    file(USR, 'a.conf', 'vm.a = a\n'),
    file(ETC, '9.conf', 'vm.b = nine\n'),
    file(ETC, '10.conf', 'vm.b = ten\n'),
  ];
  assert.equal(appliedFiles(files).map((f) => f.name), ['10-early.conf', '10.conf', '50-mid.conf', '9.conf', '99-late.conf', 'Z.conf', 'a.conf']);
  assert.equal(persisted(files, ['kernel.panic', 'vm.a', 'vm.b']), {
    'kernel.panic': '99@/usr/lib/sysctl.d/99-late.conf:1',
    'vm.a': 'a@/usr/lib/sysctl.d/a.conf:1',
    'vm.b': 'nine@/etc/sysctl.d/9.conf:1',
  });
});

test('within one file the last line wins; a key set twice to one value names the last file that set it', () => {
  assert.equal(persisted([file(ETC, 'a.conf', 'kernel.panic = 1\nkernel.panic = 2\n')], ['kernel.panic']), { 'kernel.panic': '2@/etc/sysctl.d/a.conf:2' });
  const same = [file(USR, '50-a.conf', 'kernel.panic = 10\n'), file(ETC, '99-harden.conf', '\nkernel.panic = 10\n')];
  assert.equal(persisted(same, ['kernel.panic']), { 'kernel.panic': '10@/etc/sysctl.d/99-harden.conf:2' });
});

test('masked: a /dev/null entry in /etc hides the /usr/lib file of its name and sets nothing; an empty file does the same', () => {
  const lib = file(USR, '50-kubelet.conf', 'vm.overcommit_memory = 1\n');
  assert.equal(persisted([lib, file(ETC, '50-kubelet.conf', null, '/dev/null')], ['vm.overcommit_memory']), { 'vm.overcommit_memory': null });
  assert.equal(persisted([lib, file(ETC, '50-kubelet.conf', '')], ['vm.overcommit_memory']), { 'vm.overcommit_memory': null });
  assert.equal(persisted([lib], ['vm.overcommit_memory']), { 'vm.overcommit_memory': '1@/usr/lib/sysctl.d/50-kubelet.conf:1' });
  // A mask hides only its own name: an earlier-sorting file still applies.
  assert.equal(persisted([file(USR, '10-x.conf', 'vm.overcommit_memory = 2\n'), lib, file(ETC, '50-kubelet.conf', null)], ['vm.overcommit_memory']), {
    'vm.overcommit_memory': '2@/usr/lib/sysctl.d/10-x.conf:1',
  });
});

test('a - prefix still assigns (only its failure is ignored)', () => {
  assert.equal(persisted([file(ETC, 'a.conf', '-kernel.panic = 10\n')], ['kernel.panic']), { 'kernel.panic': '10@/etc/sysctl.d/a.conf:1' });
});

test('99-sysctl.conf (Debian’s link to /etc/sysctl.conf) sorts after 99-kubelet.conf and before 99-zz: its value wins over the first only', () => {
  const sysctlConf = file(ETC, '99-sysctl.conf', 'vm.overcommit_memory = 0\n', '../sysctl.conf');
  const kubelet = file(ETC, '99-kubelet.conf', 'vm.overcommit_memory = 1\n');
  const got = persistedSysctls([sysctlConf, kubelet], ['vm.overcommit_memory']).get('vm.overcommit_memory');
  assert.equal(got, { key: 'vm.overcommit_memory', value: '0', file: '/etc/sysctl.d/99-sysctl.conf', line: 1, via: '../sysctl.conf' });
  assert.equal(persisted([sysctlConf, file(ETC, '99-zz-harden.conf', 'vm.overcommit_memory = 1\n')], ['vm.overcommit_memory']), {
    'vm.overcommit_memory': '1@/etc/sysctl.d/99-zz-harden.conf:1',
  });
});

test('names not ending .conf, hidden names and dirs that are not systemd’s are not applied', () => {
  const files = [
    file(ETC, '99-x.conf.dpkg-old', 'vm.a = 1\n'),
    file(ETC, '.hidden.conf', 'vm.a = 2\n'),
    file('/etc/sysctl.conf.d', 'x.conf', 'vm.a = 3\n'),
    file('/lib/sysctl.d', 'y.conf', 'vm.a = 4\n'),
  ];
  assert.equal(appliedFiles(files), []);
  assert.equal(persisted(files, ['vm.a']), { 'vm.a': null });
});

test('a -key line cancels an earlier assignment of the key; a later assignment sets it again', () => {
  assert.equal(persisted([file(USR, '50-a.conf', 'kernel.panic = 10\n'), file(ETC, '60-b.conf', '-kernel.panic\n')], ['kernel.panic']), { 'kernel.panic': null });
  assert.equal(
    persisted([file(USR, '50-a.conf', 'kernel.panic = 10\n'), file(ETC, '60-b.conf', '-kernel.panic\n'), file(ETC, '70-c.conf', 'kernel.panic = 7\n')], ['kernel.panic']),
    { 'kernel.panic': '7@/etc/sysctl.d/70-c.conf:1' },
  );
});

test('globs: a key set only by a glob gets its value; an explicit key beats every glob, even one in a later file', () => {
  const files = [
    file(ETC, '10-explicit.conf', 'net.ipv4.conf.default.rp_filter = 1\n'),
    file(USR, '50-glob.conf', 'net.ipv4.conf.*.rp_filter = 2\n'),
  ];
  assert.equal(persisted(files, ['net.ipv4.conf.default.rp_filter', 'net.ipv4.conf.eth0.rp_filter', 'net.ipv4.conf.eth0/100.rp_filter', 'net.ipv4.conf.eth0.forwarding']), {
    'net.ipv4.conf.default.rp_filter': '1@/etc/sysctl.d/10-explicit.conf:1',
    'net.ipv4.conf.eth0.rp_filter': '2@/usr/lib/sysctl.d/50-glob.conf:1 via net.ipv4.conf.*.rp_filter',
    // `*` matches within one /proc/sys component, and `eth0.100` is one (written eth0/100 in dotted form).
    'net.ipv4.conf.eth0/100.rp_filter': '2@/usr/lib/sysctl.d/50-glob.conf:1 via net.ipv4.conf.*.rp_filter',
    'net.ipv4.conf.eth0.forwarding': null,
  });
  const got = persistedSysctls(files, ['net.ipv4.conf.eth0.rp_filter']).get('net.ipv4.conf.eth0.rp_filter');
  assert.equal(got, { key: 'net.ipv4.conf.eth0.rp_filter', value: '2', file: '/usr/lib/sysctl.d/50-glob.conf', line: 1, via: null, pattern: 'net.ipv4.conf.*.rp_filter' });
});

test('globs: * never spans a separator; ? and [] classes match one character', () => {
  const files = [file(ETC, 'a.conf', 'kernel.* = 1\nvm.panic_on_oo? = 2\nvm.overcommit_[a-m]emory = 3\nvm.x[!a]y = 4\n')];
  assert.equal(persisted(files, ['kernel.keys.root_maxkeys', 'kernel.panic', 'vm.panic_on_oom', 'vm.overcommit_memory', 'vm.overcommit_xemory', 'vm.xby', 'vm.xay']), {
    'kernel.keys.root_maxkeys': null,
    'kernel.panic': '1@/etc/sysctl.d/a.conf:1 via kernel.*',
    'vm.panic_on_oom': '2@/etc/sysctl.d/a.conf:2 via vm.panic_on_oo?',
    'vm.overcommit_memory': '3@/etc/sysctl.d/a.conf:3 via vm.overcommit_[a-m]emory',
    'vm.overcommit_xemory': null,
    'vm.xby': '4@/etc/sysctl.d/a.conf:4 via vm.x[!a]y',
    'vm.xay': null,
  });
});

test('globs: -key excludes the key from globs (the rp_filter example); a glob’s own -pattern turns it off', () => {
  const files = [file(ETC, 'a.conf', 'net.ipv4.conf.default.rp_filter = 2\nnet.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.all.rp_filter\n')];
  assert.equal(persisted(files, ['net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.lo.rp_filter']), {
    'net.ipv4.conf.all.rp_filter': null,
    'net.ipv4.conf.lo.rp_filter': '2@/etc/sysctl.d/a.conf:2 via net.ipv4.conf.*.rp_filter',
  });
  const off = [...files, file(ETC, 'b.conf', '-net.ipv4.conf.*.rp_filter\n')];
  assert.equal(persisted(off, ['net.ipv4.conf.lo.rp_filter']), { 'net.ipv4.conf.lo.rp_filter': null });
});

test('globs: of two matching globs the one written last wins; re-setting a glob to the value it had keeps its earlier place', () => {
  const two = [file(ETC, '10.conf', 'kernel.* = 1\n'), file(ETC, '20.conf', 'kernel.pan* = 2\n')];
  assert.equal(persisted(two, ['kernel.panic']), { 'kernel.panic': '2@/etc/sysctl.d/20.conf:1 via kernel.pan*' });
  // A new value moves `kernel.*` to the end of systemd's map: it is written last.
  const moved = [...two, file(ETC, '30.conf', 'kernel.* = 3\n')];
  assert.equal(persisted(moved, ['kernel.panic']), { 'kernel.panic': '3@/etc/sysctl.d/30.conf:1 via kernel.*' });
  // The same value keeps it where it was, before `kernel.pan*`.
  const kept = [...two, file(ETC, '30.conf', 'kernel.* = 1\n')];
  assert.equal(persisted(kept, ['kernel.panic']), { 'kernel.panic': '2@/etc/sysctl.d/20.conf:1 via kernel.pan*' });
});

test('values from procfs: a trailing newline and tabs equal the wanted value with single spaces; other values do not', () => {
  assert.ok(sameSysctlValue('1\n', '1'));
  assert.ok(sameSysctlValue('4096\t87380\t6291456\n', '4096 87380 6291456'));
  assert.ok(sameSysctlValue('  10  ', '10'));
  assert.not.ok(sameSysctlValue('10\n', '1'));
  assert.not.ok(sameSysctlValue('4096\t87380\n', '4096 87380 6291456'));
  assert.not.ok(sameSysctlValue('', '0'));
});

test.run();
