// `harden apply`: carry out a plan on a live node, so that an operator can say yes without fear. Lock, gates
// before, the plan shown and confirmed, a durable snapshot before the first write, atomic writes, one restart
// per service, gates after, and the node put back by itself when they fail.
import type { CommandModule } from 'yargs';
import { octalMode, type EntryFact } from '../core/evaluate.js';
import { buildPlan, entryInputs, inputChangeText, isEntryInput, planDifference, type Plan } from '../core/plan.js';
import type { Rule } from '../core/profile.js';
import { assessNode, type Assessment } from '../effects/assess.js';
import { realFileOps, type FileOps } from '../effects/file-ops.js';
import { healthProbes, runGates, type GateResult } from '../effects/health.js';
import { leftoverNotes, removeLeftovers, writtenDirs } from '../effects/leftovers.js';
import { acquireLock, type Lock } from '../effects/lock.js';
import { atomicReplace, createNodeFile, ownerIds, readNodeFile, removeFile, resolveEntry, resolveNode, setOwnerAndMode } from '../effects/node-writer.js';
import { inputDigests, readPlanFile, readTemplates } from '../effects/plan-store.js';
import { loadProfile, profileIdentity, type LoadedProfile } from '../effects/profile-store.js';
import { inquirerPrompt } from '../effects/prompt.js';
import { systemServices, type Services } from '../effects/services.js';
import { createSnapshot, readSnapshot, setStatus, sha256Of, type SnapshotFile, type SnapshotManifest, type SnapshotModeChange } from '../effects/snapshots.js';
import { EXIT_CODES_HELP, ExitCode, HardenError, UsageError } from '../errors.js';
import { colorEnabled, palette } from '../ui/color.js';
import { planText, profileLabel, type PlanDocument } from '../ui/plan-view.js';
import { type ChangeEffects, type CommandContext, type OutputOptions } from './context.js';
import { confirmClosedPorts } from './ports.js';
import { DEFAULT_PROFILE, nodeTargets, ruleIds, stateTarget, withNodeOptions, withRuleOptions, type NodeOptions, type NodeTarget } from './options.js';
import { shown } from '../ui/terminal-text.js';

export type ApplyOptions = NodeOptions &
  Pick<OutputOptions, 'color'> & {
    plan?: string;
    profile?: string;
    only?: string[];
    skip?: string[];
    yes?: boolean;
    restart: boolean;
    healthTimeout: number;
    healthWindow: number;
    force?: boolean;
  };

export function applyCommand(context: CommandContext, toolVersion: string): CommandModule<object, ApplyOptions> {
  return {
    command: 'apply [plan]',
    describe: 'Change a node as planned: snapshot, write atomically, restart each service once, check health, put back on failure',
    builder: (yargs) =>
      withRuleOptions(withNodeOptions(yargs, false))
        .positional('plan', { type: 'string', describe: 'a plan saved with harden plan --out, applied exactly' })
        .option('profile', { type: 'string', default: undefined, defaultDescription: DEFAULT_PROFILE, describe: 'a shipped profile name, or a profile file', requiresArg: true })
        .option('yes', { type: 'boolean', describe: 'apply without asking (needed without a terminal)' })
        .option('restart', { type: 'boolean', default: true, describe: 'restart the affected services (--no-restart writes only and records the restarts owed)' })
        .option('health-timeout', { type: 'number', default: 180, describe: 'seconds the health gates may take', requiresArg: true })
        .option('health-window', { type: 'number', default: 5, describe: 'seconds each restarted unit must stay up with the same PID and restart count', requiresArg: true })
        .option('force', { type: 'boolean', describe: 'apply even when the node is unhealthy before the change' })
        .option('color', { type: 'boolean', describe: 'colour the text output (--no-color turns it off; NO_COLOR is honoured)' })
        .example('$0 apply', 'plan the baseline profile, choose the changes, confirm, apply')
        .example('$0 apply --profile cis --skip kubelet.protect-kernel-defaults --yes', 'without questions')
        .example('$0 apply cis.plan.json', 'apply exactly a plan saved with harden plan --out')
        .epilogue(EXIT_CODES_HELP) as never,
    handler: async (options) => {
      context.setExitCode(await runApply(context, options, toolVersion));
    },
  };
}

