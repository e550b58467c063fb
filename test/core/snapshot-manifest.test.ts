// Which snapshot says that an interrupted run left an unverified change on the node.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { interruptedChange, manifestProblem, type SnapshotManifest, type SnapshotStatus } from '../../src/core/snapshot-manifest.js';

const KUBELITE = 'snap.microk8s.daemon-kubelite';

function manifest(id: string, status: SnapshotStatus, options: { restartsOwed?: string[]; restarts?: string[] } = {}): SnapshotManifest {
  return {
    schema: 'harden.snapshot/v1',
    id,
    createdAt: '2026-12-06T00:00:00.000Z',
    toolVersion: '0.0.0',
    kind: 'apply',
    profile: null,
    version: '1.28',
    revision: '6364',
    status,
    history: [{ status, at: '2026-12-06T00:00:00.000Z' }],
    plan: { restarts: options.restarts ?? [KUBELITE] },
    restartsOwed: options.restartsOwed ?? [],
    files: [],
  };
}

test('interruptedChange: the newest snapshot, written and restarted or left interrupted, not verified nor put back', () => {
  for (const status of ['interrupted', 'restarted', 'written'] as const) {
    assert.equal(interruptedChange([manifest('a', 'verified'), manifest('b', status)], false), { id: 'b', kind: 'apply', status });
  }
  for (const status of ['planned', 'verified', 'put-back', 'put-back-failed', 'rolled-back'] as const) {
    assert.is(interruptedChange([manifest('b', status)], false), null, status);
  }
  assert.is(interruptedChange([], false), null);
});

test('interruptedChange: a rollback stopped after its restore is one too (its kind says so)', () => {
  assert.equal(interruptedChange([{ ...manifest('b', 'written'), kind: 'rollback' }], false), { id: 'b', kind: 'rollback', status: 'written' });
});

test('interruptedChange: not while a live run holds the lock, nor an older one a later change settled', () => {
  assert.is(interruptedChange([manifest('b', 'restarted')], true), null);
  assert.is(interruptedChange([manifest('a', 'restarted'), manifest('b', 'verified')], false), null);
});

test("interruptedChange: --no-restart's written, restarts owed, is deliberate; so is a written change with nothing to restart", () => {
  assert.is(interruptedChange([manifest('b', 'written', { restartsOwed: [KUBELITE] })], false), null);
  assert.is(interruptedChange([manifest('b', 'written', { restarts: [] })], false), null);
});

test('manifestProblem: the rules that passed and the locks, when recorded, are lists of short strings', () => {
  const base = manifest('b', 'verified');
  assert.is(manifestProblem({ ...base, passed: ['kubelet.anonymous-auth'], locks: ['cis-hardening'] }, 'b'), null);
  assert.is(manifestProblem({ ...base, passed: 'kubelet.anonymous-auth' }, 'b'), 'has a malformed passed list');
  assert.is(manifestProblem({ ...base, passed: [1] }, 'b'), 'has a malformed passed list');
  assert.is(manifestProblem({ ...base, locks: ['x'.repeat(257)] }, 'b'), 'has a malformed locks list');
  assert.is(manifestProblem({ ...base, locks: Array.from({ length: 100_001 }, () => 'l') }, 'b'), 'has a malformed locks list');
});

test('manifestProblem: interrupted is a known status', () => {
  assert.is(manifestProblem(manifest('b', 'interrupted'), 'b'), null);
  assert.is(manifestProblem({ ...manifest('b', 'interrupted'), status: 'stopped' }, 'b'), 'has an unknown status "stopped"');
});

test.run();

test('manifestProblem: a rollout id is optional, and refused when it is not a plain word', () => {
  assert.is(manifestProblem({ ...manifest('r', 'verified'), rollout: 'r-2026.12.06:1' }, 'r'), null);
  for (const rollout of ['', '-x', 'a b', 'x'.repeat(65), 7, 'a/b']) {
    assert.is(manifestProblem({ ...manifest('r', 'verified'), rollout } as unknown as SnapshotManifest, 'r'), 'has a malformed rollout id', String(rollout));
  }
});
