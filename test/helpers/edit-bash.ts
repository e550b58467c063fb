// Edits of bash-read args files, read afterwards by real bash: the property behind test/property/edit-bash.test.ts
// and bench/edit-bash.js. Each case is an args file that bash reads without running anything, full of payloads
// that would run if they left their quotes (`$(touch M)`, backticks), quoted strings that span lines and hold
// flag lines, comments with quotes in them and backslash continuations; then a random subset of the shipped
// profiles' flag rules is applied to it as `plan` does (editArgsFile, then checkEditedFile). Real bash reads the
// original and the edited file as MicroK8s' wrappers do, many files in one bash process: the original must run
// nothing, and an edit the check lets through must run nothing either.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Component } from '../../src/core/consumers.js';
import { editArgsFile, type FlagEdit } from '../../src/core/edit-args.js';
import { checkEditedFile, type EditProblem } from '../../src/core/edit-check.js';
import type { Rule } from '../../src/core/profile.js';
import { isBooleanFlag } from '../../src/core/flag-types.js';
import type { ReaderEnv } from '../../src/core/reader.js';
import { loadProfile } from '../../src/effects/profile-store.js';
import { between, chance, makeRng, pick, subset, type Rng } from './prng.js';

const SNAP_VARS = { SNAP: '/snap/microk8s/1379', SNAP_DATA: '/var/snap/microk8s/1379', SNAP_COMMON: '/var/snap/microk8s/common' };
/** As plan reads a node's files: unknown variables kept as written. */
export const EDIT_ENV: ReaderEnv = { vars: SNAP_VARS, unknownVariables: 'keep' };
const BASH_ENV = { PATH: '/usr/bin:/bin', HOME: '/root', ...SNAP_VARS };

/** The file every payload of a case would create, relative to the directory bash reads in. */
export const markerOf = (index: number) => `M${index}`;

/** The shipped profiles' flag rules: what `apply` may edit. */
export async function flagRules(): Promise<Rule[]> {
  const rules: Rule[] = [];
  for (const name of ['baseline', 'cis', 'cis-1-12']) {
    for (const rule of (await loadProfile(name)).rules) if (rule.flag !== undefined) rules.push(rule);
  }
  return rules;
}

export interface EditCase {
  readonly component: Component;
  readonly before: string;
  readonly edits: readonly FlagEdit[];
}

const COMPONENTS: readonly Component[] = ['kube-scheduler', 'kube-apiserver', 'kube-controller-manager', 'kubelet', 'kube-proxy', 'etcd'];
/** Flags no shipped rule edits. */
const OTHER_FLAGS = ['--v', '--log-dir', '--kube-api-qps', '--logtostderr'];
const PLAIN_VALUES = ['true', 'false', '127.0.0.1', '${SNAP_DATA}/credentials/scheduler.config', '$SNAP_DATA/certs/ca.crt', '0', 'RBAC,Node', '"quoted value"', "'x'"];

/** A payload that runs `touch <marker>` if it leaves its quotes, written so that inside `quote` it is inert. */
function payload(rng: Rng, marker: string, quote: "'" | '"'): string {
  const command = `touch ${marker}`;
  if (quote === '"') return pick(rng, [`\\$(${command})`, `\\\`${command}\\\``, `\\$(${command}) #`, `'\\$(${command})'`]);
  return pick(rng, [`$(${command})`, `\`${command}\``, `$(${command}) #`, `"$(${command})"`]);
}

function flagName(rng: Rng, flags: readonly string[]): string {
  return chance(rng, 0.8) ? pick(rng, flags) : pick(rng, OTHER_FLAGS);
}

/** A line that reads as one flag on its own: `--flag=value`, `--flag value`, a bare flag, maybe a comment. */
function plainFlagLine(rng: Rng, flags: readonly string[], marker: string): string {
  const name = flagName(rng, flags);
  const kind = rng();
  // `--flag value` only where the value is not taken for a word of its own (pflag's booleans take no next word).
  const spaced = kind >= 0.6 && kind < 0.8 && !isBooleanFlag(name);
  let line = spaced ? `${name} ${pick(rng, PLAIN_VALUES)}` : kind < 0.8 ? `${name}=${pick(rng, PLAIN_VALUES)}` : name;
  if (chance(rng, 0.15)) line += ` ${name}='${payload(rng, marker, "'")}'`;
  if (chance(rng, 0.15)) line += ` # ${pick(rng, ["it's", 'a "b', `$(touch ${marker})`, '`x'])}`;
  return line;
}

