// rollback and snapshots diff show changes as plan does: a header, the legend, plan-view's annotated diff per
// file, modes and owners, one summary line; the rule behind a line only while the file is as its plan left it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { palette } from '../../src/ui/color.js';
import { rollbackText, snapshotDiffText, type SnapshotFileView, type SnapshotView } from '../../src/ui/snapshot-view.js';

const PLAIN = palette(false);
const BEFORE = '--a=1\n--b=2\n--c=3\n';
const AFTER = '--a=1\n--b=9\n--c=3\n--d=4\n';
const SERVICE = 'snap.microk8s.daemon-kubelite';

const planned = {
  before: BEFORE,
  after: AFTER,
  edits: [
    { ruleIds: ['x.b'], action: 'change', line: 2, newLine: 2 },
    { ruleIds: ['x.d', 'x.d2'], action: 'add', line: null, newLine: 4 },
  ],
};

const file = (over: Partial<SnapshotFileView> = {}): SnapshotFileView => ({ path: '/var/snap/microk8s/current/args/x', service: SERVICE, created: false, then: BEFORE, now: AFTER, planned, ...over });
const view = (files: readonly SnapshotFileView[]): SnapshotView => ({ id: '20261122T190145Z-ab1b', root: '/srv/node', kind: 'apply', profile: 'baseline', version: '1.28.0', files });

test('rollback: the reverse diff of each file with the rules it undoes, created files, modes, one summary line', () => {
  const text = rollbackText(
    view([file(), file({ path: '/var/snap/microk8s/6089/args/audit-policy.yaml', service: null, created: true, then: '', now: 'rules: []\n', planned: null })]),
    [
      { path: '/var/snap/microk8s/6089/certs/ca.key', from: { mode: '0600', owner: 'root:root' }, to: { mode: '0644', owner: 'root:root' } },
      { path: '/unchanged', from: { mode: '0600', owner: 'root:root' }, to: { mode: '0600', owner: 'root:root' } },
    ],
    [SERVICE],
    PLAIN,
  );
  assert.is(
    text,
    [
      'Rollback of 20261122T190145Z-ab1b on /srv/node (apply, profile baseline, MicroK8s 1.28.0)',
      '',
      'Symbols: + add, ~ change, - remove',
      '',
      `~ /var/snap/microk8s/current/args/x (${SERVICE})`,
      '    @@ -1,4 +1,3 @@',
      '      --a=1',
      '    - --b=9',
      '    # x.b (undone)',
      '    + --b=2',
      '      --c=3',
      '    - --d=4',
      '    # x.d, x.d2 (undone)',
      '',
      '- /var/snap/microk8s/6089/args/audit-policy.yaml (created by the apply: removed)',
      '',
      'Modes and owners:',
      '~ /var/snap/microk8s/6089/certs/ca.key: mode 0600 -> 0644',
      '',
      `Rollback: 1 file to restore, 1 to remove, 1 mode to put back; restarts: ${SERVICE}.`,
      '',
    ].join('\n'),
  );
});

test('rollback: a file already as in the snapshot, one gone, one MicroK8s rewrote since (no rule notes), no restarts', () => {
  const rewritten = `${AFTER}--resolv-conf=/run/systemd/resolve/resolv.conf\n`;
  const text = rollbackText(view([file({ now: BEFORE }), file({ path: '/gone', service: null, now: null }), file({ path: '/rewritten', now: rewritten })]), [], [], PLAIN);
  assert.is(
    text,
    [
      'Rollback of 20261122T190145Z-ab1b on /srv/node (apply, profile baseline, MicroK8s 1.28.0)',
      '',
      'Symbols: + add, ~ change, - remove',
      '',
      '  /var/snap/microk8s/current/args/x (already as in the snapshot)',
      '',
      '+ /gone: gone now, written again',
      '    @@ -0,0 +1,3 @@',
      '    + --a=1',
      '    + --b=2',
      '    + --c=3',
      '',
      `~ /rewritten (${SERVICE})`,
      '    @@ -1,5 +1,3 @@',
      '      --a=1',
      '    - --b=9',
      '    + --b=2',
      '      --c=3',
      '    - --d=4',
      '    - --resolv-conf=/run/systemd/resolve/resolv.conf',
      '',
      'Rollback: 2 files to restore, 0 to remove, 0 modes to put back (1 file already as in the snapshot); no restarts.',
      '',
    ].join('\n'),
  );
});

test('snapshots diff: from the copy to now in the plan\'s direction, with its rules; created and gone files; a summary', () => {
  const text = snapshotDiffText(
    view([
      file(),
      file({ path: '/created', service: null, created: true, then: '', now: 'x\n', planned: null }),
      file({ path: '/removed-by-rollback', service: null, created: true, then: '', now: null, planned: null }),
      file({ path: '/same', service: null, now: BEFORE, planned: null }),
    ]),
    PLAIN,
  );
  assert.is(
    text,
    [
      'Changes since snapshot 20261122T190145Z-ab1b on /srv/node (apply, profile baseline, MicroK8s 1.28.0)',
      '',
      'Symbols: + add, ~ change, - remove',
      '',
      `~ /var/snap/microk8s/current/args/x (${SERVICE})`,
      '    @@ -1,3 +1,4 @@',
      '      --a=1',
      '    - --b=2',
      '    + --b=9',
      '    # x.b',
      '      --c=3',
      '    + --d=4',
      '    # x.d, x.d2',
      '',
      '+ /created: created by the apply',
      '    @@ -0,0 +1 @@',
      '    + x',
      '',
      'Changed: 2 files since the snapshot, 2 as it holds them.',
      '',
    ].join('\n'),
  );
  assert.is(
    snapshotDiffText(view([file({ now: BEFORE })]), PLAIN),
    'Changes since snapshot 20261122T190145Z-ab1b on /srv/node (apply, profile baseline, MicroK8s 1.28.0)\n\nNo changes. The 1 file of the snapshot is as it holds it.\n',
  );
  assert.match(snapshotDiffText(view([file({ now: null })]), PLAIN), /^- \/var\/snap\/microk8s\/current\/args\/x \(snap\.microk8s\.daemon-kubelite\): gone now\n {4}@@ -1,3 \+0,0 @@$/m);
});

test('colour as plan uses it; node and snapshot text escaped', () => {
  const text = rollbackText(view([file({ path: '/x\u001b[2J', now: '--a=\u001b[31mred\n', then: '--a=1\n', planned: null })]), [], [], palette(true));
  assert.ok(text.includes('\u001b[33m~ /x\\x1b[2J (snap.microk8s.daemon-kubelite)\u001b[39m'), JSON.stringify(text));
  assert.ok(text.includes('\u001b[31m    - --a=\\x1b[31mred\u001b[39m'), JSON.stringify(text));
  assert.ok(text.includes('\u001b[32m    + --a=1\u001b[39m'), JSON.stringify(text));
  assert.ok(text.includes('\u001b[1mRollback:\u001b[22m'), JSON.stringify(text));
});

test.run();
