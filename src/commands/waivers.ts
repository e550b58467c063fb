// --waivers for check, plan and apply: the files read and checked before any node is, the warnings about
// waivers that name no rule or excuse nothing, and what each node's report carries of them.
import type { RuleResult } from '../core/evaluate.js';
import { strayWaivers, strayWaiverText, unusedWaivers, unusedWaiverText, waiverJson, type Waiver } from '../core/waivers.js';
import type { FileSystem } from '../effects/file-system.js';
import { loadWaivers, nodeNames, type LoadedWaivers } from '../effects/waiver-store.js';
import { HardenError } from '../errors.js';
import { shellWord } from '../ui/shell-word.js';
import { shown } from '../ui/terminal-text.js';
import type { CheckOutcome } from '../ui/check-view.js';
import type { PlanWaivers, WaivedRule } from '../ui/plan-view.js';
import type { CommandContext } from './context.js';
import type { WaiverOptions } from './options.js';

/** The waivers of a run and the time they are judged at (the injectable clock; now otherwise). */
export interface RunWaivers extends LoadedWaivers {
  readonly now: Date;
}

/** Reads --waivers: a malformed file stops the run before any node is read or anything written. */
export async function readWaivers(context: CommandContext, options: WaiverOptions): Promise<RunWaivers> {
  const loaded = await loadWaivers(context.effects.fs, options.waivers);
  return { ...loaded, now: context.effects.change?.now?.() ?? new Date() };
}

/** What assessNode needs to waive a node's results; undefined without waivers. */
export async function nodeWaivers(fs: FileSystem, target: { readonly root: string }, waivers: RunWaivers): Promise<{ waivers: readonly Waiver[]; names: string[]; now: Date } | undefined> {
  if (waivers.waivers.length === 0) return undefined;
  return { waivers: waivers.waivers, names: await nodeNames(fs, target.root), now: waivers.now };
}

/**
 * Warns on stderr of each waiver whose rule glob names no rule of the profile, then of each other one that no
 * result used (it excused, or expired on, no failing rule); returns the unused ones.
 */
export function warnWaivers(context: CommandContext, waivers: RunWaivers, profile: { readonly name: string; readonly allRules: readonly { readonly id: string }[] }, results: readonly RuleResult[]): Waiver[] {
  const stray = new Set(strayWaivers(waivers.waivers, profile.allRules.map((rule) => rule.id)));
  for (const waiver of stray) context.effects.io.err(`${shown(`warning: ${strayWaiverText(waiver, profile.name)}`)}\n`);
  const unused = unusedWaivers(waivers.waivers, results);
  for (const waiver of unused) if (!stray.has(waiver)) context.effects.io.err(`${shown(`warning: ${unusedWaiverText(waiver)}`)}\n`);
  return unused;
}

/**
 * Once every node is checked: warns of the waivers that name no rule or that no node used, and adds to each
 * node's report (in place) the waiver files and the unused waivers (`waivers` in --json; absent without --waivers).
 */
export function reportWaivers(context: CommandContext, waivers: RunWaivers, profile: { readonly name: string; readonly allRules: readonly { readonly id: string }[] }, outcomes: (CheckOutcome & { waivers?: object })[]): void {
  if (waivers.files.length === 0) return;
  const unused = warnWaivers(context, waivers, profile, outcomes.flatMap((outcome) => outcome.results));
  const report = { files: waivers.files, sha256: waivers.sha256, unused: unused.map(waiverJson) };
  for (const [index, outcome] of outcomes.entries()) outcomes[index] = { ...outcome, waivers: report };
}

/** The rules waivers excuse among a node's results, as a plan shows and records them. */
export function waivedRules(results: readonly RuleResult[]): WaivedRule[] {
  return results.flatMap((result) => (result.status === 'WAIVED' && result.waiver ? [{ ruleId: result.id, justification: result.waiver.justification, owner: result.waiver.owner, expires: result.waiver.expires, file: result.waiver.file, line: result.waiver.line }] : []));
}

/** What a saved plan records of --waivers; undefined without them. */
export function planWaivers(waivers: RunWaivers, results: readonly RuleResult[]): PlanWaivers | undefined {
  return waivers.sha256 === null ? undefined : { files: waivers.files, sha256: waivers.sha256, waived: waivedRules(results) };
}

/**
 * A saved plan made with waivers is applied only with the very same waiver files (the same sha256), and one
 * made without them only without: the waivers decided what it leaves alone.
 */
export function savedPlanWaivers(file: string, recorded: PlanWaivers | undefined, given: RunWaivers): void {
  if (!recorded && given.sha256 === null) return;
  if (!recorded) {
    throw new HardenError(`${file} was made without waivers, and --waivers was given`, { hint: 'apply it without --waivers, or make a new plan with harden plan --waivers FILE --out' });
  }
  const short = recorded.sha256.replace(/^sha256:/, '').slice(0, 16);
  if (given.sha256 === null) {
    throw new HardenError(`${file} was made with the waivers ${recorded.files.join(', ')} (sha256 ${short}…)`, { hint: `apply it with ${recorded.files.map((name) => `--waivers ${shellWord(name)}`).join(' ')}` });
  }
  if (given.sha256 !== recorded.sha256) {
    throw new HardenError(`the waivers given are not those ${file} was made with (${recorded.files.join(', ')}, sha256 ${short}…)`, {
      hint: 'apply it with the waivers it was made with, or make a new plan with these: harden plan --waivers FILE --out',
    });
  }
}

/**
 * A saved plan leaves its waived rules alone; when one of them is no longer waived on this node now (its waiver
 * expired since), the plan is no longer what the waivers give: refused, saying which and why.
 */
export function refuseLapsedWaivers(file: string, recorded: PlanWaivers | undefined, results: readonly RuleResult[]): void {
  const lapsed = (recorded?.waived ?? []).flatMap((rule) => {
    const now = results.find((result) => result.id === rule.ruleId);
    return now && (now.status === 'FAIL' || now.status === 'BLOCKED') ? [{ id: rule.ruleId, why: now.waiver?.expired ? `its waiver expired on ${now.waiver.expires}` : 'no waiver excuses it now' }] : [];
  });
  if (lapsed.length === 0) return;
  throw new HardenError(`${file} leaves ${lapsed.map((rule) => `${rule.id} (${rule.why})`).join(', ')} alone as waived, and it fails now`, {
    hint: 'renew the waiver, or make a new plan with harden plan --out, review it, and apply that',
  });
}
