// From an argv to the flags a component ends up with: the last occurrence of a plain flag wins, list flags
// accumulate, a word that is not a flag or a flag's value is a stray argument.
import type { Component } from './consumers.js';
import { FindingList, FINDINGS_PER_CODE, quoted, type Finding } from './finding.js';
import { KUBERNETES_COMPONENTS, isBooleanFlag, isListFlag } from './flag-types.js';
import type { ArgvWord } from './reader.js';

export interface FlagOccurrence {
  readonly name: string;
  /** The value, or null for a bare flag (`--client-cert-auth`). */
  readonly value: string | null;
  readonly line: number;
}

export interface EffectiveFlag {
  readonly name: string;
  /** What the component uses: the last value, or for a list flag every value joined with ','. */
  readonly value: string | null;
  readonly list: boolean;
  /** Every occurrence, in file order. */
  readonly occurrences: readonly FlagOccurrence[];
}

export interface EffectiveFlags {
  readonly flags: ReadonlyMap<string, EffectiveFlag>;
  readonly stray: readonly ArgvWord[];
  readonly findings: readonly Finding[];
}

export function effectiveFlags(argv: readonly ArgvWord[], component: Component | null, findingsPerCode?: number): EffectiveFlags {
  const occurrences: FlagOccurrence[] = [];
  const stray: ArgvWord[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const word = argv[i];
    if (!isFlagWord(word.value)) {
      stray.push(word);
      continue;
    }
    const equals = word.value.indexOf('=');
    if (equals !== -1) {
      occurrences.push({ name: word.value.slice(0, equals), value: word.value.slice(equals + 1), line: word.line });
      continue;
    }
    const next = argv[i + 1];
    if (next && !isFlagWord(next.value) && !isBooleanFlag(word.value)) {
      occurrences.push({ name: word.value, value: next.value, line: word.line });
      i += 1;
    } else {
      occurrences.push({ name: word.value, value: null, line: word.line });
    }
  }

  const byName = new Map<string, FlagOccurrence[]>();
  for (const occurrence of occurrences) {
    const list = byName.get(occurrence.name) ?? [];
    list.push(occurrence);
    byName.set(occurrence.name, list);
  }

  const flags = new Map<string, EffectiveFlag>();
  const findings = new FindingList({ limit: findingsPerCode });
  for (const [name, all] of byName) {
    const list = isListFlag(component, name);
    const value = list ? all.map((o) => o.value ?? '').join(',') : all[all.length - 1].value;
    flags.set(name, { name, value, list, occurrences: all });
    if (all.length > 1) addRepeatFindings(findings, name, all, list);
  }
  const strayError = component !== null && KUBERNETES_COMPONENTS.includes(component);
  for (const word of stray) {
    if (findings.admits('stray-argument')) findings.add(strayFinding(word, component));
    else findings.count('stray-argument', strayError ? 'error' : 'warning', word.line);
  }
  return { flags, stray, findings: findings.list() };
}

function isFlagWord(value: string): boolean {
  return value.length > 1 && value.startsWith('-');
}

function addRepeatFindings(findings: FindingList, name: string, all: readonly FlagOccurrence[], list: boolean): void {
  const last = all[all.length - 1];
  if (list) {
    if (!findings.admits('repeated-list-flag')) return findings.count('repeated-list-flag', 'info', all[0].line);
    // A flag repeated thousands of times is named by its first lines and values, not by all of them.
    const shown = all.length > FINDINGS_PER_CODE ? all.slice(0, FINDINGS_PER_CODE) : all;
    const more = all.length - shown.length;
    const lines = `${shown.map((o) => o.line).join(', ')}${more > 0 ? ` and ${more} more lines` : ''}`;
    const values = `${shown.map((o) => o.value ?? '').join(',')}${more > 0 ? `, and the values of the ${more} more` : ''}`;
    findings.add({
      code: 'repeated-list-flag',
      severity: 'info',
      line: all[0].line,
      message: `${name} appears on lines ${lines}: the values accumulate (${values})`,
    });
    return;
  }
  for (let index = 0; index < all.length - 1; index += 1) {
    const o = all[index];
    if (!findings.admits('repeated-flag')) {
      findings.count('repeated-flag', 'warning', o.line);
      continue;
    }
    findings.add({
      code: 'repeated-flag',
      severity: 'warning',
      line: o.line,
      message: o.value === last.value
        ? `${name} is set again on line ${last.line}: this line is redundant (the last occurrence wins)`
        : `${name} is set again on line ${last.line}: this value is silently ignored (the last occurrence wins)`,
    });
  }
}

function strayFinding(word: ArgvWord, component: Component | null): Finding {
  const kubernetes = component !== null && KUBERNETES_COMPONENTS.includes(component);
  return {
    code: 'stray-argument',
    severity: kubernetes ? 'error' : 'warning',
    line: word.line,
    message: kubernetes
      ? `${quoted(word.value)} is not a flag: ${component} takes no arguments and does not start`
      : `${quoted(word.value)} is not a flag nor a flag's value: ${component ?? 'the consumer'} may refuse it`,
  };
}

