// A plan for people (a Terraform-like text: legend, diffs, summary line) and for machines (one JSON
// document, which is also the saved plan file), from the same object; and the saved file read back.
import { structuredPatch } from 'diff';
import { PLAN_SCHEMA, type Plan, type PlanEdit, type PlanFile, type PlanNote } from '../core/plan.js';
import { builtin } from '../lazy.js';
import type { Palette } from './color.js';
import { appendAll } from '../core/lists.js';

/** Where, when and from what a plan was made: saved with it, so that `apply` can tell if the node moved. */
export interface PlanOrigin {
  /** The --root the plan was made on, as given. */
  readonly root: string;
  readonly toolVersion: string;
  /** ISO 8601. */
  readonly createdAt: string;
  /** Every args-dir file the plan read, by node path: `sha256:<hex>` of its content. */
  readonly inputs: Readonly<Record<string, string>>;
  /** Why each failing rule fails now, by rule id: the reason shown beside each changed line. */
  readonly reasons: Readonly<Record<string, string>>;
  /** The ids of the rules the plan was made from (the profile after --only and --skip). */
  readonly rules: readonly string[];
}

/** The JSON document: the plan and its origin, sealed with the sha256 of the rest. */
export type PlanDocument = Plan & PlanOrigin & { readonly sha256: string };

export interface PlanTextOptions {
  readonly root: string;
  readonly reasons?: Readonly<Record<string, string>>;
}

const CONTEXT_LINES = 3;