export function changeEffects(context: CommandContext): ChangeEffects {
  const given = context.effects.change ?? {};
  return { ops: given.ops ?? realFileOps, services: given.services ?? systemServices(), prompt: given.prompt ?? inquirerPrompt, now: given.now ?? (() => new Date()) };
}

interface Planned {
  readonly plan: Plan;
  readonly assessment: Assessment;
  readonly profile: LoadedProfile;
}

export async function runApply(context: CommandContext, options: ApplyOptions, toolVersion: string): Promise<number> {
  const { io, fs } = context.effects;
  const change = changeEffects(context);
  const target = await stateTarget(change.ops, options);
  const paint = palette(colorEnabled({ flag: options.color, env: io.env, isTTY: io.isTTY }));
  const say = (line: string) => io.out(`${shown(line)}\n`);

  if (options.plan !== undefined) {
    const given = (['profile', 'only', 'skip'] as const).filter((name) => options[name] !== undefined);
    if (given.length > 0) throw new UsageError(`a saved plan is applied exactly and does not take ${given.map((n) => `--${n}`).join(', ')}`, { hint: 'make a new plan with harden plan --out, or leave out the plan file' });
  }
  let planned = await makePlan(context, options, target);
  refuseProblems(planned.plan);
  if (planned.plan.files.length + planned.plan.companions.length + planned.plan.modes.length === 0) {
    io.out(planText(planned.plan, paint, { root: target.root, reasons: {} }));
    return ExitCode.ok;
  }

  const lock = await acquireLock(change.ops, target.stateDir);
  try {
    const about = [...planned.plan.files.map((f) => f.path), ...planned.plan.companions.map((c) => c.path)];
    await recoverFromDeadRuns(context, change.ops, target, lock, about);
    const gate = gateRunner(context, change, target, planned.assessment, options.healthTimeout, options.healthWindow);

    if (options.restart) {
      const before = await gate(planned.plan.restarts, 'before');
      if (!before.ok && !options.force) {
        throw new HardenError(`the node is not healthy before the change: ${before.failures.map((f) => f.message).join('; ')}`, {
          hint: 'fix the node first (journalctl -u the failing service), or pass --force to apply anyway',
        });
      }
    }

    if (!options.yes) {
      if (!io.interactive) throw new HardenError('no terminal to confirm the changes: nothing was written', { hint: 'run it in a terminal, or pass --yes' });
      io.out(planText(planned.plan, paint, { root: target.root, reasons: reasonsOf(planned) }));
      if (options.plan === undefined && planned.profile) {
        planned = await chooseChanges(context, change, options, target, planned);
        refuseProblems(planned.plan);
        io.out(planText(planned.plan, paint, { root: target.root, reasons: reasonsOf(planned) }));
      }
      if (!(await change.prompt.confirm('Apply these changes?'))) {
        say('Nothing was changed.');
        return ExitCode.error;
      }
    }

    const plan = planned.plan;
    const snapshot = await takeSnapshot(change, target, planned, toolVersion);
    say(`Snapshot ${snapshot.id} in ${target.stateDir}/snapshots/${snapshot.id}`);
    await writeAll(change.ops, target.root, plan, snapshot, target.stateDir);
    await setStatus(change.ops, target.stateDir, snapshot.id, 'written', options.restart ? {} : { restartsOwed: [...plan.restarts] });
    say(`Wrote ${plan.files.length + plan.companions.length} files${plan.modes.length ? `, changed ${plan.modes.length} modes` : ''}.`);

    if (!options.restart) {
      if (plan.restarts.length > 0) say(`Not restarted (--no-restart): the running services do not use the new files until ${plan.restarts.map((s) => `snap restart ${s.replace(/^snap\./, '')}`).join(', ')}.`);
      return ExitCode.ok;
    }

    for (const service of plan.restarts) {
      say(`Restarting ${service}`);
      try {
        await change.services.restart(service);
      } catch (error) {
        return putBack(context, change, target, plan.restarts, snapshot, `${service} did not restart: ${(error as Error).message}`, gate);
      }
    }
    await setStatus(change.ops, target.stateDir, snapshot.id, 'restarted');
    const after = await gate(plan.restarts, 'after');
    if (!after.ok) return putBack(context, change, target, plan.restarts, snapshot, `the change failed its health gate: ${after.failures.map((f) => f.message).join('; ')}`, gate);

    // Verify: the applied rules pass now, and MicroK8s' own start-up rewrites are recorded, not taken for drift.
    const rules = planned.profile.rules;
    const now = await assessNode(fs, target, rules);
    const files = await Promise.all(
      snapshot.files.map(async (file) => ({ ...file, sha256AfterRestart: await nodeBytes(change.ops, target.root, file.path).then((bytes) => (bytes ? sha256Of(bytes) : null)) })),
    );
    await setStatus(change.ops, target.stateDir, snapshot.id, 'verified', { files });
    await confirmClosedPorts(context, target.root, planned.assessment.model, now.model);
    const applied = new Set(plan.files.flatMap((f) => f.edits.flatMap((e) => e.ruleIds)).concat(plan.companions.map((c) => c.ruleId), plan.modes.flatMap((m) => m.ruleIds)));
    const still = now.results.filter((r) => applied.has(r.id) && r.status !== 'PASS');
    say(still.length === 0 ? `Applied and verified: ${applied.size} rules now pass.` : `Applied; ${still.length} of ${applied.size} rules do not pass yet: ${still.map((r) => `${r.id} (${r.reason})`).join('; ')}`);
    return ExitCode.ok;
  } finally {
    await lock.release();
  }
}

