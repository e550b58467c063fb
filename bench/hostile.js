#!/usr/bin/env node
// Hostile args files: `harden check` on a node whose kube-proxy args file is 2 MiB or 16 MiB (just under the
// 16 MiB limit), in the two shapes that make the most work: stray words (1,000 `x` a line, a finding per
// word) and one flag repeated on every line (a finding per line). `node bench/hostile.js [--quick]`, after
// `npm ci` (which builds dist/). Each case runs beside the stock node in the same run (interleaved), 3 times
// (1 with --quick); the table gives the median wall time, the median CPU time (user + system, which a busy
// machine inflates less than the wall time) and the peak RSS. Target for 16 MiB: under 10 s and under 1 GB.
// A missed target is reported, never a failure; the exit status is non-zero only when a command crashes.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { layOutNode } from '../dist/test/helpers/node-root.js';
import { BIN, hasTime, machine, mb, ms, quickOption, reportCrashes, series, table, timer } from './measure.js';

const quick = quickOption('hostile.js');
const { work, crashes, measure, cleanup } = timer('harden-hostile-');
const MIB = 1024 * 1024;
const LIMIT = 16 * MIB;

/** The text of a kube-proxy args file of `shape`, as close under `bytes` as whole lines allow. */
function argsText(shape, bytes) {
  if (shape === 'words') {
    const line = `${'x '.repeat(999)}x\n`;
    return line.repeat(Math.floor((bytes - 1) / line.length));
  }
  const line = '--proxy-mode=iptables\n';
  const last = '--proxy-mode=userspace\n';
  return `${line.repeat(Math.floor((bytes - 1 - last.length) / line.length))}${last}`;
}

const stock = path.join(work, 'stock');
mkdirSync(stock);
await layOutNode(stock, { version: '1.28' });
const cases = [];
for (const bytes of [2 * MIB, LIMIT]) {
  for (const shape of ['words', 'flag']) {
    const root = path.join(work, `${shape}-${bytes}`);
    mkdirSync(root);
    const data = await layOutNode(root, { version: '1.28' });
    const text = argsText(shape, bytes);
    writeFileSync(path.join(data, 'args/kube-proxy'), text);
    const what = shape === 'words' ? `${(text.length / 2).toLocaleString('en')} stray words` : `${(text.split('\n').length - 1).toLocaleString('en')} --proxy-mode lines`;
    cases.push({ label: `check, ${bytes / MIB} MiB kube-proxy of ${what} (${text.length.toLocaleString('en')} bytes)`, root, bytes });
  }
}
const runs = quick ? 1 : 3;
const all = [{ label: 'check, stock node', root: stock }, ...cases];
const results = series(measure, all.map((c) => ({ label: c.label, argv: [process.execPath, BIN, '--root', c.root, 'check'], ok: [0, 2] })), runs);
cleanup();

const rows = all.map((c, i) => {
  const r = results[i];
  const targeted = c.bytes === LIMIT;
  const missed = [r.ms >= 10_000 && `time by ${ms(r.ms - 10_000)}`, r.rss !== null && r.rss >= 1_000_000 && `memory by ${mb(r.rss - 1_000_000)}`].filter(Boolean);
  return {
    benchmark: `${c.label} (median of ${runs})`,
    wall: ms(r.ms),
    cpu: ms(r.cpu),
    rss: mb(r.rss),
    target: targeted ? '< 10 s, < 1 GB' : '',
    verdict: targeted ? (missed.length === 0 ? 'met' : `missed: ${missed.join(', ')}`) : '',
  };
});
console.log(machine('harden hostile-input benchmark', quick));
console.log(`CPU time and peak RSS ${hasTime ? 'from /usr/bin/time' : 'not measured: /usr/bin/time is missing'}\n`);
console.log(table({ benchmark: 'benchmark', wall: 'wall time', cpu: 'CPU time', rss: 'peak RSS', target: 'target', verdict: 'verdict' }, rows));
reportCrashes(crashes);
