// A plan for people (a Terraform-like text: legend, diffs, summary line) and for machines (one JSON
// document, which is also the saved plan file), from the same object; and the saved file read back.
import { structuredPatch } from 'diff';
import { changesAnything, PLAN_SCHEMA, type Plan, type PlanEdit, type PlanFile, type PlanNote, type ProfileIdentity } from '../core/plan.js';
import { describePlanError, type PlanValidator } from '../core/plan-schema.js';
import type { RootIdentity } from '../core/root-identity.js';
import { builtin } from '../lazy.js';
import type { Palette } from './color.js';
import { jsonText, shown } from './terminal-text.js';
import { appendAll } from '../core/lists.js';
import { SYSCTL_DIRS } from '../core/sysctl.js';

/** Where, when and from what a plan was made: saved with it, so that `apply` can tell if the node moved. */
export interface PlanOrigin {
  /** The --root the plan was made on, as given. */
  readonly root: string;
  /** Which node that root is (its real path, revision and machine-id): `apply` refuses the plan on another. */
  readonly identity: RootIdentity;
  readonly toolVersion: string;
  /** ISO 8601. */
  readonly createdAt: string;
  /** Every args-dir file the plan read, by node path: `sha256:<hex>` of its content; and every entry file-mode rules planned from (`<path> (mode and owner)`: type, mode, owner, inode). */
  readonly inputs: Readonly<Record<string, string>>;
  /** Why each failing rule fails now, by rule id: the reason shown beside each changed line. */
  readonly reasons: Readonly<Record<string, string>>;
  /** The ids of the rules the plan was made from (the profile after --only and --skip). */
  readonly rules: readonly string[];
  /** --waivers: the files' sha256 (`apply PLAN` is given the same ones) and the rules they waive, not planned. */
  readonly waivers?: PlanWaivers;
}

/** What a plan made with --waivers records of them. */
export interface PlanWaivers {
  readonly files: readonly string[];
  readonly sha256: string;
  readonly waived: readonly WaivedRule[];
}

/** A rule a waiver excuses: left alone by the plan, and shown in its "Waived:" section. */
export interface WaivedRule {
  readonly ruleId: string;
  readonly justification: string;
  readonly owner: string | null;
  readonly expires: string | null;
  readonly file: string;
  readonly line: number;
}

/** The JSON document: the plan and its origin, sealed with the sha256 of the rest. */
export type PlanDocument = Plan & PlanOrigin & { readonly sha256: string };

export interface PlanTextOptions {
  readonly root: string;
  readonly reasons?: Readonly<Record<string, string>>;
  /** --only or --skip chose the rules: "No changes" then says the selected rules pass, not that the node complies. */
  readonly selection?: boolean;
  /** The rules waivers excuse (left alone): the "Waived:" section. */
  readonly waived?: readonly WaivedRule[];
}

const CONTEXT_LINES = 3;

