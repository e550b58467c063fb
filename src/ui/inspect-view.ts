// `harden inspect` for people (text) and machines (JSON), from the same NodeReport.
import type { Finding } from '../core/finding.js';
import type { NodeReport } from '../core/node.js';
import type { HardenError } from '../errors.js';
import type { Palette } from './color.js';
import { jsonText, shown } from './terminal-text.js';
import { largest } from '../core/lists.js';

/** Version of the JSON document `inspect --json` prints; bumped on any incompatible change. */
export const INSPECT_SCHEMA = 'harden.inspect/v1';

export type InspectOutcome = { readonly root: string; readonly report: NodeReport } | { readonly root: string; readonly error: HardenError };

export function inspectJson(outcomes: readonly InspectOutcome[]): string {
  const documents = outcomes.map((outcome) => [outcome.root, toJson(outcome)] as const);
  const value = documents.length === 1 ? documents[0][1] : Object.fromEntries(documents);
  return `${jsonText(value)}\n`;
}

function toJson(outcome: InspectOutcome): object {
  if ('error' in outcome) {
    return { schema: INSPECT_SCHEMA, root: outcome.root, error: { message: outcome.error.message, hint: outcome.error.hint, exitCode: outcome.error.exitCode } };
  }
  return { schema: INSPECT_SCHEMA, root: outcome.root, ...outcome.report };
}

export function inspectText(outcome: InspectOutcome, color: Palette): string {
  if ('error' in outcome) return `${color.bold(`MicroK8s node at ${shown(outcome.root)}`)}\n  ${color.red('error:')} ${shown(outcome.error.message)}\n`;
  const r = outcome.report;
  const lines: string[] = [color.bold(`MicroK8s node at ${shown(outcome.root)}`)];
  // Every value below may come from the node (names, link targets, versions, evidence): shown escaped.
  const field = (name: string, value: string) => lines.push(`  ${name.padEnd(10)} ${value}`);
  field('version', shown(versionLine(r)));
  field('era', `${r.era === 'kubelite' ? 'kubelite' : 'separate daemons'} ${color.dim(`(${shown(r.eraEvidence)})`)}`);
  field('role', `${r.role === 'worker' ? 'worker' : 'control plane'} ${color.dim(`(${shown(r.roleEvidence)})`)}`);
  field('datastore', `${shown(r.datastore.kind)} ${color.dim(`(${shown(r.datastore.evidence)})`)}`);
  field('revision', r.revision === null ? 'unknown' : `/var/snap/microk8s/current -> ${shown(r.revision)}`);
  field('peers', shown(peersLine(r)));
  lines.push('', color.bold(`Args files in ${shown(r.argsDir)}`));

  const header = ['FILE', 'KIND', 'READER', 'SERVICE', 'MODE', 'OWNER', 'FINDINGS'];
  const rows = r.files.map((f) => [
    f.symlinkTarget === null ? shown(f.name) : `${shown(f.name)} -> ${shown(f.symlinkTarget)}`,
    f.kind,
    f.reader,
    f.service ? `${shown(f.service)}${f.serviceEnabled ? '' : ' (disabled)'}` : f.note ? `- (${shown(f.note)})` : '-',
    f.mode,
    shown(f.owner),
    findingCount(f.findings),
  ]);
  table([header, ...rows]).forEach((line, i) => lines.push(`  ${i === 0 ? color.dim(line) : line}`));

  const all: Array<{ where: string; finding: Finding }> = [
    ...r.findings.map((finding) => ({ where: 'node', finding })),
    ...r.files.flatMap((f) => f.findings.map((finding) => ({ where: `${f.name}:${finding.line}`, finding }))),
  ];
  lines.push('');
  if (all.length === 0) {
    lines.push(color.green('No findings.'));
  } else {
    lines.push(color.bold('Findings'));
    for (const { where, finding } of all) {
      const severity = finding.severity === 'error' ? color.red : finding.severity === 'warning' ? color.yellow : color.cyan;
      lines.push(`  ${shown(where)}  ${severity(finding.severity)}  ${finding.code}: ${shown(finding.message)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function versionLine(r: NodeReport): string {
  if (r.version !== null) {
    const extra = [r.snapRevision && `snap revision ${r.snapRevision}`, r.confinement].filter(Boolean).join(', ');
    return `${r.version}${extra ? ` (${extra})` : ''}`;
  }
  const range = r.inferred && (r.inferred.min || r.inferred.max)
    ? `${r.inferred.min ?? '?'} to ${r.inferred.max ?? 'latest'}`
    : 'any';
  return `unknown: no snap.yaml; the args files suggest ${range}`;
}

function peersLine(r: NodeReport): string {
  if (!r.peers.clustered) return 'none';
  const endpoints = [...new Set([...r.peers.callbackTokens, ...r.peers.members.filter((m) => m !== r.peers.self)])];
  return `${endpoints.length} (${endpoints.join(', ')})`;
}

function findingCount(findings: readonly Finding[]): string {
  if (findings.length === 0) return '-';
  const count = (severity: Finding['severity']) => findings.filter((f) => f.severity === severity).length;
  return (['error', 'warning', 'info'] as const)
    .filter((severity) => count(severity) > 0)
    .map((severity) => `${count(severity)} ${severity}`)
    .join(', ');
}

function table(rows: readonly string[][]): string[] {
  const widths = rows[0].map((_, column) => largest(rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  '));
}
