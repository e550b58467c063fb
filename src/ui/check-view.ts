// `harden check` results for people (text) and machines (JSON, JUnit XML, SARIF 2.1.0), from the same data.
import { summarize, type RuleResult, type Status } from '../core/evaluate.js';
import { isReaderCheck } from '../core/reader-check.js';
import { scoreBySeverity, scoreFraction, type SeverityScore } from '../core/score.js';
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
  // Waived and not assessed are named only when there are any: most reports have neither.
  const waived = counts.WAIVED > 0 ? `, ${counts.WAIVED} waived` : '';
  const unassessed = counts['NOT ASSESSED'] > 0 ? `, ${counts['NOT ASSESSED']} not assessed` : '';
  return `${results.length} ${results.length === 1 ? 'rule' : 'rules'}: ${counts.PASS} passed, ${counts.FAIL} failed, ${counts.BLOCKED} blocked${waived}, ${counts.MANUAL} manual${unassessed}, ${counts['NOT APPLICABLE']} not applicable`;
}

/** `waived by ops@example.com until 2026-12-31 (waivers.yaml line 4): <justification>`, or how it expired. */
export function waiverText(result: RuleResult): string | null {
  const waiver = result.waiver;
  if (!waiver) return null;
  const by = waiver.owner ? ` by ${waiver.owner}` : '';
  const until = waiver.expires ? ` until ${waiver.expires}` : '';
  const where = `${waiver.file} line ${waiver.line}`;
  return waiver.expired
    ? `waiver expired on ${waiver.expires} (${where}${by}): ${waiver.justification}`
    : `waived${by}${until} (${where}): ${waiver.justification}`;
}

/** `Score: critical 1/2 (50%), high 4/4 (100%)`: each severity with a rule scored (score.ts defines the score). */
export function scoreLine(results: readonly RuleResult[]): string {
  const scored = scoreBySeverity(results).filter((score) => score.score !== null);
  const other = results.some((r) => r.status === 'WAIVED' || r.status === 'NOT ASSESSED') ? 'manual, waived, not assessed' : 'manual';
  if (scored.length === 0) return `Score: nothing to score (every rule is ${other} or not applicable)`;
  return `Score: ${scored.map((score) => `${score.severity} ${scoreFraction(score)} (${Math.floor(score.score! * 100)}%)`).join(', ')}`;
}

export interface CheckTextOptions {
  /** List the NOT APPLICABLE rules one by one (--verbose) instead of counting them in one line. */
  readonly verbose?: boolean;
  /** Show only what needs work, FAIL and BLOCKED (--failed); the summary still counts every rule. */
  readonly failedOnly?: boolean;
  /** --only or --skip chose the rules: a clean result says the selected rules pass, not that the node complies. */
  readonly selection?: boolean;
  /** The command that shows what `plan` would change for one rule on this node; `harden plan --only ID` by default. */
  readonly planCommand?: (root: string, ruleId: string) => string;
}

/** Where a result's first line starts its id, and every line under it starts. */
const STATUS_WIDTH = 16;
const SEVERITY_WIDTH = 9;
const INDENT = ' '.repeat(STATUS_WIDTH + 1 + SEVERITY_WIDTH + 1);

export function checkText(outcome: CheckOutcome, color: Palette, options: CheckTextOptions = {}): string {
  const paint: Record<Status, (s: string) => string> = {
    PASS: color.green,
    FAIL: color.red,
    BLOCKED: color.yellow,
    MANUAL: color.cyan,
    'NOT APPLICABLE': color.dim,
    WAIVED: color.cyan,
    'NOT ASSESSED': color.yellow,
  };
  // The root, the profile's names and texts and every found value and reason (which quote the node) shown escaped.
  const profile = shown(outcome.profile.label ?? outcome.profile.name);
  if (outcome.error) {
    const hint = outcome.error.hint ? `\n${color.dim(`hint: ${shown(outcome.error.hint)}`)}` : '';
    return `${color.bold(`Profile ${profile} on ${shown(outcome.root)}`)}\n${color.red(`error: ${shown(outcome.error.message)}`)}${hint}\n\nnot checked\n`;
  }
  const planCommand = options.planCommand ?? ((_root: string, id: string) => `harden plan --only ${id}`);
  const lines = [color.bold(`Profile ${profile} on ${shown(outcome.root)} (MicroK8s ${shown(outcome.version ?? 'version unknown')})`)];
  let folded = 0;
  let hidden = 0;
  for (const result of outcome.results) {
    if (options.failedOnly && result.status !== 'FAIL' && result.status !== 'BLOCKED') {
      hidden += 1;
      continue;
    }
    if (!options.verbose && result.status === 'NOT APPLICABLE') {
      folded += 1;
      continue;
    }
    const cis = result.cis.length ? ` [CIS ${shown(result.cis.join(', '))}]` : '';
    lines.push(`${paint[result.status](`[${result.status}]`.padEnd(STATUS_WIDTH))} ${result.severity.padEnd(SEVERITY_WIDTH)} ${shown(result.id)}${cis}`);
    lines.push(`${INDENT}${shown(result.title)}`);
    lines.push(`${INDENT}${color.dim(`found: ${shown(result.found)}; ${shown(result.reason)}`)}`);
    const waiver = waiverText(result);
    if (waiver) lines.push(`${INDENT}${(result.waiver!.expired ? color.red : color.cyan)(shown(waiver))}`);
    if (result.status === 'FAIL') lines.push(`${INDENT}fix: ${shown(fixText(result, outcome.root, planCommand))}`);
  }
  if (folded > 0) lines.push(color.dim(`${folded} not applicable to this node (--verbose lists them)`));
  if (hidden > 0) lines.push(color.dim(`${hidden} passed, ${outcome.results.some((r) => r.status === 'WAIVED' || r.status === 'NOT ASSESSED') ? 'waived, not assessed, ' : ''}manual or not applicable not shown (--failed)`));
  const { compliant } = summarize(outcome.results);
  const verdict = options.selection ? ' — the selected rules pass' : ` — complies with profile ${profile}`;
  lines.push('', `${summaryLine(outcome.results)}${compliant ? color.green(verdict) : ''}`, scoreLine(outcome.results));
  return `${lines.join('\n')}\n`;
}