/** Lines inside a quoted string opened by the line before: flag lines, payloads, comment-like lines. */
function insideQuote(rng: Rng, flags: readonly string[], marker: string, quote: "'" | '"'): string {
  const kind = rng();
  const other = quote === "'" ? '"' : "'";
  if (kind < 0.35) return `${flagName(rng, flags)}=${pick(rng, ['true', 'false', '1'])}`;
  if (kind < 0.65) return payload(rng, marker, quote);
  if (kind < 0.8) return `# ${other} ${payload(rng, marker, quote)}`;
  return `${flagName(rng, flags)}=${other}${payload(rng, marker, quote)}`;
}

/**
 * An args file bash reads without running anything: mostly flag lines, with quoted strings that span lines
 * (opened on a flag line, holding flag lines and payloads, closed on a later line, perhaps followed by more
 * words), payloads in quotes, comments with quotes, continuations; now and then a harmless `$(:)`, an error
 * that must stop any edit of the file, or a decoy line holding every payload quoted.
 */
export function generateEditCase(rng: Rng, rules: readonly Rule[], index: number): EditCase {
  const marker = markerOf(index);
  const chosen = subset(rng, rules, 0.25);
  const flags = [...new Set((chosen.length > 0 ? chosen : [pick(rng, rules)]).map((rule) => rule.flag!))];
  // Chunks of lines bash reads as a whole: a decoy goes between them, never inside a quoted string.
  const chunks: string[][] = [];
  for (let n = between(rng, 2, 9); n > 0; n -= 1) {
    const kind = rng();
    if (kind < 0.45) chunks.push([plainFlagLine(rng, flags, marker)]);
    else if (kind < 0.8) {
      // A quoted string across lines: its lines name the edited flags (bait) or only others.
      const names = chance(rng, 0.25) ? flags : OTHER_FLAGS;
      const quote = chance(rng, 0.6) ? "'" : '"';
      const opener = flagName(rng, names);
      // The report's file: the same flag just before, with every payload quoted, which an edit removes as a duplicate.
      const lines = names === flags && chance(rng, 0.5) ? [decoy(opener, marker)] : [];
      lines.push(`${opener}=${pick(rng, ['true', '', 'x'])}${quote}${chance(rng, 0.3) ? payload(rng, marker, quote) : ''}`);
      for (let inner = between(rng, 0, 3); inner > 0; inner -= 1) lines.push(insideQuote(rng, names, marker, quote));
      lines.push(`${chance(rng, 0.5) ? payload(rng, marker, quote) : 'x'} #${quote}${chance(rng, 0.3) ? ` ${flagName(rng, names)}=1` : ''}`);
      chunks.push(lines);
    } else if (kind < 0.9) {
      chunks.push([`# ${pick(rng, ["it's", 'say "hi', `$(touch ${marker})`, '`'])}`]);
    } else if (kind < 0.98) {
      chunks.push([`${flagName(rng, chance(rng, 0.3) ? flags : OTHER_FLAGS)}=1 \\`, plainFlagLine(rng, flags, marker)]);
    } else {
      chunks.push([`${flagName(rng, flags)}=true $(:)`]);
    }
  }
  if (chance(rng, 0.05)) chunks.splice(between(rng, 0, chunks.length), 0, [decoy(flagName(rng, flags), marker)]);
  const before = chunks.flat().join('\n') + (chance(rng, 0.9) ? '\n' : '');
  return { component: pick(rng, COMPONENTS), before, edits: editsOf(chosen.length > 0 ? chosen : rules.filter((r) => r.flag === flags[0])) };
}

/**
 * A decoy: a flag line with every payload quoted as a word of its own and harmless substitutions, so that any
 * finding or word a freed payload would give already stands in the original (what a comparison of messages missed).
 */
function decoy(flag: string, marker: string): string {
  return `${flag}=true '$(touch ${marker})' '\`touch ${marker}\`' '"$(touch ${marker})"' '\\$(touch ${marker})' $(:) \`:\``;
}

/** One edit per flag, as plan makes of a subset of rules (the first rule of a flag decides). */
function editsOf(rules: readonly Rule[]): FlagEdit[] {
  const byFlag = new Map<string, FlagEdit>();
  for (const rule of rules) {
    const flag = rule.flag!;
    if (byFlag.has(flag)) continue;
    if (rule.operation === 'set-flag') byFlag.set(flag, { kind: 'set', flag, value: rule.value ?? null, ruleId: rule.id });
    else if (rule.operation === 'include-items') byFlag.set(flag, { kind: 'set', flag, value: rule.items!.join(','), ruleId: rule.id });
    else byFlag.set(flag, { kind: 'remove', flag, ruleId: rule.id });
  }
  return [...byFlag.values()];
}

export interface EditOutcome {
  readonly after: string;
  readonly problems: readonly EditProblem[];
  /** Whether the check lets the edit through (plan would write it). */
  readonly applied: boolean;
}

export function editAndCheck(c: EditCase): EditOutcome {
  const { text: after } = editArgsFile(c.before, c.edits);
  if (after === c.before) return { after, problems: [], applied: false };
  const problems = checkEditedFile(c.before, after, { reader: 'bash', component: c.component, env: EDIT_ENV, expect: c.edits });
  return { after, problems, applied: problems.length === 0 };
}

/**
 * For each file, in one bash process, what MicroK8s' wrappers run, in a subshell (bash may give up on a file):
 * `declare -a args="($(cat "$file"))"`, with `$(<file)` for `$(cat file)`: the same text (trailing newlines
 * stripped, NUL bytes dropped) without starting cat thousands of times.
 */
const READ_EACH_FILE = ['for __file; do', '  ( declare -a args="($(<"$__file"))" ) 2>/dev/null', 'done'].join('\n');

/** Real bash reads every text in one process, in an empty directory; the indices whose marker appeared there. */
export function markersBashCreates(texts: readonly { readonly index: number; readonly text: string }[]): Set<number> {
  const work = mkdtempSync(path.join(tmpdir(), 'harden-edit-bash-'));
  try {
    const files = texts.map(({ text }, n) => {
      const file = path.join(work, `file-${n}`);
      writeFileSync(file, text);
      return file;
    });
    const cwd = path.join(work, 'cwd');
    mkdirSync(cwd);
    if (files.length > 0) {
      const result = spawnSync('/bin/bash', ['--norc', '--noprofile', '-c', READ_EACH_FILE, '_', ...files], { cwd, env: BASH_ENV, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      if (result.error) throw result.error;
    }
    const created = new Set(readdirSync(cwd));
    return new Set(texts.filter(({ index }) => created.has(markerOf(index))).map(({ index }) => index));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Each file's words as real bash gives them to the wrapper, null where bash gave up on the file; every file in a
 * subshell of one bash process, in an empty directory.
 */
export function argvOfRealBash(texts: readonly string[]): (string[] | null)[] {
  const work = mkdtempSync(path.join(tmpdir(), 'harden-edit-bash-'));
  try {
    const files = texts.map((text, n) => {
      const file = path.join(work, `file-${n}`);
      writeFileSync(file, text);
      return file;
    });
    const cwd = path.join(work, 'cwd');
    mkdirSync(cwd);
    const script = [
      '__n=0',
      'for __file; do',
      '  ( declare -a args="($(<"$__file"))" && printf "%s\\0" "${#args[@]}" "${args[@]}" >"../out-$__n" ) 2>/dev/null',
      '  __n=$((__n + 1))',
      'done',
    ].join('\n');
    const result = spawnSync('/bin/bash', ['--norc', '--noprofile', '-c', script, '_', ...files], { cwd, env: BASH_ENV, encoding: 'utf8' });
    if (result.error) throw result.error;
    return files.map((_, n) => {
      const out = path.join(work, `out-${n}`);
      if (!existsSync(out)) return null;
      const records = readFileSync(out, 'utf8').split('\0');
      const argv = records.slice(1, -1);
      return argv.length === Number(records[0]) ? argv : null;
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface CaseResult {
  readonly seed: number;
  readonly input: EditCase;
  readonly outcome: EditOutcome;
  /** Real bash ran a payload of the edited file (false when unchanged, or refused and not read). */
  readonly editedRan: boolean;
  /** Real bash ran a payload of the original; only asked when the edited file ran one (null otherwise). */
  readonly originalRan: boolean | null;
}

/**
 * Generates, edits and checks every case of `seeds`. Real bash reads every edited file the check lets through,
 * one in `refusedShare` of those it refuses (to count the edits it refused that would have run a payload), and
 * the original of each edited file that ran a payload (to tell a payload the edit set free from one the
 * generator left unquoted).
 */
export function runEditCases(seeds: readonly number[], rules: readonly Rule[], refusedShare = 4): CaseResult[] {
  const inputs = seeds.map((seed, i) => generateEditCase(makeRng(seed), rules, i));
  const outcomes = inputs.map(editAndCheck);
  const read = (o: EditOutcome, index: number) => o.after !== inputs[index].before && (o.applied || index % refusedShare === 0);
  const edited = markersBashCreates(outcomes.flatMap((o, index) => (read(o, index) ? [{ index, text: o.after }] : [])));
  const originals = markersBashCreates([...edited].map((index) => ({ index, text: inputs[index].before })));
  return seeds.map((seed, i) => ({
    seed,
    input: inputs[i],
    outcome: outcomes[i],
    editedRan: edited.has(i),
    originalRan: edited.has(i) ? originals.has(i) : null,
  }));
}