/**
 * Once the lock is held: says whose lock was taken over, and removes (and reports) what runs killed part-way
 * left: their temp files next to the files harden writes, and snapshots they were taking.
 */
export async function recoverFromDeadRuns(context: CommandContext, ops: FileOps, target: NodeTarget, lock: Lock, nodePaths: readonly string[]): Promise<void> {
  const { io } = context.effects;
  if (lock.tookOverFrom !== null) io.err(`note: took over ${target.stateDir}/lock from harden pid ${lock.tookOverFrom}, which no longer runs\n`);
  const removed = await removeLeftovers(ops, target.stateDir, await writtenDirs(ops, target.root, target.stateDir, nodePaths));
  for (const line of leftoverNotes(removed, target.root, target.stateDir)) io.err(`${line}\n`);
}

/** Health gates over the given services, with progress on stderr. */
export function gateRunner(context: CommandContext, change: ChangeEffects, target: NodeTarget, assessment: Assessment, timeoutSeconds: number, windowSeconds: number) {
  return (restarts: readonly string[], what: string): Promise<GateResult> => {
    const probes = healthProbes({ root: target.root, model: assessment.model, services: restarts }, async (nodePath) => (await nodeBytes(change.ops, target.root, nodePath))?.toString('utf8') ?? null);
    return runGates(change.services, probes, restarts, { timeoutMs: timeoutSeconds * 1000, stableMs: windowSeconds * 1000, onProgress: (line) => context.effects.io.err(`${what}: ${line}\n`) });
  };
}

/**
 * The profile and rules a saved plan was made from, loaded again from where the plan says (a shipped profile by
 * name, a user's file by its path); refused when they cannot be, or when the profile is no longer the one the
 * plan was made from (its sha256 differs).
 */
