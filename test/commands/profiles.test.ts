// `harden profiles show NAME RULE`: one rule whole, and an unknown rule answered with the nearest id.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin } from '../helpers/cli.js';

test('profiles show NAME RULE prints the rule whole: facts, rationale, risks, references, requires, writes per version', () => {
  const run = runBin(['profiles', 'show', 'baseline', 'kubelet.anonymous-auth']);
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stderr, '');
  assert.is(
    run.stdout,
    `kubelet.anonymous-auth (profile baseline)
  Refuse anonymous requests to the kubelet

  severity   critical
  component  kubelet
  operation  set-flag --anonymous-auth=false

Rationale
  With anonymous auth on, unauthenticated clients reach the kubelet API on port 10250.

Risks
  - Health checks that call the kubelet without a client certificate get 401.

References
  CIS 4.2.1 (cis-1.24-microk8s)
  MicroK8s: Services and ports: 10250: anonymous auth disabled

Requires
  rule kubelet.client-ca-file: with anonymous auth off, a client the kubelet cannot authenticate by certificate gets 401
  rule apiserver.kubelet-client-certificate: the API server must present a client certificate, or kubectl logs, exec and port-forward get 401
  rule apiserver.kubelet-client-key: the key of that certificate

Writes, by MicroK8s version
  1.13-1.36  --anonymous-auth=false in args/kubelet (default true)
`,
  );
});

test('what a rule writes changes with the version: where it applies, and what each version accepts', () => {
  const run = runBin(['profiles', 'show', 'cis', 'apiserver.insecure-port']);
  assert.is(run.status, 0, run.stderr);
  assert.ok(
    run.stdout.endsWith(`Writes, by MicroK8s version
  1.13-1.15  nothing: the rule does not apply
  1.16-1.19  --insecure-port=0 in args/kube-apiserver (default 8080)
  1.20-1.23  --insecure-port=0 in args/kube-apiserver (default 0)
  1.24-1.36  nothing: the rule does not apply
`),
    run.stdout,
  );
  assert.match(run.stdout, '\n  applies    MicroK8s 1.16 up to (not including) 1.24\n');
  const dqlite = runBin(['profiles', 'show', 'cis', 'k8s-dqlite.enable-tls']);
  assert.is(dqlite.status, 0, dqlite.stderr);
  assert.match(dqlite.stdout, '\n  1.13-1.22  nothing: k8s-dqlite does not know --enable-tls=true on these versions\n  1.23-1.36  --enable-tls=true in args/k8s-dqlite (default true)\n');
});

test('an unknown rule: exit 1, with the closest rule id of that profile', () => {
  const run = runBin(['profiles', 'show', 'cis', 'kubelet.read-only-prot']);
  assert.is(run.status, 1);
  assert.is(run.stdout, '');
  assert.is(run.stderr, 'error: profile cis has no rule kubelet.read-only-prot\nhint: did you mean kubelet.read-only-port? harden profiles show cis lists its rules\n');
  const far = runBin(['profiles', 'show', 'baseline', 'nothing.like.it']);
  assert.is(far.status, 1);
  assert.is(far.stderr, 'error: profile baseline has no rule nothing.like.it\nhint: harden profiles show baseline lists its rules\n');
  const misplaced = runBin(['profiles', 'validate', 'baseline', 'kubelet.read-only-port']);
  assert.is(misplaced.status, 1);
  assert.is(misplaced.stderr, 'error: profiles validate takes no rule id\nhint: harden profiles show baseline kubelet.read-only-port shows one rule\n');
});

test.run();