export function planText(plan: Plan, color: Palette, options: PlanTextOptions): string {
  const reasons = options.reasons ?? {};
  const out: string[] = [color.bold(`Plan for profile ${plan.profile.name} on ${options.root} (MicroK8s ${plan.node.version ?? 'version unknown'})`), ''];
  const changes = plan.files.length + plan.companions.length + plan.modes.length > 0;
  if (changes) out.push(`Symbols: ${color.green('+ add')}, ${color.yellow('~ change')}, ${color.red('- remove')}`, '');

  for (const file of plan.files) appendAll(out, fileDiff(file, color, reasons)).push('');

  if (plan.companions.length > 0) {
    out.push(color.bold('Files to create:'));
    for (const companion of plan.companions) {
      out.push(color.green(`+ ${companion.path} (${companion.mode}, from ${companion.template})`));
      out.push(color.dim(`    # ${companion.ruleId}`));
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
      out.push(color.yellow(`~ ${change.path}: ${parts.join(', ')}`));
      out.push(color.dim(`    # ${change.ruleIds.join(', ')}`));
    }
    out.push('');
  }
  appendAll(out, section('Risks:', plan.risks.map((risk) => `  ${risk.ruleId}: ${risk.text}`)));
  appendAll(out, section(color.yellow('Blocked (harden will not change these until what they need is in place):'), plan.blocked.map((note) => `  ${color.yellow(note.ruleId)}: ${note.text}`)));
  if (plan.manual.length > 0) {
    out.push(`${color.bold('Manual:')} ${count(plan.manual.length, 'rule')} to check by hand (harden check says what to look at): ${plan.manual.map((note) => note.ruleId).join(', ')}`, '');
  }
  appendAll(out, section('Warnings:', plan.warnings.map((warning) => `  ! ${warning}`)));
  appendAll(out, section(color.red('Problems (this plan must not be applied):'), plan.problems.map((note) => `  ${color.red(ruleLabel(note))}: ${note.text}`)));
  appendAll(out, summary(plan, color));
  return `${out.join('\n')}\n`;
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

function summary(plan: Plan, color: Palette): string[] {
  const { add, change, remove, files } = plan.summary;
  const standing = `${count(plan.blocked.length, 'rule')} blocked, ${plan.manual.length} manual`;
  if (add + change + remove === 0) {
    if (plan.summary.compliantNow) {
      const manual = plan.manual.length > 0 ? ` (${plan.manual.length} manual to check by hand)` : '';
      return [`${color.bold('No changes.')} ${color.green(`The node complies with profile ${plan.profile.name}`)}${manual}.`];
    }
    return [`${color.bold('No changes.')} Still in the way: ${standing}.`];
  }
  const restarts = plan.restarts.length > 0 ? `restarts: ${plan.restarts.join(', ')}` : 'no restarts';
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
  const out = [color.yellow(`~ ${file.path}${file.service ? ` (${file.service})` : ''}`)];
  const patch = linePatch(file.before, file.after, CONTEXT_LINES);
  const byOldLine = new Map(file.edits.filter((edit) => edit.action === 'remove' && edit.line !== null).map((edit) => [edit.line!, edit]));
  const byNewLine = new Map(file.edits.filter((edit) => edit.action !== 'remove' && edit.newLine !== null).map((edit) => [edit.newLine!, edit]));
  const why = (edit: PlanEdit): string[] => {
    // A removed duplicate is explained by its note alone; any other note comes on top of the rules' reasons.
    if (edit.note && edit.action === 'remove') return [`# ${edit.ruleIds.join(', ')}: ${edit.note}`];
    const lines = edit.ruleIds.map((id) => (reasons[id] ? `# ${id}: ${reasons[id]}` : `# ${id}`));
    return edit.note ? [...lines, `# ${edit.note}`] : lines;
  };
  for (const hunk of patch.hunks) {
    out.push(color.cyan(`    @@ -${range(hunk.oldStart, hunk.oldLines)} +${range(hunk.newStart, hunk.newLines)} @@`));
    let oldLine = hunk.oldStart;
    let newLine = hunk.newStart;
    // Why a line changes goes under it, after a "\ No newline at end of file" that belongs to it.
    let pending: string[] = [];
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
      const text = visible(raw.slice(1));
      if (sign === '-') {
        out.push(color.red(`    - ${text}`));
        const edit = byOldLine.get(oldLine);
        if (edit) pending = why(edit);
        oldLine += 1;
      } else if (sign === '+') {
        out.push(color.green(`    + ${text}`));
        const edit = byNewLine.get(newLine);
        if (edit) pending = why(edit);
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

/** A line as a terminal can show it: CR and other control characters as ^M-style escapes. */
function visible(text: string): string {
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, (c) => (c === '\u007f' ? '^?' : `^${String.fromCharCode(c.charCodeAt(0) + 64)}`));
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
    ...rest,
    reasons: origin.reasons,
    inputs: origin.inputs,
    rules: origin.rules,
  };
  return `${JSON.stringify({ ...document, sha256: documentDigest(document) }, null, 2)}\n`;
}

/** `sha256:<hex>` of the document without its `sha256` field, as planJson prints it. */
function documentDigest(document: Readonly<Record<string, unknown>>): string {
  const { sha256: _own, ...rest } = document;
  return `sha256:${builtin('node:crypto').createHash('sha256').update(JSON.stringify(rest, null, 2)).digest('hex')}`;
}

/** A saved plan back from its JSON, or the first thing that makes it not one. */
export function parsePlanDocument(text: string): { ok: true; document: PlanDocument } | { ok: false; problem: string; edited?: boolean } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  if (!isObject(value)) return { ok: false, problem: 'not a JSON object' };
  if (value.schema !== PLAN_SCHEMA) {
    const found = typeof value.schema === 'string' ? `"${value.schema}"` : 'missing';
    return { ok: false, problem: `schema is ${found}, not "${PLAN_SCHEMA}"` };
  }
  const problem = shapeProblem(value);
  if (problem) return { ok: false, problem };
  if (typeof value.sha256 !== 'string') return { ok: false, problem: 'its "sha256" field is missing or malformed' };
  if (value.sha256 !== documentDigest(value)) return { ok: false, edited: true, problem: 'its content does not match its sha256' };
  return { ok: true, document: value as unknown as PlanDocument };
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStrings = (value: unknown) => Array.isArray(value) && value.every((item) => typeof item === 'string');
const isNotes = (value: unknown) => Array.isArray(value) && value.every((n) => isObject(n) && typeof n.ruleId === 'string' && typeof n.text === 'string');

/** What the renderers and `apply` rely on, checked field by field. */
function shapeProblem(doc: Json): string | null {
  const checks: [string, boolean][] = [
    ['root', typeof doc.root === 'string'],
    ['profile', isObject(doc.profile) && typeof doc.profile.name === 'string'],
    ['node', isObject(doc.node)],
    ['files', Array.isArray(doc.files) && doc.files.every((f) => isObject(f) && typeof f.path === 'string' && typeof f.before === 'string' && typeof f.after === 'string' && Array.isArray(f.edits))],
    ['companions', Array.isArray(doc.companions) && doc.companions.every((c) => isObject(c) && typeof c.path === 'string' && typeof c.content === 'string')],
    ['modes', Array.isArray(doc.modes) && doc.modes.every((m) => isObject(m) && typeof m.path === 'string' && isStrings(m.ruleIds))],
    ['restarts', isStrings(doc.restarts)],
    ['healthChecks', isStrings(doc.healthChecks)],
    ['risks', isNotes(doc.risks)],
    ['blocked', isNotes(doc.blocked)],
    ['manual', isNotes(doc.manual)],
    ['warnings', isStrings(doc.warnings)],
    ['problems', isNotes(doc.problems)],
    ['summary', isObject(doc.summary) && ['add', 'change', 'remove', 'files'].every((key) => typeof (doc.summary as Json)[key] === 'number')],
    ['inputs', isObject(doc.inputs) && Object.values(doc.inputs).every((digest) => typeof digest === 'string')],
    ['reasons', isObject(doc.reasons)],
    ['rules', isStrings(doc.rules)],
  ];
  const bad = checks.find(([, ok]) => !ok);
  return bad ? `its "${bad[0]}" field is missing or malformed` : null;
}
