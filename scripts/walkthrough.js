#!/usr/bin/env node
// Prints the README's apply and rollback walk-through from real runs: a live 1.28 test node (test/helpers/
// live-node.ts: its API server, kubelet, k8s-dqlite and containerd answer on loopback, and the recording
// stand-ins for snap and systemctl come first on PATH), the real bin, stdout and stderr interleaved as a
// terminal shows them. Run after `npm run build` (it uses the compiled test helpers under dist/test):
//   node scripts/walkthrough.js > /tmp/walkthrough.txt
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const { makeLiveNode } = await import(new URL('../dist/test/helpers/live-node.js', import.meta.url).href);

/** Runs the bin with stdout and stderr on one pipe, in the order they were written, and prints the transcript. */
function run(node, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/harden.cjs', '--root', node.root, ...args], {
      cwd: repo,
      env: { ...process.env, ...node.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (text += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (text += chunk));
    child.on('error', reject);
    child.on('close', (status) => {
      process.stdout.write(`$ node bin/harden.cjs --root ${node.root} ${args.join(' ')}\n${text}`);
      process.stdout.write(`[exit ${status}]\n\n`);
      resolve({ status, text });
    });
  });
}

const idOf = (text) => /Snapshot (\S+) in /.exec(text)?.[1] ?? /Snapshot of the present state: (\S+)/.exec(text)?.[1];

console.log('## apply, list, rollback, list, diff\n');
const node = await makeLiveNode({ version: '1.28' });
try {
  await run(node, ['apply', '--yes']);
  await run(node, ['snapshots', 'list']);
  const back = await run(node, ['rollback', '--yes']);
  await run(node, ['snapshots', 'list']);
  await run(node, ['snapshots', 'diff', idOf(back.text)]);
  await run(node, ['check', '--failed']);
} finally {
  await node.close();
}

console.log('## a change the API server rejects: put back, exit 3\n');
const rejecting = await makeLiveNode({ version: '1.28' });
try {
  await rejecting.rejectFlag('--authorization-mode=Node,RBAC');
  await run(rejecting, ['apply', '--yes', '--health-timeout', '10']);
} finally {
  await rejecting.close();
}

console.log('## it stays rejected after the put-back: exit 4\n');
const sticky = await makeLiveNode({ version: '1.28' });
try {
  await sticky.rejectFlag('--authorization-mode=Node,RBAC', { sticky: true });
  await run(sticky, ['apply', '--yes', '--health-timeout', '10']);
} finally {
  await sticky.close();
}

console.log('## no snap on PATH: the pre-flight stops at once\n');
const bare = await makeLiveNode({ version: '1.28' });
try {
  await run({ ...bare, env: { ...bare.env, PATH: '/nonexistent' } }, ['apply', '--yes']);
} finally {
  await bare.close();
}
