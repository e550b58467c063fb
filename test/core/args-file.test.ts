import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseArgsFile, printArgsFile, type ArgsLine } from '../../src/core/args-file.js';
import { fixtureArgsDir, fixtureVersions } from '../helpers/paths.js';

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? allFiles(full) : [full];
  });
}

const line = (text: string, n = 0): ArgsLine => parseArgsFile(text).lines[n];

test('every fixture file of every version prints back byte for byte', () => {
  let count = 0;
  for (const version of fixtureVersions) {
    for (const file of allFiles(fixtureArgsDir(version))) {
      const text = readFileSync(file, 'utf8');
      assert.is(printArgsFile(parseArgsFile(text)), text, file);
      count += 1;
    }
  }
  assert.ok(count > 100, `read ${count} fixture files`);
});

// Generated files of every kind: test/property/args-file.test.ts.

test('--flag=value: name, separator, value, quote style', () => {
  const l = line('--authorization-mode=AlwaysAllow\n');
  assert.is(l.kind, 'flag');
  assert.equal(l.flag, { name: '--authorization-mode', separator: '=', rawValue: 'AlwaysAllow', value: 'AlwaysAllow', quote: 'none' });
  assert.is(l.rest, '');
  assert.is(l.eol, '\n');
});

test('--flag value and short -H value keep the separator as written', () => {
  assert.equal(line('--bind 0.0.0.0:25000\n').flag, { name: '--bind', separator: ' ', rawValue: '0.0.0.0:25000', value: '0.0.0.0:25000', quote: 'none' });
  assert.equal(line('-H  unix://${SNAP_DATA}/docker.sock').flag, {
    name: '-H',
    separator: '  ',
    rawValue: 'unix://${SNAP_DATA}/docker.sock',
    value: 'unix://${SNAP_DATA}/docker.sock',
    quote: 'none',
  });
});

test('a bare flag has no value; a following comment or flag is not its value', () => {
  assert.equal(line('--client-cert-auth\n').flag, { name: '--client-cert-auth', separator: '', rawValue: null, value: null, quote: 'none' });
  const commented = line('--client-cert-auth # required\n');
  assert.is(commented.flag!.rawValue, null);
  assert.is(commented.rest, ' # required');
});

test('quoted values: single, double, empty, with metacharacters and spaces', () => {
  assert.equal(line(`--etcd-servers='unix://etcd.socket:2379'`).flag!.value, 'unix://etcd.socket:2379');
  assert.is(line(`--etcd-servers='unix://etcd.socket:2379'`).flag!.quote, 'single');
  const eviction = line('--eviction-hard="memory.available<100Mi,nodefs.available<1Gi"\n').flag!;
  assert.is(eviction.value, 'memory.available<100Mi,nodefs.available<1Gi');
  assert.is(eviction.quote, 'double');
  assert.equal(line('--iface=""').flag, { name: '--iface', separator: '=', rawValue: '""', value: '', quote: 'double' });
  const keyfile = line('--keyfile "${SNAP_DATA}/certs/server.key"\n').flag!;
  assert.is(keyfile.value, '${SNAP_DATA}/certs/server.key');
  assert.is(line('--d="with space" # why\n').flag!.rawValue, '"with space"');
  assert.is(line('--d="with space" # why\n').rest, ' # why');
  assert.is(line('--m=a"b"c').flag!.quote, 'mixed');
  assert.is(line(`--e="a \\"q\\" \\$HOME"`).flag!.value, 'a "q" $HOME');
});

test('an unclosed quote runs to the end of the line', () => {
  const l = line('--bad="oops here\n');
  assert.is(l.flag!.rawValue, '"oops here');
  assert.is(l.rest, '');
});

test('comments, markers, blank and other lines; indentation kept', () => {
  const file = parseArgsFile('\n# Enable the aggregation layer\n#~Enable the aggregation layer\n  \t\nfailure-domain=1\n  --indented=yes\n');
  assert.equal(file.lines.map((l) => l.kind), ['blank', 'comment', 'marker', 'blank', 'other', 'flag']);
  assert.is(file.lines[5].indent, '  ');
  assert.is(file.lines[5].flag!.name, '--indented');
  assert.equal(file.lines.map((l) => l.number), [1, 2, 3, 4, 5, 6]);
});

test('CRLF line ends and a missing final newline are recorded per line', () => {
  const file = parseArgsFile('--a=1\r\n--b=2\n--c=3');
  assert.equal(file.lines.map((l) => l.eol), ['\r\n', '\n', '']);
  assert.is(file.lines[0].flag!.value, '1');
  assert.is(parseArgsFile('').lines.length, 0);
  assert.is(parseArgsFile('\n').lines.length, 1);
});

test('repeated flags stay separate lines in file order', () => {
  const text = readFileSync(path.join(fixtureArgsDir('1.18'), 'kube-apiserver'), 'utf8');
  const tokens = parseArgsFile(text).lines.filter((l) => l.flag?.name === '--token-auth-file');
  assert.is(tokens.length, 2);
  assert.ok(tokens[0].number < tokens[1].number);
});

test.run();
