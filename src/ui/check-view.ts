// `harden check` results for people (text) and machines (JSON, JUnit XML, SARIF 2.1.0), from the same data.
import { summarize, type RuleResult, type Status } from '../core/evaluate.js';
import type { Palette } from './color.js';
import { jsonText, shown } from './terminal-text.js';

export const CHECK_SCHEMA = 'harden.check/v1';

export interface CheckOutcome {
  readonly root: string;
  readonly profile: { readonly name: string; readonly source: string; readonly label?: string };
  readonly version: string | null;
  readonly results: readonly RuleResult[];
  /** Set when the node could not be checked (in a fleet; one node alone fails the run instead). */
  readonly error?: { readonly message: string; readonly hint: string | null };
}

export function summaryLine(results: readonly RuleResult[]): string {
  const { counts } = summarize(results);
  return `${results.length} ${results.length === 1 ? 'rule' : 'rules'}: ${counts.PASS} passed, ${counts.FAIL} failed, ${counts.BLOCKED} blocked, ${counts.MANUAL} manual, ${counts['NOT APPLICABLE']} not applicable`;
}

export function checkText(outcome: CheckOutcome, color: Palette): string {
  const paint: Record<Status, (s: string) => string> = {
    PASS: color.green,
    FAIL: color.red,
    BLOCKED: color.yellow,
    MANUAL: color.cyan,
    'NOT APPLICABLE': color.dim,
  };
  // The root, the profile's names and texts and every found value and reason (which quote the node) shown escaped.
  const profile = shown(outcome.profile.label ?? outcome.profile.name);
  if (outcome.error) {
    const hint = outcome.error.hint ? `\n${color.dim(`hint: ${shown(outcome.error.hint)}`)}` : '';
    return `${color.bold(`Profile ${profile} on ${shown(outcome.root)}`)}\n${color.red(`error: ${shown(outcome.error.message)}`)}${hint}\n\nnot checked\n`;
  }
  const lines = [color.bold(`Profile ${profile} on ${shown(outcome.root)} (MicroK8s ${shown(outcome.version ?? 'version unknown')})`)];
  for (const result of outcome.results) {
    const cis = result.cis.length ? ` [CIS ${shown(result.cis.join(', '))}]` : '';
    lines.push(`${paint[result.status](`[${result.status}]`.padEnd(16))} ${shown(result.id)}${cis}`);
    lines.push(`${' '.repeat(17)}${shown(result.title)}`);
    lines.push(`${' '.repeat(17)}${color.dim(`found: ${shown(result.found)}; ${shown(result.reason)}`)}`);
  }
  const { compliant } = summarize(outcome.results);
  lines.push('', `${summaryLine(outcome.results)}${compliant ? color.green(` — complies with profile ${profile}`) : ''}`);
  return `${lines.join('\n')}\n`;
}

export function checkJson(outcomes: readonly CheckOutcome[]): string {
  const documents = outcomes.map((o) => [o.root, o.error ? { schema: CHECK_SCHEMA, ...o } : { schema: CHECK_SCHEMA, ...o, summary: summarize(o.results) }] as const);
  return `${jsonText(documents.length === 1 ? documents[0][1] : Object.fromEntries(documents))}\n`;
}

// XML 1.0 cannot hold most control characters even as references: they are shown escaped, as in the text.
const xml = (s: string) => shown(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function checkJunit(outcomes: readonly CheckOutcome[]): string {
  const suites = outcomes.map((o) => {
    if (o.error) {
      const detail = xml(`${o.error.message}${o.error.hint ? `\nhint: ${o.error.hint}` : ''}`);
      return `  <testsuite name="${xml(`${o.profile.name} on ${o.root}`)}" tests="1" failures="0" errors="1" skipped="0">\n    <testcase classname="${xml(o.profile.name)}" name="node"><error message="${xml(o.error.message)}">${detail}</error></testcase>\n  </testsuite>`;
    }
    const { counts } = summarize(o.results);
    const cases = o.results.map((r) => {
      const name = `${r.id}${r.cis.length ? ` [CIS ${r.cis.join(', ')}]` : ''}`;
      const detail = xml(`${r.title}: found ${r.found}; ${r.reason}`);
      const body = r.status === 'FAIL' ? `<failure message="${xml(r.reason)}">${detail}</failure>`
        : r.status === 'BLOCKED' ? `<failure type="blocked" message="${xml(r.reason)}">${detail}</failure>`
        : r.status === 'PASS' ? '' : `<skipped message="${xml(`${r.status}: ${r.reason}`)}"/>`;
      return `    <testcase classname="${xml(`${o.profile.name}.${r.component}`)}" name="${xml(name)}">${body}</testcase>`;
    });
    const skipped = counts.MANUAL + counts['NOT APPLICABLE'];
    return `  <testsuite name="${xml(`${o.profile.name} on ${o.root}`)}" tests="${o.results.length}" failures="${counts.FAIL + counts.BLOCKED}" errors="0" skipped="${skipped}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n${suites.join('\n')}\n</testsuites>\n`;
}

export function checkSarif(outcomes: readonly CheckOutcome[], toolVersion: string): string {
  const rules = new Map<string, object>();
  const results: object[] = [];
  // A node that could not be checked is a notification of the run, not a result of a rule.
  const failed = outcomes.filter((o) => o.error);
  const invocations = failed.length === 0 ? {} : {
    invocations: [{
      executionSuccessful: false,
      toolExecutionNotifications: failed.map((o) => ({ level: 'error', message: { text: `${o.root}: ${o.error!.message}` }, properties: { root: o.root, hint: o.error!.hint } })),
    }],
  };
  for (const o of outcomes) {
    for (const r of o.results) {
      rules.set(r.id, { id: r.id, shortDescription: { text: r.title }, properties: { severity: r.severity, cis: r.cis } });
      if (r.status !== 'FAIL' && r.status !== 'BLOCKED') continue;
      results.push({
        ruleId: r.id,
        level: r.severity === 'low' ? 'note' : r.severity === 'medium' ? 'warning' : 'error',
        message: { text: `${r.status}: ${r.reason} (found ${r.found})` },
        locations: r.file ? [{ physicalLocation: { artifactLocation: { uri: r.file }, ...(r.line ? { region: { startLine: r.line } } : {}) } }] : [],
        properties: { root: o.root, profile: o.profile.name, status: r.status },
      });
    }
  }
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{ tool: { driver: { name: 'harden', version: toolVersion, rules: [...rules.values()] } }, ...invocations, results }],
  };
  return `${jsonText(sarif)}\n`;
}
