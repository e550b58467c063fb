// What a rollback would restore, and how the node differs from a snapshot, shown as plans show their changes:
// a header, the legend, one annotated diff per file (plan-view's diffLines), modes and owners, one summary line.
import { appendAll } from '../core/lists.js';
import type { Palette } from './color.js';
import { diffLines, type LineNotes } from './plan-view.js';
import { shown } from './terminal-text.js';

/** One args file of a snapshot: the snapshot's copy (`then`, empty for a file the apply created) and the node's now. */
export interface SnapshotFileView {
  readonly path: string;
  /** The service that reads it, when the snapshot's plan says. */
  readonly service: string | null;
  /** The apply created it: a rollback removes it. */
  readonly created: boolean;
  readonly then: string;
  /** Null when the file is not there now. */
  readonly now: string | null;
  /** What the snapshot's plan did to the file, when it says: its texts before and after, and its edits. */
  readonly planned: PlannedFile | null;
}

/** A file of the plan a snapshot holds, as far as the views use it. */
export interface PlannedFile {
  readonly before: string;
  readonly after: string;
  readonly edits: readonly { readonly ruleIds: readonly string[]; readonly action: string; readonly line: number | null; readonly newLine: number | null }[];
}

export interface ModeView {
  readonly path: string;
  readonly from: { readonly mode: string; readonly owner: string };
  readonly to: { readonly mode: string; readonly owner: string };
}

export interface SnapshotView {
  readonly id: string;
  readonly root: string;
  /** `apply` or `rollback`: what took the snapshot. */
  readonly kind: string;
  readonly profile: string;
  readonly version: string | null;
  readonly files: readonly SnapshotFileView[];
}

const LEGEND = (color: Palette) => `Symbols: ${color.green('+ add')}, ${color.yellow('~ change')}, ${color.red('- remove')}`;

/** What `rollback` would do, before it asks: each file from now back to the snapshot's copy, the modes, the restarts. */
/** What a rollback does beyond files and modes: the directories the apply created, the kernel parameters it set running. */
export interface PrerequisiteView {
  readonly directories: readonly { readonly path: string; readonly state: 'empty' | 'holds files' | 'gone' }[];
  readonly running: readonly { readonly path: string; readonly now: string | null; readonly to: string }[];
}

export function rollbackText(view: SnapshotView, modes: readonly ModeView[], restarts: readonly string[], color: Palette, prerequisites: PrerequisiteView = { directories: [], running: [] }): string {
  const out: string[] = [color.bold(`Rollback of ${shown(view.id)} on ${shown(view.root)} (${shown(`${view.kind}, profile ${view.profile}, MicroK8s ${view.version ?? 'version unknown'}`)})`), '', LEGEND(color), ''];
  let restore = 0;
  let remove = 0;
  let same = 0;
  for (const file of view.files) {
    if (file.created) {
      remove += file.now === null ? 0 : 1;
      out.push(file.now === null ? color.dim(`  ${shown(file.path)} (created by the apply; already gone)`) : color.red(`- ${shown(file.path)} (created by the apply: removed)`), '');
    } else if (file.now === file.then) {
      same += 1;
      out.push(color.dim(`  ${shown(file.path)} (already as in the snapshot)`), '');
    } else {
      restore += 1;
      const header = file.now === null ? color.green(`+ ${shown(file.path)}${service(file)}: gone now, written again`) : color.yellow(`~ ${shown(file.path)}${service(file)}`);
      out.push(header);
      appendAll(out, diffLines(file.now ?? '', file.then, color, ruleNotes(file, 'rollback'))).push('');
    }
  }
  const modesChanged = modes.filter((m) => m.from.mode !== m.to.mode || m.from.owner !== m.to.owner);
  if (modesChanged.length > 0) {
    out.push(color.bold('Modes and owners:'));
    for (const mode of modesChanged) out.push(color.yellow(`~ ${shown(mode.path)}: ${shown(modeChangeText(mode))}`));
    out.push('');
  }
  const running = prerequisites.running.filter((r) => r.now !== r.to);
  if (prerequisites.directories.length + running.length > 0) {
    out.push(color.bold('Prerequisites:'));
    for (const d of prerequisites.directories) {
      if (d.state === 'empty') out.push(color.red(`- ${shown(d.path)}/ (created by the apply: removed)`));
      else out.push(color.dim(`  ${shown(d.path)}/ (created by the apply; ${d.state === 'gone' ? 'already gone' : 'it holds files now: left in place'})`));
    }
    for (const r of running) out.push(color.yellow(`~ ${shown(r.path)}: running ${shown(r.now ?? 'nothing')} -> ${shown(r.to)}`));
    out.push('');
  }
  const parts = [`${count(restore, 'file')} to restore`, `${remove + prerequisites.directories.filter((d) => d.state === 'empty').length} to remove`, `${count(modesChanged.length, 'mode')} to put back`];
  if (running.length > 0) parts.push(`${count(running.length, 'running kernel parameter')} to put back`);
  const left = same > 0 ? ` (${count(same, 'file')} already as in the snapshot)` : '';
  out.push(`${color.bold('Rollback:')} ${parts.join(', ')}${left}; ${restarts.length > 0 ? `restarts: ${shown(restarts.join(', '))}` : 'no restarts'}.`);
  return `${out.join('\n')}\n`;
}