async function savedPlanProfile(file: string, document: PlanDocument): Promise<{ reference: string; rules: readonly Rule[] }> {
  const saved = document.profile;
  const reference = saved.source === 'shipped' ? saved.name : saved.file!;
  let profile: LoadedProfile;
  try {
    profile = await loadProfile(reference);
    const missing = document.rules.filter((id) => !profile.rules.some((rule) => rule.id === id));
    if (missing.length > 0) throw new Error(`it has no rule ${missing.join(', ')}`);
  } catch (error) {
    throw new HardenError(`${file} cannot be checked against its ${profileLabel(saved)}: ${(error as Error).message}`, {
      hint: 'run harden apply where the profile the plan was made with can be loaded, or make a new plan',
    });
  }
  const now = profileIdentity(profile);
  if (now.source !== saved.source || now.sha256 !== saved.sha256) {
    throw new HardenError(`${file} was made with ${profileLabel(saved)}, which is now ${now.sha256.replace(/^sha256:/, 'sha256 ').slice(0, 23)}…: the profile changed since the plan was made`, {
      hint: 'review the profile, then make a new plan with harden plan --out, review it, and apply that',
    });
  }
  return { reference, rules: profile.rules.filter((rule) => document.rules.includes(rule.id)) };
}

async function makePlan(context: CommandContext, options: ApplyOptions, target: NodeTarget, rules?: readonly Rule[]): Promise<Planned> {
  const { fs } = context.effects;
  if (options.plan !== undefined) {
    const document = await readPlanFile(fs, options.plan);
    const assessment = await assessNode(fs, target, []);
    const current = inputDigests(assessment.facts);
    // The args files first, before the profile is loaded; what file-mode rules planned from once it is, below.
    const changed = [...new Set([...Object.keys(document.inputs).filter((key) => !isEntryInput(key)), ...Object.keys(current)])].filter((path) => document.inputs[path] !== current[path]).sort();
    if (changed.length > 0) {
      throw new HardenError(`the node changed since the plan was made: ${changed.join(', ')}`, { hint: 'make a new plan with harden plan --out, review it, and apply that' });
    }
    // The plan's own sha256 catches a damaged file, not a forged one: what it changes must also be exactly what
    // its profile and rules give on this node now, so that a plan file is never more than a reviewed copy.
    const saved = await savedPlanProfile(options.plan, document);
    const fresh = await makePlan(context, { ...options, plan: undefined, profile: saved.reference, only: undefined, skip: undefined }, target, saved.rules);
    // Read again with the plan's rules: the args files, and the modes, owners and inodes its file-mode rules planned from.
    const now = { ...inputDigests(fresh.assessment.facts), ...entryInputs(saved.rules, fresh.assessment.answers, fresh.assessment.vars) };
    const moved = [...new Set([...Object.keys(document.inputs), ...Object.keys(now)])].filter((key) => document.inputs[key] !== now[key]).sort();
    if (moved.length > 0) {
      throw new HardenError(`the node changed since the plan was made: ${moved.map((key) => inputChangeText(key, document.inputs[key], now[key])).join(', ')}`, {
        hint: 'make a new plan with harden plan --out, review it, and apply that',
      });
    }
    const difference = planDifference(document, fresh.plan);
    if (difference !== null) {
      throw new HardenError(`${options.plan} is not what ${profileLabel(document.profile)} gives on this node: ${difference}`, {
        hint: 'a saved plan is applied only as harden made it: make a new one with harden plan --out, review it, and apply that',
      });
    }
    return { plan: document, assessment: fresh.assessment, profile: fresh.profile };
  }
  const profile = await loadProfile(options.profile ?? DEFAULT_PROFILE, { only: ruleIds(options.only), skip: ruleIds(options.skip) });
  const selected = rules ?? profile.rules;
  const assessment = await assessNode(fs, target, selected);
  const plan = buildPlan({
    model: assessment.model,
    rules: selected,
    results: assessment.results,
    facts: assessment.answers,
    vars: assessment.vars,
    profile: profileIdentity(profile),
    templates: readTemplates(selected),
    locks: assessment.facts.locks,
  });
  return { plan, assessment, profile: { ...profile, rules: selected } };
}

function reasonsOf(planned: Planned): Record<string, string> {
  return Object.fromEntries(planned.assessment.results.filter((r) => r.status === 'FAIL').map((r) => [r.id, r.reason]));
}