export function planText(plan: Plan, color: Palette, options: PlanTextOptions): string {
  const reasons = options.reasons ?? {};
  // Paths, file lines, values and the texts of the profile and of a saved plan are shown escaped.
  const out: string[] = [color.bold(`Plan for ${shown(profileLabel(plan.profile))} on ${shown(options.root)} (MicroK8s ${shown(plan.node.version ?? 'version unknown')})`)];
  if (plan.cluster) out.push(`With cluster facts ${plan.cluster.file === '-' ? 'from standard input' : shown(plan.cluster.file)} (sha256 ${plan.cluster.sha256.replace(/^sha256:/, '').slice(0, 16)}…)`);
  out.push('');
  const changes = changesAnything(plan);
  if (changes) out.push(`Symbols: ${color.green('+ add')}, ${color.yellow('~ change')}, ${color.red('- remove')}`, '');

  for (const file of plan.files) appendAll(out, fileDiff(file, color, reasons)).push('');

  if (plan.companions.length > 0) {
    out.push(color.bold('Files to create:'));
    for (const companion of plan.companions) {
      out.push(color.green(`+ ${shown(companion.path)} (${shown(companion.mode)}, from ${shown(companion.template)})`));
      out.push(color.dim(`    # ${shown(companion.ruleId)}`));
    }
    out.push('');
  }
  if (plan.modes.length > 0) {
    out.push(color.bold('Modes and owners:'));
    for (const change of plan.modes) {
      const parts = [
        ...(change.mode ? [`mode ${change.mode.from} -> ${change.mode.to}`] : []),
        ...(change.owner ? [`owner ${change.owner.from} -> ${change.owner.to}`] : []),
      ];
      out.push(color.yellow(`~ ${shown(change.path)}: ${shown(parts.join(', '))}`));
      out.push(color.dim(`    # ${shown(change.ruleIds.join(', '))}`));
    }
    out.push('');
  }
  appendAll(out, prerequisites(plan, color));
  appendAll(out, section('Risks:', plan.risks.map((risk) => `  ${shown(risk.ruleId)}: ${shown(risk.text)}`)));
  appendAll(out, section(color.yellow('Blocked (harden will not change these until what they need is in place):'), plan.blocked.map((note) => `  ${color.yellow(shown(note.ruleId))}: ${shown(note.text)}`)));
  appendAll(out, section(color.cyan('Waived (left alone: a waiver excuses them):'), (options.waived ?? []).map((rule) => `  ${color.cyan(shown(rule.ruleId))}: ${shown(waivedText(rule))}`)));
  if (plan.manual.length > 0) {
    out.push(`${color.bold('Manual:')} ${count(plan.manual.length, 'rule')} to check by hand (harden check says what to look at): ${shown(plan.manual.map((note) => note.ruleId).join(', '))}`, '');
  }
  appendAll(out, section('Warnings:', plan.warnings.map((warning) => `  ! ${shown(warning)}`)));
  appendAll(out, section(color.red('Problems (this plan must not be applied):'), plan.problems.map((note) => `  ${color.red(shown(ruleLabel(note)))}: ${shown(note.text)}`)));
  appendAll(out, summary(plan, color, options.selection ?? false));
  return `${out.join('\n')}\n`;
}

/** `by ops@example.com until 2026-12-31 (waivers.yaml line 4): <justification>`, as check words a waiver. */
function waivedText(rule: WaivedRule): string {
  const by = rule.owner ? `by ${rule.owner} ` : '';
  const until = rule.expires ? `until ${rule.expires}` : 'no expiry';
  return `${by}${until} (${rule.file} line ${rule.line}): ${rule.justification}`;
}

/**
 * What rules need made before they can be carried out: directories to create, and kernel parameters to persist
 * in a file and to set running. Each parameter says how it runs and is persisted now, so the plan shows what is
 * missing where.
 */
function prerequisites(plan: Plan, color: Palette): string[] {
  const directories = plan.directories ?? [];
  const sysctls = plan.sysctls ?? [];
  if (directories.length + sysctls.length === 0) return [];
  const out = [color.bold('Prerequisites:')];
  for (const directory of directories) {
    out.push(color.green(`+ ${shown(directory.path)}/ (directory ${shown(directory.mode)} ${shown(directory.owner)})`));
    out.push(color.dim(`    # ${shown(directory.ruleId)}`));
  }
  for (const sysctl of sysctls) {
    if (sysctl.file) {
      const { path, before, after } = sysctl.file;
      out.push(before === null ? color.green(`+ ${shown(path)} (0644 root:root)`) : color.yellow(`~ ${shown(path)}`));
      for (const line of (before ?? '').split('\n').filter((l) => l !== '')) out.push(color.red(`    - ${shown(line)}`));
      for (const line of after.split('\n').filter((l) => l !== '')) out.push(color.green(`    + ${shown(line)}`));
    }
    for (const value of sysctl.running) {
      out.push(color.yellow(`~ ${shown(value.key)} running: ${shown(value.from)} -> ${shown(value.to)} (written to ${shown(value.path)})`));
    }
    out.push(color.dim(`    # ${shown(sysctl.ruleId)}, now:`));
    for (const value of sysctl.persisted) out.push(color.dim(`    #   ${shown(value.key)} = ${shown(value.want)} wanted; ${shown(value.now)}`));
    out.push(color.dim(`    #   (persisted: set at boot by systemd-sysctl from ${SYSCTL_DIRS.join(', ')})`));
  }
  out.push('');
  return out;
}