/** `snapshots diff`: each file from the snapshot's copy to what is on the node now. */
export function snapshotDiffText(view: SnapshotView, color: Palette): string {
  const out: string[] = [color.bold(`Changes since snapshot ${shown(view.id)} on ${shown(view.root)} (${shown(`${view.kind}, profile ${view.profile}, MicroK8s ${view.version ?? 'version unknown'}`)})`), ''];
  const changed = view.files.filter((file) => (file.now ?? '') !== file.then || (file.now === null) !== file.created);
  if (changed.length > 0) out.push(LEGEND(color), '');
  for (const file of changed) {
    const header =
      file.now === null ? color.red(`- ${shown(file.path)}${service(file)}: gone now`)
      : file.created ? color.green(`+ ${shown(file.path)}${service(file)}: created by the apply`)
      : color.yellow(`~ ${shown(file.path)}${service(file)}`);
    out.push(header);
    appendAll(out, diffLines(file.then, file.now ?? '', color, ruleNotes(file, 'since'))).push('');
  }
  const same = view.files.length - changed.length;
  out.push(
    changed.length === 0
      ? `${color.bold('No changes.')} The ${count(view.files.length, 'file')} of the snapshot ${view.files.length === 1 ? 'is' : 'are'} as it holds ${view.files.length === 1 ? 'it' : 'them'}.`
      : `${color.bold('Changed:')} ${count(changed.length, 'file')} since the snapshot, ${same} as it holds ${same === 1 ? 'it' : 'them'}.`,
  );
  return `${out.join('\n')}\n`;
}

/**
 * The rule each changed line came from, as the plan the snapshot holds says, while the file is exactly as that
 * plan left it (`since`: the snapshot's copy to now, the plan's own direction) or as a rollback undoes it
 * (`rollback`: now back to the copy). A file MicroK8s rewrote since gets no notes rather than wrong ones.
 */
function ruleNotes(file: SnapshotFileView, direction: 'since' | 'rollback'): LineNotes | undefined {
  const planned = file.planned;
  if (!planned || planned.before !== file.then || planned.after !== file.now) return undefined;
  const note = (ids: readonly string[]) => `# ${shown(ids.join(', '))}${direction === 'rollback' ? ' (undone)' : ''}`;
  // By the line of the plan's before text (a removed flag) and of its after text (an added or changed one).
  const onBefore = (line: number) => planned.edits.filter((e) => e.action === 'remove' && e.line === line).map((e) => note(e.ruleIds));
  const onAfter = (line: number) => planned.edits.filter((e) => e.action !== 'remove' && e.newLine === line).map((e) => note(e.ruleIds));
  return direction === 'since' ? { removed: onBefore, added: onAfter } : { removed: onAfter, added: onBefore };
}

/** ` (snap.microk8s.daemon-kubelite)` after a file's path, when the snapshot's plan names its service. */
function service(file: SnapshotFileView): string {
  return file.service ? ` (${shown(file.service)})` : '';
}

/** `mode 0660 -> 0600, owner root:microk8s -> root:root`, leaving out what does not change. */
export function modeChangeText({ from, to }: Pick<ModeView, 'from' | 'to'>): string {
  const parts = [from.mode !== to.mode && `mode ${from.mode} -> ${to.mode}`, from.owner !== to.owner && `owner ${from.owner} -> ${to.owner}`];
  return parts.filter(Boolean).join(', ') || 'unchanged';
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