function refuseProblems(plan: Plan): void {
  if (plan.problems.length === 0) return;
  const [first, ...more] = plan.problems.map((p) => `plan refused: rule ${p.ruleId}: ${p.text}`);
  const fixes = [...new Set(plan.problems.flatMap((p) => (p.hint ? [p.hint] : [])))];
  const what = fixes.length > 0 ? fixes.join('; ') : 'fix what is named';
  throw new HardenError(first, { more, hint: `nothing was written; ${what}, or leave a rule out with --skip RULE` });
}

/** The checklist: every failing rule, grouped by the file it changes; the plan is rebuilt from the choice. */
async function chooseChanges(context: CommandContext, change: ChangeEffects, options: ApplyOptions, target: NodeTarget, planned: Planned): Promise<Planned> {
  const byTarget = new Map<string, { value: string; name: string; description?: string }[]>();
  const risks = new Map<string, string[]>();
  for (const risk of planned.plan.risks) risks.set(risk.ruleId, [...(risks.get(risk.ruleId) ?? []), risk.text]);
  const reasons = reasonsOf(planned);
  const add = (where: string, ruleId: string) => {
    const list = byTarget.get(where) ?? [];
    if (list.some((c) => c.value === ruleId)) return;
    const risk = risks.get(ruleId);
    list.push({ value: ruleId, name: `${ruleId}: ${reasons[ruleId] ?? ''}`, description: risk ? `risk: ${risk.join(' ')}` : undefined });
    byTarget.set(where, list);
  };
  for (const file of planned.plan.files) for (const edit of file.edits) for (const id of edit.ruleIds) add(file.path, id);
  for (const companion of planned.plan.companions) add(companion.path, companion.ruleId);
  for (const mode of planned.plan.modes) for (const id of mode.ruleIds) add('file modes and owners', id);
  const groups = [...byTarget].map(([title, choices]) => ({ title, choices }));
  const kept = new Set(await change.prompt.choose('Changes to make (space toggles, enter accepts)', groups));
  const offered = new Set(groups.flatMap((g) => g.choices.map((c) => c.value)));
  // Rules not offered (passing, manual, blocked) stay, so that requirements are judged as before.
  const rules = planned.profile!.rules.filter((rule) => !offered.has(rule.id) || kept.has(rule.id));
  return makePlan(context, options, target, rules);
}

/** A node file's bytes inside the root, through symlinks; null when it is missing or cannot be read. */
async function nodeBytes(ops: FileOps, root: string, nodePath: string): Promise<Buffer | null> {
  try {
    return (await readNodeFile(ops, root, nodePath))?.content ?? null;
  } catch {
    return null;
  }
}

