import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keepRule, parseNetstat, parseSnapList, parseSs, serverVersion } from '../../src/core/inspection.js';

test('ss -pln: TCP LISTEN rows only, every address form ss prints', () => {
  const text = [
    'Netid State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process',
    'u_str LISTEN 0      4096   /run/containerd.sock 23456 * 0 users:(("containerd",pid=900,fd=9))',
    'udp   UNCONN 0      0      127.0.0.53%lo:53     0.0.0.0:*',
    'tcp   LISTEN 0      4096   127.0.0.53%lo:53     0.0.0.0:*',
    'tcp   LISTEN 0      4096   *:16443              *:*          users:(("kubelite",pid=1,fd=7))',
    'tcp   LISTEN 0      4096   [::]:10250           [::]:*',
    'tcp   LISTEN 0      4096   [::ffff:127.0.0.1]:10248 *:*',
    'tcp   LISTEN 0      4096   0.0.0.0:25000        0.0.0.0:*',
    'tcp   LISTEN 0      4096   0.0.0.0:25000        0.0.0.0:*',
    'tcp   ESTAB  0      0      10.0.0.5:22          10.0.0.1:5000',
  ].join('\n');
  assert.equal(parseSs(text)?.map((l) => `${l.family} ${l.address} ${l.port}`), ['4 127.0.0.53 53', '6 :: 16443', '6 :: 10250', '6 ::ffff:127.0.0.1 10248', '4 0.0.0.0 25000']);
  assert.is(parseSs('bash: ss: command not found\n'), null);
});

test('netstat -pln (reports before December 2021): tcp and tcp6 LISTEN rows', () => {
  const text = [
    'Active Internet connections (only servers)',
    'Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name',
    'tcp        0      0 127.0.0.1:10248         0.0.0.0:*               LISTEN      1234/kubelite',
    'tcp6       0      0 :::16443                :::*                    LISTEN      1234/kubelite',
    'udp        0      0 0.0.0.0:8472            0.0.0.0:*                           -',
  ].join('\n');
  assert.equal(parseNetstat(text)?.map((l) => `${l.family} ${l.address} ${l.port}`), ['4 127.0.0.1 10248', '6 :: 16443']);
  assert.is(parseNetstat(''), null);
});

test('snap list: version, revision and confinement of microk8s; kubectl version in both formats', () => {
  const list = 'Name      Version   Rev    Tracking       Publisher   Notes\ncore20    20231123  2105   latest/stable  canonical✓  base\nmicrok8s  v1.28.3   6089   1.28/stable    canonical✓  classic\n';
  assert.equal(parseSnapList(list), { version: 'v1.28.3', revision: '6089', confinement: 'classic' });
  assert.equal(parseSnapList(list.replace('classic', '-')), { version: 'v1.28.3', revision: '6089', confinement: 'strict' });
  assert.is(parseSnapList('error: no matching snaps installed\n'), null);
  assert.is(serverVersion('Client Version: v1.28.3\nServer Version: v1.28.3\n'), 'v1.28.3');
  assert.is(serverVersion('Server Version: version.Info{Major:"1", Minor:"18", GitVersion:"v1.18.20", GitCommit:"x"}\n'), 'v1.18.20');
  assert.is(serverVersion('The connection to the server 127.0.0.1:16443 was refused\n'), null);
});

test('only what a check reads is kept: never a journal, nothing outside inspection-report/', () => {
  assert.equal(keepRule('inspection-report/args/kubelet'), { limit: 16 * 1024 * 1024, overflow: 'error' });
  assert.equal(keepRule('inspection-report/snap.microk8s.daemon-kubelite/systemctl.log'), { limit: 64 * 1024, overflow: 'truncate' });
  assert.is(keepRule('inspection-report/snap.microk8s.daemon-kubelite/journal.log'), null);
  assert.is(keepRule('inspection-report/k8s/cluster-info-dump'), null);
  assert.is(keepRule('elsewhere/args/kubelet'), null);
});

test.run();
