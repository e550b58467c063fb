// `harden drift` as text (for people), one JSON document (`harden.drift/v1`), or one JSON line per drift
// (`--format jsonl`, for the journal: `journalctl -t harden-drift -o json`). Pure.
import type { Drift, DriftCauseKind, DriftReport } from '../core/drift.js';
import type { Palette } from './color.js';
import { appendAll } from '../core/lists.js';
import { jsonText, shown } from './terminal-text.js';

export const DRIFT_SCHEMA = 'harden.drift/v1';

const CAUSE_WORDS: Readonly<Record<DriftCauseKind, string>> = {
  refresh: 'refresh',
  join: 'join',
  'kubelite-sanitisation': 'kubelite sanitisation',
  'cis-hardening-disabled': 'cis-hardening disabled',
  edited: 'edited',
};

export interface DriftContext {
  readonly root: string;
  readonly revision: string | null;
  /** The command that puts it back, as typed. */
  readonly reapply: string;
}

const where = (line: { line: number | null; text: string } | null): string => (line === null ? '(none)' : `${line.line === null ? '' : `line ${line.line}: `}${line.text}`);

export function driftText(report: DriftReport, palette: Palette, context: DriftContext): string {
  const out: string[] = [];
  const since = report.applies.map((a) => a.id).join(', ');
  const revisions = [...new Set(report.applies.map((a) => a.revision).filter((r): r is string => r !== null))];
  const moved = revisions.length > 0 && context.revision !== null && !revisions.includes(context.revision) ? `; revision ${revisions.join(', ')} then, ${context.revision} now` : '';
  if (report.drifts.length === 0) {
    out.push(`No drift on ${shown(context.root)}: the ${report.compared} settings and rules harden left still hold (snapshots ${shown(since)}${shown(moved)}).`);
    appendAll(out, heldText(report));
    return `${out.join('\n')}\n`;
  }
  out.push(`Drift on ${shown(context.root)}: ${report.drifts.length} of the ${report.compared} settings and rules harden left no longer hold (snapshots ${shown(since)}${shown(moved)})`);
  for (const drift of report.drifts) {
    out.push('');
    out.push(`${palette.red('[DRIFT]')} ${shown(drift.ruleIds.join(', ') || '(no rule)')}${drift.title ? `  ${shown(drift.title)}` : ''}`);
    if (drift.file) out.push(`  file    ${shown(drift.file)}`);
    out.push(`  before  ${shown(where(drift.before))}${drift.snapshot ? ` (snapshot ${shown(drift.snapshot)})` : ''}`);
    out.push(`  now     ${shown(where(drift.now))}`);
    out.push(`  cause   ${shown(CAUSE_WORDS[drift.cause.kind])}: ${shown(drift.cause.detail)}`);
    if (!drift.reapplicable) out.push('  (its rules do not apply to this node now: --reapply leaves it)');
  }
  appendAll(out, heldText(report));
  const counts = new Map<string, number>();
  for (const drift of report.drifts) counts.set(CAUSE_WORDS[drift.cause.kind], (counts.get(CAUSE_WORDS[drift.cause.kind]) ?? 0) + 1);
  out.push('');
  out.push(`Causes: ${[...counts].map(([cause, n]) => `${n} ${cause}`).join(', ')}.`);
  if (report.drifts.some((d) => d.reapplicable)) out.push(`Put it back with: ${shown(context.reapply)}`);
  return `${out.join('\n')}\n`;
}

/** Files harden wrote that changed since without undoing its settings: said, not counted as drift. */
function heldText(report: DriftReport): string[] {
  if (report.held.length === 0) return [];
  const out = ['', `Changed since harden left ${report.held.length === 1 ? 'it' : 'them'}, every setting of harden's still holding:`];
  for (const change of report.held) {
    out.push(`  ${shown(change.file)} (snapshot ${shown(change.snapshot)})`);
    for (const line of change.removed) out.push(`    - ${shown(line)}`);
    for (const line of change.added) out.push(`    + ${shown(line)}`);
    out.push(`    cause: ${shown(CAUSE_WORDS[change.cause.kind])}: ${shown(change.cause.detail)}`);
  }
  return out;
}

function driftObject(drift: Drift) {
  return {
    rules: drift.ruleIds,
    title: drift.title,
    kind: drift.kind,
    file: drift.file,
    before: drift.before,
    now: drift.now,
    snapshot: drift.snapshot,
    cause: drift.cause.kind,
    detail: drift.cause.detail,
    reapplicable: drift.reapplicable,
  };
}

export function driftJson(report: DriftReport, context: DriftContext, checkedAt: string): string {
  return `${jsonText({
    schema: DRIFT_SCHEMA,
    root: context.root,
    checkedAt,
    revision: context.revision,
    applies: report.applies,
    compared: report.compared,
    drifted: report.drifts.length,
    drifts: report.drifts.map(driftObject),
    held: report.held.map((change) => ({ file: change.file, added: change.added, removed: change.removed, snapshot: change.snapshot, cause: change.cause.kind, detail: change.cause.detail })),
  })}\n`;
}

/** One line per drift, each a whole JSON object with the root and the time: what a journal entry carries. */
export function driftLines(report: DriftReport, context: DriftContext, checkedAt: string): string {
  return report.drifts.map((drift) => `${JSON.stringify({ schema: DRIFT_SCHEMA, root: context.root, checkedAt, ...driftObject(drift) })}\n`).join('');
}