async function takeSnapshot(change: ChangeEffects, target: NodeTarget, planned: Planned, toolVersion: string): Promise<SnapshotManifest> {
  const { ops } = change;
  const plan = planned.plan;
  const copies: { file: SnapshotFile; content: Buffer | null }[] = [];
  const { users, groups } = planned.assessment.facts;
  const describe = async (path: string, after: string, created: boolean) => {
    const resolved = await resolveNode(ops, target.root, path);
    const content = created ? null : await ops.readFile(resolved.hostPath);
    const stat = created ? null : resolved.stat;
    return {
      file: {
        path,
        realPath: resolved.nodePath,
        created,
        sha256Before: content ? sha256Of(content) : null,
        sha256After: sha256Of(after),
        mode: stat ? octalMode(stat.mode) : '0600',
        uid: stat?.uid ?? 0,
        gid: stat?.gid ?? 0,
        owner: stat ? `${users[stat.uid] ?? stat.uid}:${groups[stat.gid] ?? stat.gid}` : 'root:root',
        copy: null,
      },
      content,
    };
  };
  for (const file of plan.files) {
    const entry = await describe(file.path, file.after, false);
    if (entry.content!.toString('utf8') !== file.before) {
      throw new HardenError(`${file.path} changed while harden was planning: nothing was written`, { hint: 'run harden apply again' });
    }
    copies.push(entry);
  }
  for (const companion of plan.companions) copies.push(await describe(companion.path, companion.content, true));
  const modes: SnapshotModeChange[] = [];
  const rewritten = new Set(copies.map((copy) => copy.file.realPath));
  for (const change of plan.modes) {
    // The entry itself, as the plan saw it: the same inode, mode and owner, or nothing is written.
    const resolved = await resolveEntry(ops, target.root, change.path);
    const stat = resolved.stat;
    const seen = plannedEntry(planned.assessment, change.path);
    if (!stat || !seen || stat.isSymbolicLink() || stat.dev !== seen.dev || stat.ino !== seen.ino || (stat.mode & 0o7777) !== (seen.mode & 0o7777) || stat.uid !== seen.uid || stat.gid !== seen.gid) {
      throw new HardenError(`${change.path} changed while harden was planning: nothing was written`, { hint: 'run harden apply again' });
    }
    const after = change.owner ? await ownerIds(target.root, change.owner.to) : { uid: stat.uid, gid: stat.gid };
    modes.push({
      path: change.path,
      realPath: resolved.nodePath,
      modeBefore: octalMode(stat.mode),
      modeAfter: change.mode?.to ?? octalMode(stat.mode),
      uidBefore: stat.uid,
      gidBefore: stat.gid,
      ownerBefore: change.owner?.from ?? `${stat.uid}:${stat.gid}`,
      uidAfter: after.uid,
      gidAfter: after.gid,
      ownerAfter: change.owner?.to ?? `${stat.uid}:${stat.gid}`,
      // An args file the plan also rewrites gets a new inode from harden's own rename: its mode change follows
      // that write, still through O_NOFOLLOW, without the inode check.
      ...(rewritten.has(resolved.nodePath) ? {} : { inode: { dev: stat.dev, ino: stat.ino } }),
    });
  }
  return createSnapshot(
    ops,
    target.stateDir,
    {
      schema: 'harden.snapshot/v1',
      createdAt: change.now().toISOString(),
      toolVersion,
      kind: 'apply',
      profile: plan.profile,
      version: plan.node.version,
      revision: plan.node.revision,
      status: 'planned',
      plan,
      restartsOwed: [],
      files: copies.map((c) => c.file),
      modes,
    },
    copies,
    change.now,
  );
}

/** Every write of the plan; if one fails, the snapshot is put back before the error is reported. */
async function writeAll(ops: FileOps, root: string, plan: Plan, snapshot: SnapshotManifest, stateDir: string): Promise<void> {
  try {
    for (const file of plan.files) await atomicReplace(ops, root, file.path, file.after);
    for (const companion of plan.companions) {
      const { uid, gid } = await ownerIds(root, 'root:root', ops);
      await createNodeFile(ops, root, companion.path, companion.content, { mode: Number.parseInt(companion.mode, 8), uid, gid });
    }
    for (const mode of snapshot.modes ?? []) await changeMode(ops, root, mode, 'after');
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    try {
      // Restoring what was not written yet rewrites identical bytes: harmless, and simpler than tracking.
      await restoreSnapshot(ops, root, stateDir, snapshot);
    } catch (restoreError) {
      await setStatus(ops, stateDir, snapshot.id, 'put-back-failed').catch(() => undefined);
      throw new HardenError(`a write failed (${message}) and putting the files back failed too: ${(restoreError as Error).message}`, {
        exitCode: ExitCode.restoreFailed,
        hint: `the original files are in ${stateDir}/snapshots/${snapshot.id}; run harden rollback ${snapshot.id} --force`,
      });
    }
    await setStatus(ops, stateDir, snapshot.id, 'put-back');
    throw new HardenError(`a write failed, and the files already written were put back: ${message}`, { hint: `nothing is left changed; the snapshot is ${snapshot.id}` });
  }
}

