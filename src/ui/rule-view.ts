// `harden profiles show NAME RULE`: one rule whole, for a person deciding whether to apply it.
import type { Reference, Requirement, Rule } from '../core/profile.js';
import type { VersionSpan } from '../core/rule-versions.js';
import { appendAll, largest } from '../core/lists.js';
import { shown } from './terminal-text.js';

export function ruleText(rule: Rule, profile: string, spans: readonly VersionSpan[]): string {
  const lines: string[] = [`${rule.id} (profile ${profile})`, `  ${rule.title}`, ''];
  const facts: [string, string | undefined][] = [
    ['severity', rule.severity],
    ['component', rule.component],
    ['operation', operationText(rule)],
    ['applies', appliesText(rule)],
  ];
  for (const [name, value] of facts) if (value) lines.push(`  ${name.padEnd(10)} ${value}`);
  lines.push('', 'Rationale', `  ${rule.rationale}`);
  const section = (title: string, items: readonly string[]) => {
    if (items.length > 0) appendAll(lines, ['', title, ...items.map((item) => `  ${item}`)]);
  };
  section('Risks', (rule.risks ?? []).map((risk) => `- ${risk}`));
  section('References', (rule.references ?? []).map(referenceText));
  section('Requires', (rule.requires ?? []).map(requirementText));
  if (rule.explain && rule.operation !== 'manual') section('Explain', [rule.explain]);
  const width = largest(spans.map((span) => span.versions.length));
  section('Writes, by MicroK8s version', spans.map((span) => `${span.versions.padEnd(width)}  ${span.writes}`));
  return lines.map((line) => `${shown(line)}\n`).join('');
}

function operationText(rule: Rule): string {
  switch (rule.operation) {
    case 'set-flag':
      return `set-flag ${rule.flag}=${rule.value}${rule.accept ? ` (passes with ${rule.accept.op}${rule.accept.values ? ` ${rule.accept.values.join(',')}` : ''})` : ''}`;
    case 'remove-flag':
      return `remove-flag ${rule.flag}`;
    case 'include-items':
    case 'exclude-items':
      return `${rule.operation} ${rule.flag}: ${rule.items!.join(',')}`;
    case 'manual':
      return `manual: ${rule.explain ?? 'check by hand'}`;
    case 'probe':
      return `probe (${rule.probe?.check ?? 'exposure'})`;
    case 'directory':
      return `directory ${rule.path ?? ''} (${rule.mode ?? ''} ${rule.owner ?? ''}), created when missing`;
    case 'sysctl':
      return `sysctl ${Object.entries(rule.sysctls ?? {}).map(([key, value]) => `${key}=${value}`).join(', ')}: running, and persisted in ${rule.path ?? ''}`;
    default:
      return `${rule.operation} ${rule.path ?? ''}`.trim();
  }
}

function appliesText(rule: Rule): string | undefined {
  const applies = rule.applies;
  if (!applies) return undefined;
  const range = applies.versions;
  const parts = [
    range && (range.from && range.before ? `MicroK8s ${range.from} up to (not including) ${range.before}` : range.from ? `MicroK8s ${range.from} and later` : range.before ? `MicroK8s before ${range.before}` : undefined),
    applies.era && `the ${applies.era} era`,
    applies.role && `${applies.role} nodes`,
    applies.datastore && `datastore ${applies.datastore.join(' or ')}`,
  ];
  return parts.filter(Boolean).join('; ') || undefined;
}

function referenceText(reference: Reference): string {
  if ('cis' in reference) return `CIS ${reference.cis} (${reference.benchmark}${reference.automated === false ? ', manual' : ''})`;
  return reference.title ? `${reference.doc}: ${reference.title}` : reference.doc;
}

function requirementText(requirement: Requirement): string {
  const why = requirement.why ? `: ${requirement.why}` : '';
  if ('rule' in requirement) return `rule ${requirement.rule}${why}`;
  switch (requirement.fact) {
    case 'file-exists':
      return `file ${requirement.path} exists${why}`;
    case 'dir-exists':
      return `directory ${requirement.path} exists${why}`;
    case 'dir-writable':
      return `directory ${requirement.path} is writable${why}`;
    case 'sysctl':
      return `sysctl ${requirement.key} = ${requirement.value}${why}`;
    case 'signed-by':
      return `${requirement.path} signed by ${requirement.ca}${why}`;
    default:
      return `${requirement.kubeconfig} authenticates by ${requirement.auth}${why}`;
  }
}