/** A shipped profile by its name (`baseline`); a user's file by its name and what it calls itself (`mine.yaml "baseline"`). */
export function profileName(profile: ProfileIdentity): string {
  if (profile.source === 'shipped') return profile.name;
  const file = profile.file ?? '';
  return `${file.slice(file.lastIndexOf('/') + 1)} "${profile.name}"`;
}

/**
 * The profile as a plan's header names it, with where it came from and its digest (the first 16 hex digits; the
 * JSON document has all of them): `profile baseline (shipped, sha256 1f2e…)`, `profile mine.yaml "baseline" (file
 * /etc/harden/mine.yaml, sha256 9a8b…)`. A user's file never reads as a shipped profile.
 */
export function profileLabel(profile: ProfileIdentity): string {
  const digest = `sha256 ${profile.sha256.replace(/^sha256:/, '').slice(0, 16)}…`;
  return profile.source === 'shipped' ? `profile ${profile.name} (shipped, ${digest})` : `profile ${profileName(profile)} (file ${profile.file}, ${digest})`;
}

function section(title: string, lines: readonly string[]): string[] {
  return lines.length === 0 ? [] : [title, ...lines, ''];
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** `rule a` or, for a problem several rules share, `rules a, b`. */
function ruleLabel(note: PlanNote): string {
  const ids = note.ruleId.split(',');
  return ids.length === 1 ? `rule ${ids[0]}` : `rules ${ids.join(', ')}`;
}

function summary(plan: Plan, color: Palette, selection: boolean): string[] {
  const { add, change, remove, files } = plan.summary;
  const standing = `${count(plan.blocked.length, 'rule')} blocked, ${plan.manual.length} manual`;
  if (add + change + remove === 0) {
    if (plan.summary.compliantNow) {
      const manual = plan.manual.length > 0 ? ` (${plan.manual.length} manual to check by hand)` : '';
      const verdict = selection ? 'The selected rules pass' : `The node complies with profile ${shown(profileName(plan.profile))}`;
      return [`${color.bold('No changes.')} ${color.green(verdict)}${manual}.`];
    }
    return [`${color.bold('No changes.')} Still in the way: ${standing}.`];
  }
  const restarts = plan.restarts.length > 0 ? `restarts: ${shown(plan.restarts.join(', '))}` : 'no restarts';
  const line = `${color.bold('Plan:')} ${add} to add, ${change} to change, ${remove} to remove in ${count(files, 'file')}; ${restarts}.`;
  const after = plan.blocked.length + plan.manual.length > 0 ? [`Left after it: ${standing}.`] : [];
  return [line, ...after];
}

/** `~ path (service)`, then the unified diff of before and after, each changed line followed by why. */
/** Files longer than this are diffed without the lines they share at both ends (a change in a huge args file). */
const TRIM_FROM_LINES = 1000;

/**
 * jsdiff's unified hunks of before → after. For a long file, the lines both share at the start and the end
 * (beyond the context the hunks show) are left out before diffing and the hunks moved back to their lines:
 * the same hunks, without tokenizing and comparing a hundred thousand lines that did not change. Only where
 * an insertion or removal is ambiguous (among repeated identical lines) might jsdiff place it otherwise.
 */
export function linePatch(before: string, after: string, context: number): { hunks: ReturnType<typeof structuredPatch>['hunks'] } {
  const whole = () => structuredPatch('', '', before, after, undefined, undefined, { context });
  const a = before.split('\n');
  const b = after.split('\n');
  if (a.length + b.length < 2 * TRIM_FROM_LINES) return whole();
  // Shared lines at the start, and at the end (not overlapping them); the last element (what follows the final
  // newline, or a last line without one) is never part of the shared start.
  const most = Math.min(a.length, b.length) - 1;
  let head = 0;
  while (head < most && a[head] === b[head]) head += 1;
  let tail = 0;
  while (tail < most - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail += 1;
  const dropHead = Math.max(0, head - context);
  const dropTail = Math.max(0, tail - context);
  if (dropHead === 0 && dropTail === 0) return whole();
  const cut = (text: string, lines: readonly string[]) => {
    let start = 0;
    for (let i = 0; i < dropHead; i += 1) start += lines[i].length + 1;
    let end = text.length;
    // The dropped end starts after a newline, which the kept part keeps.
    for (let i = 0; i < dropTail; i += 1) end -= lines[lines.length - 1 - i].length + 1;
    return text.slice(start, dropTail > 0 ? end + 1 : end);
  };
  const { hunks } = structuredPatch('', '', cut(before, a), cut(after, b), undefined, undefined, { context });
  return { hunks: hunks.map((hunk) => ({ ...hunk, oldStart: hunk.oldStart + dropHead, newStart: hunk.newStart + dropHead })) };
}

function fileDiff(file: PlanFile, color: Palette, reasons: Readonly<Record<string, string>>): string[] {
  const byOldLine = new Map(file.edits.filter((edit) => edit.action === 'remove' && edit.line !== null).map((edit) => [edit.line!, edit]));
  const byNewLine = new Map(file.edits.filter((edit) => edit.action !== 'remove' && edit.newLine !== null).map((edit) => [edit.newLine!, edit]));
  const why = (edit: PlanEdit | undefined): string[] => {
    if (!edit) return [];
    // A removed duplicate is explained by its note alone; any other note comes on top of the rules' reasons.
    if (edit.note && edit.action === 'remove') return [`# ${shown(edit.ruleIds.join(', '))}: ${shown(edit.note)}`];
    const lines = edit.ruleIds.map((id) => (reasons[id] ? `# ${shown(id)}: ${shown(String(reasons[id]))}` : `# ${shown(id)}`));
    return edit.note ? [...lines, `# ${shown(edit.note)}`] : lines;
  };
  const header = color.yellow(`~ ${shown(file.path)}${file.service ? ` (${shown(file.service)})` : ''}`);
  return [header, ...diffLines(file.before, file.after, color, { removed: (line) => why(byOldLine.get(line)), added: (line) => why(byNewLine.get(line)) })];
}

/** What to say under a changed line, by its number in the old text (removed) or the new one (added); already escaped. */
export interface LineNotes {
  readonly removed: (line: number) => readonly string[];
  readonly added: (line: number) => readonly string[];
}

const NO_NOTES: LineNotes = { removed: () => [], added: () => [] };

/**
 * The annotated unified diff of two texts as plans show it, under a file's header line: hunks (`@@ -3,4 +3,4 @@`),
 * `- removed`, `+ added` and context lines indented, each changed line followed by its notes, every text
 * escaped. `plan`, `rollback` and `snapshots diff` all show changes so.
 */
export function diffLines(before: string, after: string, color: Palette, notes: LineNotes = NO_NOTES): string[] {
  const out: string[] = [];
  const patch = linePatch(before, after, CONTEXT_LINES);
  for (const hunk of patch.hunks) {
    out.push(color.cyan(`    @@ -${range(hunk.oldStart, hunk.oldLines)} +${range(hunk.newStart, hunk.newLines)} @@`));
    let oldLine = hunk.oldStart;
    let newLine = hunk.newStart;
    // Why a line changes goes under it, after a "\ No newline at end of file" that belongs to it.
    let pending: readonly string[] = [];
    const flush = () => {
      for (const line of pending) out.push(color.dim(`    ${line}`));
      pending = [];
    };
    for (const raw of hunk.lines) {
      const sign = raw[0];
      if (sign === '\\') {
        out.push(color.dim(`    ${raw}`));
        continue;
      }
      flush();
      const text = shown(raw.slice(1));
      if (sign === '-') {
        out.push(color.red(`    - ${text}`));
        pending = notes.removed(oldLine);
        oldLine += 1;
      } else if (sign === '+') {
        out.push(color.green(`    + ${text}`));
        pending = notes.added(newLine);
        newLine += 1;
      } else {
        out.push(color.dim(`      ${text}`));
        oldLine += 1;
        newLine += 1;
      }
    }
    flush();
  }
  return out;
}

/** A hunk's range as GNU diff writes it: `3` for one line, `3,4` for several, `2,0` (the line before) for none. */
function range(start: number, lines: number): string {
  if (lines === 1) return `${start}`;
  return `${lines === 0 ? start - 1 : start},${lines}`;
}


/**
 * The plan as one JSON document, with where it was made and what it read, and last its own `sha256`: a saved
 * plan is applied exactly as reviewed, so one edited afterwards (a hand-made `after` text, a changed value) is
 * refused when it is read back.
 */
export function planJson(plan: Plan, origin: PlanOrigin): string {
  const { schema, ...rest } = plan as Plan & { sha256?: unknown };
  delete rest.sha256;
  const document: Omit<PlanDocument, 'sha256'> = {
    schema,
    createdAt: origin.createdAt,
    toolVersion: origin.toolVersion,
    root: origin.root,
    identity: origin.identity,
    ...rest,
    reasons: origin.reasons,
    inputs: origin.inputs,
    rules: origin.rules,
    ...(origin.waivers ? { waivers: origin.waivers } : {}),
  };
  return `${jsonText({ ...document, sha256: documentDigest(document) })}\n`;
}

/** `sha256:<hex>` of the document without its `sha256` field, as planJson prints it. */
function documentDigest(document: Readonly<Record<string, unknown>>): string {
  const { sha256: _own, ...rest } = document;
  return `sha256:${builtin('node:crypto').createHash('sha256').update(JSON.stringify(rest, null, 2)).digest('hex')}`;
}

/** Why a text is not a saved plan: `where` is the JSON path of a field the schema refuses (`files[0].edits[0]`). */
export type PlanDocumentProblem = { ok: false; problem: string; edited?: boolean; where?: string };

/**
 * A saved plan back from its JSON, or the first thing that makes it not one. The digest is checked first (an
 * edited plan is refused as edited), then the whole document against the plan schema (src/core/plan-schema.ts),
 * before any field is used: a plan sealed again after an edit that breaks its shape is refused here, by field.
 */
export function parsePlanDocument(text: string, check: PlanValidator): { ok: true; document: PlanDocument } | PlanDocumentProblem {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  if (!isObject(value)) return { ok: false, problem: 'not a JSON object' };
  if (value.schema !== PLAN_SCHEMA) {
    if (value.schema === 'harden.plan/v1' || value.schema === 'harden.plan/v2') return { ok: false, problem: `it is a ${value.schema} plan, from an earlier harden; this one reads ${PLAN_SCHEMA}` };
    const found = typeof value.schema === 'string' ? JSON.stringify(value.schema) : 'missing';
    return { ok: false, problem: `schema is ${found}, not "${PLAN_SCHEMA}"` };
  }
  if (typeof value.sha256 !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(value.sha256)) return { ok: false, problem: 'its "sha256" field is missing or malformed' };
  if (value.sha256 !== documentDigest(value)) return { ok: false, edited: true, problem: 'its content does not match its sha256' };
  if (!check(value)) {
    const [first] = check.errors ?? [];
    const { where, what } = first ? describePlanError(first) : { where: '(the document)', what: 'is not valid' };
    return { ok: false, where, problem: what };
  }
  return { ok: true, document: value as unknown as PlanDocument };
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