/** One recorded mode and owner change, made (`after`: bits only taken away) or undone (`before`), on its inode only. */
async function changeMode(ops: FileOps, root: string, change: SnapshotModeChange, to: 'before' | 'after'): Promise<void> {
  const [uid, gid, mode] = to === 'after' ? [change.uidAfter, change.gidAfter, change.modeAfter] : [change.uidBefore, change.gidBefore, change.modeBefore];
  await setOwnerAndMode(ops, root, change.path, { uid, gid, mode: Number.parseInt(mode, 8), inode: change.inode ?? null, onlyRemove: to === 'after' });
}

/** The entry a file-mode change was planned from: the rule's own path, or an entry of the directory it matched. */
function plannedEntry(assessment: Assessment, nodePath: string): EntryFact | null {
  const { entries, listings } = assessment.answers;
  const own = entries[nodePath];
  if (own) return own;
  const slash = nodePath.lastIndexOf('/');
  return listings[nodePath.slice(0, slash)]?.find((entry) => entry.name === nodePath.slice(slash + 1)) ?? null;
}

/** Puts back what a snapshot holds: contents, modes and owners; removes the files the change created. */
export async function restoreSnapshot(ops: FileOps, root: string, stateDir: string, snapshot: SnapshotManifest, restored: string[] = []): Promise<string[]> {
  const { contents } = await readSnapshot(ops, stateDir, snapshot.id);
  for (const file of snapshot.files) {
    if (file.created) await removeFile(ops, root, file.path);
    else await atomicReplace(ops, root, file.path, contents.get(file.path)!, { create: { mode: Number.parseInt(file.mode, 8), uid: file.uid, gid: file.gid } });
    restored.push(file.path);
  }
  for (const mode of snapshot.modes ?? []) {
    await changeMode(ops, root, mode, 'before');
    restored.push(`${mode.path} (mode ${mode.modeBefore}, owner ${mode.ownerBefore})`);
  }
  return restored;
}

/** A gate failed: restore the snapshot, restart again, gate again; exit 3, or 4 when even that fails. */
export async function putBack(
  context: CommandContext,
  change: ChangeEffects,
  target: NodeTarget,
  restarts: readonly string[],
  snapshot: SnapshotManifest,
  why: string,
  gate: (restarts: readonly string[], what: string) => Promise<GateResult>,
): Promise<number> {
  const { io } = context.effects;
  const { ops } = change;
  io.err(`error: ${shown(why)}\n`);
  io.err(`Putting the node back from snapshot ${snapshot.id}\n`);
  const restored: string[] = [];
  try {
    await restoreSnapshot(ops, target.root, target.stateDir, snapshot, restored);
    for (const service of restarts) await change.services.restart(service);
    const again = await gate(restarts, 'after put-back');
    if (!again.ok) {
      throw new Error(
        `every file is back as it was and ${restarts.join(', ')} restarted on them, but the node is still unhealthy: ${again.failures.map((f) => f.message).join('; ')}`,
      );
    }
  } catch (error) {
    await setStatus(ops, target.stateDir, snapshot.id, 'put-back-failed').catch(() => undefined);
    const message = error instanceof Error ? error.message : String(error);
    io.err(`error: the put-back failed: ${shown(message)}\n`);
    io.err(`error: restored so far: ${restored.length ? shown(restored.join(', ')) : 'nothing'}; the original files are in ${shown(`${target.stateDir}/snapshots/${snapshot.id}`)}\n`);
    io.err(`hint: the node needs a person: journalctl -u ${restarts.join(' -u ')} says why; if files were not restored, harden rollback ${snapshot.id} --force restores them\n`);
    return ExitCode.restoreFailed;
  }
  await setStatus(ops, target.stateDir, snapshot.id, 'put-back');
  io.err(`Put back: ${shown(restored.join(', '))} restored; ${restarts.length ? `${restarts.join(', ')} restarted and healthy again` : 'nothing to restart'}.\n`);
  io.err(`hint: see why with journalctl -u ${restarts.join(' -u ')}\n`);
  return ExitCode.restored;
}

export type { Services };
