#!/usr/bin/env node
// What the Ansible collection adds to harden itself: `node bench/ansible.js [--workers N]` (after `npm ci`,
// which builds dist/; needs ansible-playbook and sshd, as the tests do). A rollout of 2 control planes and N
// workers (default 8, in batches of 25%) over a real sshd on loopback, every node a live node root whose health
// gates answer at once (--health-window 0), the cluster gate `true`. Reports the playbook's wall time, the time
// `harden apply` itself took on the rollout's critical path (each step's slowest apply, from the command
// module's own `delta`), and the difference per step and per node: Ansible's share. Never asserted.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BIN, spawnCollecting } from '../dist/test/helpers/cli.js';
import { makeLiveNode } from '../dist/test/helpers/live-node.js';
import { makeTempDir } from '../dist/test/helpers/node-root.js';
import { repoRoot } from '../dist/test/helpers/paths.js';
import { inventoryText, startSshd } from '../dist/test/helpers/sshd.js';

const at = process.argv.indexOf('--workers');
const workerCount = at >= 0 ? Number(process.argv[at + 1]) : 8;
if (!Number.isInteger(workerCount) || workerCount < 1) {
  console.error('usage: node bench/ansible.js [--workers N]');
  process.exit(2);
}

const collection = path.join(repoRoot, 'ansible');
const sshd = await startSshd();
const dir = await makeTempDir('harden-bench-ansible-');
const nodes = [];
try {
  const host = async (name, worker) => {
    const node = await makeLiveNode({ version: '1.28', worker });
    nodes.push(node);
    return { name, vars: { harden_root: node.root, harden_path: node.env.PATH } };
  };
  const controlPlanes = [await host('cp1', false), await host('cp2', false)];
  const workers = [];
  for (let i = 1; i <= workerCount; i += 1) workers.push(await host(`w${i}`, true));
  const inventory = path.join(dir, 'inventory.ini');
  await fs.writeFile(
    inventory,
    inventoryText(sshd, { control_plane: controlPlanes, workers }, {
      harden_bin: `${process.execPath} ${BIN}`,
      harden_profile: 'cis',
      harden_health_timeout: '10',
      harden_health_window: '0',
      harden_cluster_gate: 'true',
    }),
  );
  const started = performance.now();
  const run = await spawnCollecting('ansible-playbook', ['-v', '-i', inventory, path.join(collection, 'playbooks/harden.yml'), '-e', 'harden_rollout=bench'], {
    ANSIBLE_CONFIG: path.join(collection, 'ansible.cfg'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_LOCAL_TEMP: path.join(dir, 'ansible-local'),
    ANSIBLE_SSH_CONTROL_PATH_DIR: path.join(dir, 'cp'),
  });
  const wall = (performance.now() - started) / 1000;
  if (run.status !== 0) {
    console.error(run.stdout, run.stderr);
    process.exitCode = 1;
  } else {
    // Each "Apply with harden" task is one step of the rollout (one control plane, or one batch of workers).
    const steps = [];
    for (const block of run.stdout.split('TASK [').filter((b) => b.startsWith('harden : Apply with harden'))) {
      const deltas = [...block.matchAll(/^changed: \[[^\]]+\] => (\{.*\})$/gm)].map((m) => {
        const [h, mi, s] = JSON.parse(m[1]).delta.split(':').map(Number);
        return h * 3600 + mi * 60 + s;
      });
      steps.push(deltas);
    }
    const applied = steps.flat().length;
    const critical = steps.reduce((sum, deltas) => sum + deltas.reduce((a, b) => Math.max(a, b), 0), 0);
    const nodeCount = controlPlanes.length + workers.length;
    const row = (what, value) => console.log(`| ${what} | ${value} |`);
    console.log('| rollout over ssh on loopback | |\n| --- | --- |');
    row('nodes (control planes + workers)', `${nodeCount} (2 + ${workerCount}), ${steps.length} steps, ${applied} applied`);
    row('playbook wall time', `${wall.toFixed(1)} s`);
    row('harden apply on the critical path', `${critical.toFixed(1)} s`);
    row('added by the play, per step', `${((wall - critical) / steps.length).toFixed(2)} s`);
    row('added by the play, per node', `${((wall - critical) / nodeCount).toFixed(2)} s`);
  }
} finally {
  for (const node of nodes) await node.close();
  await sshd.stop();
  await fs.rm(dir, { recursive: true, force: true });
}
