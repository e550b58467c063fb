// `harden check --format html`: one self-contained page a security team can file and print. A summary (the node's
// facts, counts per status, the score per severity), for a fleet a node table and a rules × nodes matrix, then one
// section per rule (status, what was found where, why it matters, references, the waiver, the fix as the plan's
// diff), aggregated across nodes. Inline CSS, no script, nothing fetched (a Content-Security-Policy says so to the
// browser too); every string escaped. Pure: data in, a string out.
import { STATUSES, summarize, type RuleResult, type Status } from '../core/evaluate.js';
import type { Reference, Rule } from '../core/profile.js';
import { scoreBySeverity, scoreFraction } from '../core/score.js';
import { summaryLine, waiverText, type CheckOutcome } from './check-view.js';
import { shown } from './terminal-text.js';

/** A node's outcome and the fix of each of its failing rules (rule-fix.ts), by rule id. */
export type ReportedNode = CheckOutcome & { readonly fixes?: Readonly<Record<string, string>> };

export interface CheckHtmlInput {
  readonly nodes: readonly ReportedNode[];
  /** Every rule of the profile: where the rationale and references come from. */
  readonly rules: readonly Rule[];
  readonly toolVersion: string;
  /** --only or --skip chose the rules: a clean node then passes the selected rules, it does not comply. */
  readonly selection?: boolean;
  /** The cluster facts file the nodes were checked with (--cluster). */
  readonly cluster?: string;
}

