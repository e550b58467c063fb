// The cluster view (`harden cluster check`): a row per node (role, passed, failed, blocked, score) and the
// control-plane settings that differ, for people (text) and machines (JSON, JUnit XML, SARIF 2.1.0).
import type { ClusterFacts } from '../core/cluster.js';
import type { RuleResult, Status } from '../core/evaluate.js';
import type { Palette } from './color.js';
import { largest } from '../core/lists.js';
import { jsonText, shown } from './terminal-text.js';

export const CLUSTER_CHECK_SCHEMA = 'harden.cluster-check/v1';

export interface ClusterNodeRow {
  readonly name: string;
  readonly role: string;
  readonly version: string | null;
  readonly passed: number;
  readonly failed: number;
  readonly blocked: number;
  /** Passed out of passed, failed and blocked, in whole percent; null when none was scored. */
  readonly score: number | null;
  readonly results: readonly { readonly id: string; readonly status: Status }[];
}

export interface ClusterView {
  readonly file: string;
  readonly sha256: string;
  readonly createdAt: string;
  readonly profile: { readonly name: string; readonly sha256: string };
  readonly nodes: readonly ClusterNodeRow[];
  readonly agreement: readonly RuleResult[];
}

export function clusterView(facts: ClusterFacts, agreement: readonly RuleResult[]): ClusterView {
  const { document } = facts;
  const nodes = document.nodes.map((node) => {
    const count = (status: Status) => node.results.filter((result) => result.status === status).length;
    const [passed, failed, blocked] = [count('PASS'), count('FAIL'), count('BLOCKED')];
    const scored = passed + failed + blocked;
    return { name: node.name, role: node.role, version: node.version, passed, failed, blocked, score: scored === 0 ? null : Math.floor((passed * 100) / scored), results: node.results };
  });
  return { file: facts.file, sha256: facts.sha256, createdAt: document.createdAt, profile: document.profile, nodes, agreement };
}

export function clusterCompliant(view: ClusterView): boolean {
  return view.nodes.every((node) => node.failed + node.blocked === 0) && view.agreement.every((result) => result.status === 'PASS');
}

export function clusterText(view: ClusterView, color: Palette): string {
  const header = ['NODE', 'ROLE', 'VERSION', 'PASSED', 'FAILED', 'BLOCKED', 'SCORE'];
  const rows = view.nodes.map((node) => [node.name, node.role, node.version ?? '?', String(node.passed), String(node.failed), String(node.blocked), node.score === null ? '-' : `${node.score}%`]);
  const widths = header.map((title, column) => Math.max(title.length, largest(rows.map((row) => row[column].length))));
  const line = (cells: string[]) => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ').trimEnd();
  const out = [
    color.bold(`Cluster facts ${shown(view.file)} (sha256 ${view.sha256.replace(/^sha256:/, '').slice(0, 16)}…, made ${view.createdAt}, profile ${shown(view.profile.name)})`),
    '',
    line(header),
    ...rows.map((row) => shown(line(row))),
    '',
  ];
  const differ = view.agreement.filter((result) => result.status !== 'PASS');
  if (differ.length === 0) out.push(`Control-plane settings agree (${view.agreement.length} compared).`);
  else {
    out.push(color.red(`Control-plane settings that differ (${differ.length} of ${view.agreement.length}):`));
    for (const result of differ) out.push(`  ${result.id}: ${shown(result.found)}`);
  }
  return `${out.join('\n')}\n`;
}

export function clusterJson(view: ClusterView): string {
  return `${jsonText({ schema: CLUSTER_CHECK_SCHEMA, ...view, compliant: clusterCompliant(view) })}\n`;
}

const xml = (s: string) => shown(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One testsuite per node (a testcase per rule), and one for the settings that must agree. */
export function clusterJunit(view: ClusterView): string {
  const body = (status: Status) => (status === 'FAIL' ? '<failure message="FAIL"/>' : status === 'BLOCKED' ? '<failure type="blocked" message="BLOCKED"/>' : status === 'PASS' ? '' : `<skipped message="${xml(status)}"/>`);
  const suites = view.nodes.map((node) => {
    const skipped = node.results.length - node.passed - node.failed - node.blocked;
    const cases = node.results.map((r) => `    <testcase classname="${xml(`${view.profile.name}.${node.name}`)}" name="${xml(r.id)}">${body(r.status)}</testcase>`);
    return `  <testsuite name="${xml(`${view.profile.name} on ${node.name} (${node.role})`)}" tests="${node.results.length}" failures="${node.failed + node.blocked}" errors="0" skipped="${skipped}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  const differ = view.agreement.filter((r) => r.status !== 'PASS').length;
  const agreement = view.agreement.map((r) => `    <testcase classname="cluster.agree" name="${xml(r.id)}">${r.status === 'PASS' ? '' : `<failure message="${xml(r.reason)}">${xml(r.found)}</failure>`}</testcase>`);
  suites.push(`  <testsuite name="control-plane agreement" tests="${view.agreement.length}" failures="${differ}" errors="0" skipped="0">\n${agreement.join('\n')}\n  </testsuite>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n${suites.join('\n')}\n</testsuites>\n`;
}

/** A SARIF result per node and rule (`kind` pass, fail, review or notApplicable), and per setting compared. */
const SARIF_KIND: Readonly<Record<Status, string>> = { PASS: 'pass', FAIL: 'fail', BLOCKED: 'fail', MANUAL: 'review', 'NOT APPLICABLE': 'notApplicable', WAIVED: 'review', 'NOT ASSESSED': 'review' };

export function clusterSarif(view: ClusterView, toolVersion: string): string {
  const rules = new Map<string, object>();
  const results: object[] = [];
  for (const node of view.nodes) {
    for (const r of node.results) {
      rules.set(r.id, { id: r.id });
      const kind = SARIF_KIND[r.status];
      results.push({ ruleId: r.id, kind, level: kind === 'fail' ? 'error' : 'none', message: { text: `${r.status} on ${node.name}` }, properties: { node: node.name, role: node.role, status: r.status } });
    }
  }
  for (const r of view.agreement) {
    rules.set(r.id, { id: r.id, shortDescription: { text: r.title } });
    const kind = r.status === 'PASS' ? 'pass' : 'fail';
    results.push({ ruleId: r.id, kind, level: kind === 'fail' ? 'error' : 'none', message: { text: `${r.reason}: ${r.found}` }, properties: { status: r.status } });
  }
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{ tool: { driver: { name: 'harden', version: toolVersion, rules: [...rules.values()] } }, results, properties: { cluster: { file: view.file, sha256: view.sha256 } } }],
  };
  return `${jsonText(sarif)}\n`;
}