/** What to run to see a failing result's fix: plan for one rule; an args file its consumer cannot use is fixed by hand. */
function fixText(result: RuleResult, root: string, planCommand: (root: string, ruleId: string) => string): string {
  if (isReaderCheck(result.id)) return 'by hand, as the reason says (harden inspect lists every finding of the file)';
  if (result.id.startsWith('cluster.agree.')) return 'make it the same on every control-plane node: harden plan and apply on the nodes that differ';
  return planCommand(root, result.id);
}

export function checkJson(outcomes: readonly CheckOutcome[]): string {
  const documents = outcomes.map((o) => [o.root, o.error ? { schema: CHECK_SCHEMA, ...o } : { schema: CHECK_SCHEMA, ...o, summary: { ...summarize(o.results), score: scoreObject(o.results) } }] as const);
  return `${jsonText(documents.length === 1 ? documents[0][1] : Object.fromEntries(documents))}\n`;
}

/** The score per severity as machine outputs carry it: `{ critical: { passed, failed, blocked, score } … }`. */
function scoreObject(results: readonly RuleResult[]): Record<string, Omit<SeverityScore, 'severity'>> {
  return Object.fromEntries(scoreBySeverity(results).map(({ severity, ...rest }) => [severity, rest]));
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
      const waiver = waiverText(r);
      const body = r.status === 'FAIL' ? `<failure message="${xml(waiver && r.waiver!.expired ? `${r.reason}; ${waiver}` : r.reason)}">${detail}</failure>`
        : r.status === 'BLOCKED' ? `<failure type="blocked" message="${xml(r.reason)}">${detail}</failure>`
        : r.status === 'WAIVED' ? `<skipped message="${xml(`WAIVED: ${waiver ?? r.reason}`)}"/>`
        : r.status === 'PASS' ? '' : `<skipped message="${xml(`${r.status}: ${r.reason}`)}"/>`;
      return `    <testcase classname="${xml(`${o.profile.name}.${r.component}`)}" name="${xml(name)}">${body}</testcase>`;
    });
    const skipped = counts.MANUAL + counts['NOT APPLICABLE'] + counts.WAIVED + counts['NOT ASSESSED'];
    // The score per severity (score.ts): `score.high` = `4/5`, left out where no rule of it was scored.
    const scores = scoreBySeverity(o.results).filter((score) => score.score !== null);
    const properties = scores.length === 0 ? '' : `    <properties>\n${scores.map((score) => `      <property name="score.${score.severity}" value="${scoreFraction(score)}"/>`).join('\n')}\n    </properties>\n`;
    return `  <testsuite name="${xml(`${o.profile.name} on ${o.root}`)}" tests="${o.results.length}" failures="${counts.FAIL + counts.BLOCKED}" errors="0" skipped="${skipped}">\n${properties}${cases.join('\n')}\n  </testsuite>`;
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
      if (r.status !== 'FAIL' && r.status !== 'BLOCKED' && r.status !== 'WAIVED') continue;
      // A waived result is still a result, suppressed with the waiver's justification (SARIF 2.1.0 §3.35).
      const suppressions = r.status === 'WAIVED' && r.waiver ? { suppressions: [{ kind: 'external', status: 'accepted', justification: r.waiver.justification, location: { physicalLocation: { artifactLocation: { uri: r.waiver.file }, region: { startLine: r.waiver.line } } }, properties: { owner: r.waiver.owner, expires: r.waiver.expires } }] } : {};
      const waiver = waiverText(r);
      results.push({
        ruleId: r.id,
        level: r.severity === 'low' ? 'note' : r.severity === 'medium' ? 'warning' : 'error',
        message: { text: `${r.status}: ${r.reason} (found ${r.found})${waiver && r.waiver!.expired ? `; ${waiver}` : ''}` },
        locations: r.file ? [{ physicalLocation: { artifactLocation: { uri: r.file }, ...(r.line ? { region: { startLine: r.line } } : {}) } }] : [],
        ...suppressions,
        properties: { root: o.root, profile: o.profile.name, status: r.status },
      });
    }
  }
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'harden', version: toolVersion, rules: [...rules.values()] } },
      ...invocations,
      results,
      // The score per severity of each node checked (score.ts), by root.
      properties: { score: Object.fromEntries(outcomes.filter((o) => !o.error).map((o) => [o.root, scoreObject(o.results)])) },
    }],
  };
  return `${jsonText(sarif)}\n`;
}