/** Text for HTML, node strings shown as the terminal shows them (control characters escaped), then markup escaped. */
export function html(text: string): string {
  return shown(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}
const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** The CSS class of a status: `pass`, `not-assessed`, `not-applicable`. */
function slug(status: Status): string {
  return status.toLowerCase().replace(' ', '-');
}

const badge = (status: Status) => `<span class="st ${slug(status)}">${status}</span>`;

export function checkHtml(input: CheckHtmlInput): string {
  const fleet = input.nodes.length > 1;
  const profile = input.nodes[0]?.profile;
  const profileName = profile ? profile.label ?? profile.name : '';
  const title = fleet ? `harden check: profile ${profileName} on ${input.nodes.length} nodes` : `harden check: profile ${profileName} on ${input.nodes[0]?.root ?? ''}`;
  const body = [
    `<header><h1>${html(title)}</h1><p class="meta">harden ${html(input.toolVersion)} · profile ${html(profileName)} (${html(profile?.source ?? '')})${input.cluster ? ` · cluster facts ${html(input.cluster)}` : ''}</p></header>`,
    fleet ? fleetSummary(input) : nodeSummary(input.nodes[0], input),
    fleet ? matrix(input.nodes) : '',
    ruleSections(input),
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${html(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body.filter((part) => part !== '').join('\n')}
</body>
</html>
`;
}

/** One node: its facts, the verdict, counts per status and the score per severity. */
function nodeSummary(node: ReportedNode | undefined, input: CheckHtmlInput): string {
  if (!node) return '<section id="summary"><h2>Summary</h2><p>No node was checked.</p></section>';
  const facts = [
    ['Root', html(node.root)],
    ['MicroK8s', html(node.version ?? 'version unknown')],
    ['Profile', `${html(node.profile.label ?? node.profile.name)} (${html(node.profile.source)})`],
    ['Verdict', verdict(node, input)],
  ];
  const rows = facts.map(([name, value]) => `<tr><th scope="row">${name}</th><td>${value}</td></tr>`).join('');
  const tables = node.error ? '' : `\n<div class="tables">${countsTable(node.results)}${scoreTable(node.results)}</div>`;
  return `<section id="summary"><h2>Summary</h2>\n<table class="facts">${rows}</table>${tables}</section>`;
}

function verdict(node: ReportedNode, input: CheckHtmlInput): string {
  if (node.error) return `<span class="st fail">not checked</span> error: ${html(node.error.message)}${node.error.hint ? `<br>hint: ${html(node.error.hint)}` : ''}`;
  const { compliant } = summarize(node.results);
  const complies = input.selection ? 'the selected rules pass' : `complies with profile ${html(node.profile.label ?? node.profile.name)}`;
  return `${compliant ? `<strong class="ok">${complies}</strong>` : '<strong class="bad">does not comply</strong>'}<br>${html(summaryLine(node.results))}`;
}

function countsTable(results: readonly RuleResult[]): string {
  const { counts } = summarize(results);
  const rows = STATUSES.map((status) => `<tr><td>${badge(status)}</td><td class="n">${counts[status]}</td></tr>`).join('');
  return `<table class="counts"><caption>Rules per status</caption><thead><tr><th>Status</th><th>Rules</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function scoreTable(results: readonly RuleResult[]): string {
  const rows = scoreBySeverity(results).map((score) => {
    const value = score.score === null ? '<td class="n">—</td><td>nothing scored</td>' : `<td class="n">${scoreFraction(score)}</td><td>${percent(score.score)}</td>`;
    return `<tr><th scope="row">${score.severity}</th>${value}</tr>`;
  }).join('');
  return `<table class="score"><caption>Score per severity</caption><thead><tr><th>Severity</th><th>Passed</th><th>Score</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const percent = (score: number) => `${Math.floor(score * 100)}%`;

/** A fleet: the counts over every node, then one row per node (numbered as the matrix's columns). */
function fleetSummary(input: CheckHtmlInput): string {
  const checked = input.nodes.filter((node) => !node.error);
  const all = checked.flatMap((node) => node.results);
  const complying = checked.filter((node) => summarize(node.results).compliant).length;
  const failed = input.nodes.length - checked.length;
  const line = `${input.nodes.length} nodes: ${complying} ${input.selection ? 'pass the selected rules' : 'comply'}, ${checked.length - complying} do not${failed > 0 ? `, ${failed} could not be checked` : ''}`;
  const head = `<tr><th>#</th><th>Root</th><th>MicroK8s</th><th>Verdict</th>${STATUSES.map((status) => `<th>${badge(status)}</th>`).join('')}<th>Score</th></tr>`;
  const rows = input.nodes.map((node, index) => {
    const cells = node.error
      ? `<td colspan="${STATUSES.length + 2}">${verdict(node, input)}</td>`
      : `<td>${summarize(node.results).compliant ? '<span class="ok">complies</span>' : '<span class="bad">does not comply</span>'}</td>${STATUSES.map((status) => `<td class="n">${summarize(node.results).counts[status]}</td>`).join('')}<td>${scoreText(node.results)}</td>`;
    return `<tr id="n${index + 1}"><td class="n">${index + 1}</td><td>${html(node.root)}</td><td>${html(node.version ?? 'unknown')}</td>${cells}</tr>`;
  }).join('\n');
  return `<section id="summary"><h2>Summary</h2>\n<p><strong>${html(line)}</strong></p>\n<div class="tables">${countsTable(all)}${scoreTable(all)}</div>\n<h3>Nodes</h3>\n<div class="wide"><table class="nodes"><thead>${head}</thead><tbody>\n${rows}\n</tbody></table></div></section>`;
}

function scoreText(results: readonly RuleResult[]): string {
  const scored = scoreBySeverity(results).filter((score) => score.score !== null);
  return scored.length === 0 ? '—' : scored.map((score) => `${score.severity} ${scoreFraction(score)}`).join(', ');
}

/** The rule ids of every node, in the order the nodes report them (a rule only some nodes have comes where first seen). */
function ruleIdsOf(nodes: readonly ReportedNode[]): string[] {
  const ids = new Set<string>();
  for (const node of nodes) for (const result of node.results) ids.add(result.id);
  return [...ids];
}

/** Rules × nodes: each cell the node's status for the rule; `—` where the node has no such result. */
function matrix(nodes: readonly ReportedNode[]): string {
  const byNode = nodes.map((node) => new Map(node.results.map((result) => [result.id, result.status])));
  const head = `<tr><th>Rule</th>${nodes.map((node, index) => `<th title="${html(node.root)}"><a href="#n${index + 1}">${index + 1}</a></th>`).join('')}</tr>`;
  const rows = ruleIdsOf(nodes).map((id) => {
    const cells = byNode.map((statuses, index) => {
      const status = statuses.get(id);
      return status ? `<td class="${slug(status)}">${status}</td>` : `<td class="none">${nodes[index].error ? 'not checked' : '—'}</td>`;
    }).join('');
    return `<tr><th scope="row"><a href="#${anchor(id)}">${html(id)}</a></th>${cells}</tr>`;
  }).join('\n');
  return `<section id="matrix"><h2>Rules × nodes</h2>\n<p class="meta">Columns are the nodes numbered in the summary.</p>\n<div class="wide"><table class="matrix"><thead>${head}</thead><tbody>\n${rows}\n</tbody></table></div></section>`;
}

const anchor = (id: string) => `rule-${encodeURIComponent(id).replace(/%/g, '_')}`;

/** What needs work first: a rule's section comes where its worst status on any node puts it, in profile order within. */
const SECTION_ORDER: readonly Status[] = ['FAIL', 'BLOCKED', 'NOT ASSESSED', 'WAIVED', 'MANUAL', 'PASS', 'NOT APPLICABLE'];

/** One section per rule; in a fleet, the nodes that found the same thing (status, value, reason, waiver, fix) together. */
function ruleSections(input: CheckHtmlInput): string {
  const rules = new Map(input.rules.map((rule) => [rule.id, rule]));
  const fleet = input.nodes.length > 1;
  const byNode = input.nodes.map((node) => new Map(node.results.map((result) => [result.id, result])));
  const rank = (id: string) => {
    let worst = SECTION_ORDER.length;
    for (const results of byNode) {
      const result = results.get(id);
      if (result) worst = Math.min(worst, SECTION_ORDER.indexOf(result.status));
    }
    return worst;
  };
  const sections = ruleIdsOf(input.nodes).map((id) => ({ id, rank: rank(id) })).sort((a, b) => a.rank - b.rank).map(({ id }) => {
    const groups = new Map<string, { result: RuleResult; fix: string | undefined; nodes: number[] }>();
    for (const [index, node] of input.nodes.entries()) {
      const result = byNode[index].get(id);
      if (!result) continue;
      const fix = node.fixes?.[id];
      const key = JSON.stringify([result.status, result.found, result.reason, result.file, result.line, waiverText(result), fix]);
      const group = groups.get(key) ?? { result, fix, nodes: [] };
      group.nodes.push(index + 1);
      groups.set(key, group);
    }
    const first = [...groups.values()][0].result;
    const rule = rules.get(id);
    const statuses = [...new Set([...groups.values()].map((group) => group.result.status))];
    const cis = first.cis.length > 0 ? ` · CIS ${html(first.cis.join(', '))}` : '';
    const heading = fleet ? statusesLine(groups) : badge(first.status);
    const about = [
      `<p class="title">${html(first.title)} <span class="meta">${html(first.severity)} · ${html(first.component)}${cis}</span></p>`,
      rule?.rationale ? `<p><strong>Rationale.</strong> ${html(rule.rationale)}</p>` : '',
      rule?.references?.length ? `<p><strong>References.</strong></p><ul class="refs">${rule.references.map((reference) => `<li>${referenceText(reference)}</li>`).join('')}</ul>` : '',
    ];
    const found = [...groups.values()].map((group) => findings(group, fleet)).join('\n');
    const classes = statuses.length === 1 ? slug(statuses[0]) : 'mixed';
    return `<section class="rule ${classes}" id="${anchor(id)}"><h3>${heading} <code>${html(id)}</code></h3>\n${about.filter((part) => part !== '').join('\n')}\n${found}</section>`;
  });
  return `<section id="rules"><h2>Rules</h2>\n<p class="meta">What needs work first: failed, blocked, not assessed, waived, manual, passed, then not applicable.</p>\n${sections.join('\n')}\n</section>`;
}

/** `FAIL on 2 nodes, PASS on 1`. */
function statusesLine(groups: ReadonlyMap<string, { result: RuleResult; nodes: number[] }>): string {
  const counts = new Map<Status, number>();
  for (const group of groups.values()) counts.set(group.result.status, (counts.get(group.result.status) ?? 0) + group.nodes.length);
  return STATUSES.filter((status) => counts.has(status)).map((status) => `${badge(status)} on ${counts.get(status)} ${counts.get(status) === 1 ? 'node' : 'nodes'}`).join(', ');
}

/** What some nodes found for a rule: the value and where, why, the waiver, the fix. */
function findings(group: { result: RuleResult; fix: string | undefined; nodes: number[] }, fleet: boolean): string {
  const { result, fix } = group;
  const where = result.file ? ` in <code>${html(result.file)}</code>${result.line ? ` line ${result.line}` : ''}` : '';
  const waiver = waiverText(result);
  const rows = [
    fleet ? `<dt>${badge(result.status)}</dt><dd>${group.nodes.length === 1 ? 'node' : 'nodes'} ${nodeList(group.nodes)}</dd>` : '',
    `<dt>Found</dt><dd><code>${html(result.found)}</code>${where}</dd>`,
    `<dt>Why</dt><dd>${html(result.reason)}</dd>`,
    waiver ? `<dt>Waiver</dt><dd class="${result.waiver?.expired ? 'bad' : ''}">${html(waiver)}</dd>` : '',
    fix !== undefined ? `<dt>Fix</dt><dd>what <code>harden plan</code> changes for this rule:<pre class="diff">${diffHtml(fix)}</pre></dd>` : '',
  ];
  return `<dl class="found">${rows.filter((row) => row !== '').join('')}</dl>`;
}

/** `1–3, 7`: node numbers as ranges, each linking to its row in the summary. */
function nodeList(numbers: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length; i += 1) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j += 1;
    parts.push(j === i ? `<a href="#n${numbers[i]}">${numbers[i]}</a>` : `<a href="#n${numbers[i]}">${numbers[i]}</a>–<a href="#n${numbers[j]}">${numbers[j]}</a>`);
    i = j;
  }
  return parts.join(', ');
}

/** The plan's text, its added and removed lines marked (the text is already escaped by planText; escaped again for HTML). */
function diffHtml(text: string): string {
  return text.replace(/\n$/, '').split('\n').map((line) => {
    const escaped = line.replace(/[&<>"']/g, (c) => ESCAPES[c]);
    if (/^ {4}\+ /.test(line) || /^\+ /.test(line)) return `<ins>${escaped}</ins>`;
    if (/^ {4}- /.test(line) || /^- /.test(line)) return `<del>${escaped}</del>`;
    if (/^ {4}@@ /.test(line)) return `<span class="hunk">${escaped}</span>`;
    return escaped;
  }).join('\n');
}

function referenceText(reference: Reference): string {
  if ('cis' in reference) return `CIS ${html(reference.cis)} (${html(reference.benchmark)})${reference.automated === false ? ', manual in the benchmark' : ''}`;
  // Only web addresses are links; anything else a profile says is shown as text.
  const doc = /^https?:\/\//.test(reference.doc) ? `<a href="${html(reference.doc)}">${html(reference.doc)}</a>` : html(reference.doc);
  return reference.title ? `${html(reference.title)}: ${doc}` : doc;
}

const CSS = `
:root{--pass:#1a7f37;--fail:#cf222e;--blocked:#9a6700;--waived:#0969da;--manual:#1b7c83;--not-assessed:#8250df;--not-applicable:#6e7781}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:1em 1.5em;max-width:72em;color:#1f2328;background:#fff}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.25em;border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:1.5em}h3{font-size:1.05em;margin:0 0 .3em}
code,pre{font:12.5px/1.4 ui-monospace,"DejaVu Sans Mono",monospace}code{overflow-wrap:anywhere}
.meta{color:#57606a;font-size:.9em}
table{border-collapse:collapse}th,td{border:1px solid #d0d7de;padding:.2em .5em;text-align:left;vertical-align:top}caption{text-align:left;font-weight:600;padding:.3em 0}
.n{text-align:right;font-variant-numeric:tabular-nums}
.facts th{background:#f6f8fa}.tables{display:flex;flex-wrap:wrap;align-items:flex-start;gap:2em;margin-top:1em}
.wide{overflow-x:auto}
.st{display:inline-block;padding:0 .45em;border-radius:.8em;color:#fff;font-size:.8em;font-weight:600;white-space:nowrap}
.st.pass,.matrix .pass{background:var(--pass)}.st.fail,.matrix .fail{background:var(--fail)}.st.blocked,.matrix .blocked{background:var(--blocked)}
.st.waived,.matrix .waived{background:var(--waived)}.st.manual,.matrix .manual{background:var(--manual)}
.st.not-assessed,.matrix .not-assessed{background:var(--not-assessed)}.st.not-applicable,.matrix .not-applicable{background:var(--not-applicable)}
.matrix td{color:#fff;font-size:.7em;white-space:nowrap;padding:.1em .3em}.matrix td.none{color:#57606a}.matrix th{font-size:.8em;white-space:nowrap}
.ok{color:var(--pass)}.bad{color:var(--fail)}
.rule{border:1px solid #d0d7de;border-left:.4em solid var(--not-applicable);border-radius:4px;padding:.6em .9em;margin:.8em 0}
.rule.pass{border-left-color:var(--pass)}.rule.fail,.rule.mixed{border-left-color:var(--fail)}.rule.blocked{border-left-color:var(--blocked)}
.rule.waived{border-left-color:var(--waived)}.rule.manual{border-left-color:var(--manual)}.rule.not-assessed{border-left-color:var(--not-assessed)}
.rule p{margin:.3em 0}.refs{margin:.2em 0;padding-left:1.5em}
.found{display:grid;grid-template-columns:max-content 1fr;gap:.15em .8em;margin:.5em 0;padding-top:.4em;border-top:1px dashed #d0d7de}.found dt{font-weight:600}.found dd{margin:0;min-width:0}
pre.diff{background:#f6f8fa;padding:.5em;margin:.3em 0;overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere}
pre.diff ins,pre.diff del{text-decoration:none;display:inline-block;min-width:100%}pre.diff ins{color:#116329;background:#dafbe1}pre.diff del{color:#82071e;background:#ffebe9}pre.diff .hunk{color:#0550ae}
@media print{
body{max-width:none;padding:0;font-size:10pt}a{color:inherit;text-decoration:none}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.wide{overflow:visible}.rule,tr{break-inside:avoid}h2,h3{break-after:avoid}
pre.diff{white-space:pre-wrap}.matrix td,.matrix th{font-size:6pt;padding:0 .15em}
}
`.trim();
