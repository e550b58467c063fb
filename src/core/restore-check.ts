// What a rollback is about to write, read as the node will read it. A snapshot's checksums catch damage, not
// a forgery: whoever rewrites a copy can recompute its sha256. So before a copy goes back onto the node it is
// read with the reader its consumer uses (and with bash too for kubelite's files, which MicroK8s' scripts and
// people copying lines read so), and an error there — a command bash would run, a file bash or kubelite
// refuses — stops the rollback unless the operator insists. Pure.
import { appendAll } from './lists.js';
import { consumerOf, type Era } from './consumers.js';
import { viewFlagsFile } from './file-view.js';
import type { Finding } from './finding.js';
import { snapVars } from './node-env.js';

/**
 * Why restoring `content` at `nodePath` could run or break something, in one line, or null. `era` and
 * `revision` are the node's: they decide the reader and what `${SNAP_DATA}` means.
 */
export function restoreProblem(nodePath: string, content: Buffer, era: Era, revision: string | null): string | null {
  const name = nodePath.slice(nodePath.lastIndexOf('/') + 1);
  const copy = `the snapshot's copy of ${nodePath}`;
  if (content.includes(0)) return `${copy} has a NUL byte: it is binary, not an args file`;
  const text = content.toString('utf8');
  if (Buffer.compare(Buffer.from(text, 'utf8'), content) !== 0) return `${copy} is not UTF-8 text`;
  const consumer = consumerOf(name, era, false, text);
  if (consumer.reader === 'source') return `${copy} is shell that ${consumer.service ?? 'MicroK8s'} sources: harden never writes such a file`;
  if (consumer.kind !== 'flags') return null;
  const env = { vars: snapVars(revision), unknownVariables: 'keep' as const };
  const reader = consumer.reader === 'kubelite' ? 'kubelite' : 'bash';
  const errors: Finding[] = viewFlagsFile(text, { reader, component: consumer.component, env }).findings.filter((f) => f.severity === 'error');
  if (reader === 'kubelite') appendAll(errors, viewFlagsFile(text, { reader: 'bash', component: consumer.component, env }).read.findings.filter((f) => f.severity === 'error'));
  if (errors.length === 0) return null;
  const first = [...errors].sort((a, b) => a.line - b.line)[0];
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return `${copy} has an error${first.line > 0 ? ` on line ${first.line}` : ''}: ${first.message}${more}`;
}
