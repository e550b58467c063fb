// --waivers for check, plan and apply: the files read and checked before any node is, the warnings about
// waivers that name no rule or excuse nothing, and what each node's report carries of them.
import type { RuleResult } from '../core/evaluate.js';
import { strayWaivers, strayWaiverText, unusedWaivers, unusedWaiverText, waiverJson, type Waiver } from '../core/waivers.js';
import type { FileSystem } from '../effects/file-system.js';
import { loadWaivers, nodeNames, type LoadedWaivers } from '../effects/waiver-store.js';
import { shown } from '../ui/terminal-text.js';
import type { CheckOutcome } from '../ui/check-view.js';
import type { CommandContext } from './context.js';
import type { WaiverOptions } from './options.js';

/** The waivers of a run and the time they are judged at (the injectable clock; now otherwise). */
export interface RunWaivers extends LoadedWaivers {
  readonly now: Date;
  /** Waivers already warned about as naming no rule of the profile: not warned about again as unused. */
  readonly stray: ReadonlySet<Waiver>;
}

/**
 * Reads --waivers (a malformed file stops the run, nothing read or written yet) and warns on stderr of each
 * waiver whose rule glob names no rule of the profile.
 */
export async function runWaivers(context: CommandContext, options: WaiverOptions, profile: { readonly name: string; readonly allRules: readonly { readonly id: string }[] }): Promise<RunWaivers> {
  const loaded = await loadWaivers(context.effects.fs, options.waivers);
  const stray = strayWaivers(loaded.waivers, profile.allRules.map((rule) => rule.id));
  for (const waiver of stray) context.effects.io.err(`${shown(`warning: ${strayWaiverText(waiver, profile.name)}`)}\n`);
  return { ...loaded, now: context.effects.change?.now?.() ?? new Date(), stray: new Set(stray) };
}

/** What assessNode needs to waive a node's results; undefined without waivers. */
export async function nodeWaivers(fs: FileSystem, target: { readonly root: string }, waivers: RunWaivers): Promise<{ waivers: readonly Waiver[]; names: string[]; now: Date } | undefined> {
  if (waivers.waivers.length === 0) return undefined;
  return { waivers: waivers.waivers, names: await nodeNames(fs, target.root), now: waivers.now };
}

/** The waivers that excused, or expired on, none of these results. */
export function unusedOf(waivers: RunWaivers, results: readonly RuleResult[]): Waiver[] {
  return unusedWaivers(waivers.waivers, results);
}

/** Warns on stderr of each waiver no result used (unless already warned about as naming no rule). */
export function warnUnusedWaivers(context: CommandContext, waivers: RunWaivers, results: readonly RuleResult[]): Waiver[] {
  const unused = unusedOf(waivers, results);
  for (const waiver of unused) if (!waivers.stray.has(waiver)) context.effects.io.err(`${shown(`warning: ${unusedWaiverText(waiver)}`)}\n`);
  return unused;
}

/**
 * Once every node is checked: warns of the waivers no node used, and adds to each node's report (in place)
 * the waiver files and those unused waivers (`waivers` in --json; absent without --waivers).
 */
export function reportWaivers(context: CommandContext, waivers: RunWaivers, outcomes: (CheckOutcome & { waivers?: object })[]): void {
  if (waivers.files.length === 0) return;
  const unused = warnUnusedWaivers(context, waivers, outcomes.flatMap((outcome) => outcome.results));
  const report = { files: waivers.files, sha256: waivers.sha256, unused: unused.map(waiverJson) };
  for (const [index, outcome] of outcomes.entries()) outcomes[index] = { ...outcome, waivers: report };
}
