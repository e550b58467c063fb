// Where rules may reach: the snap's data tree and a few fixed paths, with nothing left to normalise.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { permittedNodePath } from '../../src/core/rule-paths.js';

test('paths inside the snap data, current and common dirs are permitted', () => {
  for (const path of ['/var/snap/microk8s/6089/certs', '/var/snap/microk8s/6089/certs/ca.crt', '/var/snap/microk8s/current/args/kubelet', '/var/snap/microk8s/common/var/run/etcd']) {
    assert.ok(permittedNodePath(path), path);
  }
});

test('the fixed paths shipped rules need are permitted, and nothing next to them', () => {
  for (const path of ['/etc/systemd/system/snap.microk8s.daemon-kubelite.service', '/var/log/apiserver', '/etc/sysctl.d/60-harden-kubelet.conf']) assert.ok(permittedNodePath(path), path);
  for (const path of ['/etc/systemd/system/evil.service', '/var/log/apiserver/audit.log', '/etc/sysctl.d/99-other.conf', '/etc/sysctl.d/60-harden.conf.d']) assert.not.ok(permittedNodePath(path), path);
});

test('nothing outside, and no path with an empty, . or .. component, however it would normalise', () => {
  for (const path of [
    '/etc/shadow',
    '/var/snap/microk8s',
    '/var/snap/microk8s/6089',
    '/var/snap/microk8s/6089/x/../../../../etc/shadow',
    '/var/snap/microk8s/6089/certs/..',
    '/var/snap/microk8s/6089/./certs',
    '/var/snap/microk8s//6089/certs',
    '/var/snap/microk8s/6089/certs/',
    'var/snap/microk8s/6089/certs',
    '/var/snap/microk8s-other/6089/certs',
  ]) {
    assert.not.ok(permittedNodePath(path), path);
  }
});

test.run();
