// `harden apply`: carry out a plan on a live node, so that an operator can say yes without fear. The lock, the
// plan made under it, a pre-flight of what the waits ahead need, gates before, the plan shown and confirmed, a
// durable snapshot before the first write, atomic writes, one restart per service, gates after, the node put
// back by itself when they fail, and the command that undoes a change that was kept.
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { buildPlan, changesAnything, entryInputs, runningOf, sysctlFilesOf, inputChangeText, isEntryInput, planDifference, plannedRuleIds, type Plan } from '../core/plan.js';
import { identityDifference, identityText } from '../core/root-identity.js';
import type { Rule } from '../core/profile.js';
import { assessNode, type Assessment } from '../effects/assess.js';
import { realFileOps, type FileOps } from '../effects/file-ops.js';
import { healthProbes, runGates, type GateResult, type Probe } from '../effects/health.js';
import { leftoverNotes, removeLeftovers, writtenDirs } from '../effects/leftovers.js';
import { acquireLock, holderText, lockPath, type Lock } from '../effects/lock.js';
import { noInterrupts, watchInterrupts, type Interrupts } from '../effects/interrupts.js';
import { warnInterruptedChange } from '../effects/interrupted-apply.js';
import { preflight } from '../effects/preflight.js';
import { readNodeFile } from '../effects/node-writer.js';
import { inputDigests, readPlanFile, readTemplates, rootIdentity } from '../effects/plan-store.js';
import { loadProfile, profileIdentity, type LoadedProfile } from '../effects/profile-store.js';
import { inquirerPrompt } from '../effects/prompt.js';
import { systemServices, type Services } from '../effects/services.js';
import { setStatus, sha256Of } from '../effects/snapshots.js';
import { EXIT_CODES_HELP, ExitCode, HardenError, UsageError } from '../errors.js';
import { ROLLOUT_ID } from '../core/snapshot-manifest.js';
import { colorEnabled, palette } from '../ui/color.js';
import { planText, profileLabel, type PlanDocument } from '../ui/plan-view.js';
import { type ChangeEffects, type CommandContext, type OutputOptions } from './context.js';
import { putBack, restoreSnapshot, storeIsNew, takeSnapshot, writeAll, type Planned } from './transaction.js';
import { confirmClosedPorts } from './ports.js';
import { shellWord } from '../ui/shell-word.js';
import { DEFAULT_PROFILE, gateTimes, lockWaitSeconds, ruleIds, stateTarget, withClusterOptions, withGateOptions, withNodeOptions, withRuleOptions, withWaitOption, withWaiverOption, type ClusterOptions, type NodeOptions, type NodeTarget, type WaiverOptions } from './options.js';
import { nodeWaivers, readWaivers, refuseLapsedWaivers, savedPlanWaivers, waivedRules, warnWaivers, type RunWaivers } from './waivers.js';
import { optionalClusterFacts } from './cluster.js';
import { STANDARD_INPUT } from '../effects/cluster-store.js';
import { shown } from '../ui/terminal-text.js';
import { progressWriter } from '../ui/gate-progress.js';

export type ApplyOptions = NodeOptions & ClusterOptions & WaiverOptions &
  Pick<OutputOptions, 'color'> & {
    plan?: string;
    profile?: string;
    only?: string[];
    skip?: string[];
    yes?: boolean;
    restart: boolean;
    healthTimeout?: string;
    healthWindow?: string;
    force?: boolean;
    wait?: string;
    rollout?: string;
  };

export function applyCommand(context: CommandContext, toolVersion: string): CommandModule<object, ApplyOptions> {
  return {
    command: 'apply [plan]',
    describe: 'Change a node as planned: snapshot, write atomically, restart each service once, check health, put back on failure',
    builder: (yargs) =>
      withWaiverOption(withClusterOptions(withWaitOption(withGateOptions(withRuleOptions(withNodeOptions(yargs, false))))))
        .positional('plan', { type: 'string', describe: 'a plan saved with harden plan --out, applied exactly' })
        .option('profile', { type: 'string', default: undefined, defaultDescription: DEFAULT_PROFILE, describe: 'a shipped profile name, or a profile file', requiresArg: true })
        .option('yes', { type: 'boolean', describe: 'apply without asking (needed without a terminal)' })
        .option('restart', { type: 'boolean', default: true, describe: 'restart the affected services (--no-restart writes only and records the restarts owed)' })
        .option('force', { type: 'boolean', describe: 'apply even when the node is unhealthy before the change, or a saved plan was made for another node' })
        .option('color', { type: 'boolean', describe: 'colour the text output (--no-color turns it off; NO_COLOR is honoured)' })
        .option('rollout', { type: 'string', describe: 'record this rollout id in the snapshot (letters, digits, . _ : -), so a rollout can be undone as one', requiresArg: true })
        .example('$0 apply', 'plan the baseline profile, choose the changes, confirm, apply')
        .example('$0 apply --profile cis --skip kubelet.protect-kernel-defaults --yes', 'without questions')
        .example('$0 apply cis.plan.json', 'apply exactly a plan saved with harden plan --out')
        .epilogue(EXIT_CODES_HELP) as never,
    handler: async (options) => {
      // Caught for the whole run: a signal is never the end of a half-made change (see runApply).
      const interrupts = watchInterrupts();
      try {
        context.setExitCode(await runApply(context, options, toolVersion, interrupts));
      } finally {
        interrupts.dispose();
      }
    },
  };
}

export function changeEffects(context: CommandContext): ChangeEffects {
  const given = context.effects.change ?? {};
  return { ops: given.ops ?? realFileOps, services: given.services ?? systemServices(), prompt: given.prompt ?? inquirerPrompt, now: given.now ?? (() => new Date()) };
}

/**
 * SIGINT, SIGTERM and SIGHUP (`interrupts`): before the first write, the run stops with exit 130 and nothing
 * written (a snapshot it took is removed); after it, the first one cuts the restart or the gate short and puts
 * the node back (exit 3, or 4); during the put-back, the second says what a third would abandon, and the third
 * leaves the node as it is then (exit 4, the snapshot `interrupted`, the rollback to run named).
 */
export async function runApply(context: CommandContext, options: ApplyOptions, toolVersion: string, interrupts: Interrupts = noInterrupts()): Promise<number> {
  const { io, fs } = context.effects;
  const change = changeEffects(context);
  const times = gateTimes(options);
  const rollout = rolloutId(options.rollout);
  const waitSeconds = lockWaitSeconds(options);
  const target = await stateTarget(change.ops, options);
  const paint = palette(colorEnabled({ flag: options.color, env: io.env, isTTY: io.isTTY }));
  const say = (line: string) => io.out(`${shown(line)}\n`);

  if (options.plan !== undefined) {
    const given = (['profile', 'only', 'skip'] as const).filter((name) => options[name] !== undefined);
    if (given.length > 0) throw new UsageError(`a saved plan is applied exactly and does not take ${given.map((n) => `--${n}`).join(', ')}`, { hint: 'make a new plan with harden plan --out, or leave out the plan file' });
  }
  const waivers = await readWaivers(context, options);
  await warnInterruptedChange(context, target.stateDir);
  // The lock first, and the plan under it: a plan made before another run let go of the node (or while it was
  // putting the node back) would answer for a node that is no longer there.
  const lock = await takeLock(context, change.ops, target, waitSeconds);
  try {
    let planned = await makePlan(context, options, target, waivers);
    if (waivers.files.length > 0) warnWaivers(context, waivers, planned.profile, planned.assessment.results);
    refuseProblems(planned.plan);
    if (!changesAnything(planned.plan)) {
      // Some rules chosen (--only, --skip, or a saved plan made with them): they pass, which is not the whole profile.
      const selection = planned.profile.rules.length < planned.profile.allRules.length;
      io.out(planText(planned.plan, paint, { root: target.root, reasons: {}, selection, waived: waivedRules(planned.assessment.results) }));
      return ExitCode.ok;
    }
    const about = [
      ...planned.plan.files.map((f) => f.path),
      ...planned.plan.companions.map((c) => c.path),
      ...(planned.plan.directories ?? []).map((d) => d.path),
      ...sysctlFilesOf(planned.plan).map((f) => f.path),
    ];
    await recoverFromDeadRuns(context, change.ops, target, lock, about);
    const gate = gateRunner(context, change, target, planned.assessment, times.timeout, times.window);
    await preflight({
      interactive: io.interactive,
      yes: options.yes === true,
      confirming: 'the changes',
      restart: options.restart,
      restarts: planned.plan.restarts,
      services: change.services,
      probes: probesFor(change, target, planned.assessment, planned.plan.restarts),
    });

    if (options.restart) {
      const before = await gate(planned.plan.restarts, 'before', interrupts.signal);
      stopIfInterrupted(interrupts);
      if (!before.ok && !options.force) {
        throw new HardenError(`the node is not healthy before the change: ${before.failures.map((f) => f.message).join('; ')}`, {
          hint: 'fix the node first (journalctl -u the failing service), or pass --force to apply anyway',
        });
      }
    }

    if (!options.yes) {
      io.out(planText(planned.plan, paint, { root: target.root, reasons: reasonsOf(planned), waived: waivedRules(planned.assessment.results) }));
      if (options.plan === undefined && planned.profile) {
        // Shown again only when the choice changed it: with every change kept, the plan above is the plan.
        const chosen = await chooseChanges(context, change, options, target, planned, interrupts, waivers);
        if (chosen !== null) {
          planned = chosen;
          refuseProblems(planned.plan);
          io.out(planText(planned.plan, paint, { root: target.root, reasons: reasonsOf(planned), waived: waivedRules(planned.assessment.results) }));
        }
      }
      if (!(await change.prompt.confirm('Apply these changes?', { signal: interrupts.signal }))) {
        say('Nothing was changed.');
        return ExitCode.error;
      }
    }

    const plan = planned.plan;
    const newStore = await storeIsNew(change.ops, target.stateDir);
    const snapshot = await takeSnapshot(change, target, planned, toolVersion, newStore, rollout);
    say(`Snapshot ${snapshot.id} in ${target.stateDir}/snapshots/${snapshot.id}`);
    const staged = await writeAll(change.ops, target.root, plan, snapshot, target.stateDir, {
      patch: options.restart ? {} : { restartsOwed: [...plan.restarts] },
      storeIsNew: newStore,
      beforeFirstWrite: () => stopIfInterrupted(interrupts),
    });
    try {
      say(writtenLine(plan));
      const stopped = () => `interrupted by ${interrupts.first()} after the first write`;

      if (!options.restart) {
        // Nothing restarted: the files alone go back.
        if (interrupts.count() > 0) return await putBack(context, change, target, [], snapshot, stopped(), gate, staged, interrupts);
        if (plan.restarts.length > 0) say(`Not restarted (--no-restart): the running services do not use the new files until ${plan.restarts.map((s) => `snap restart ${s.replace(/^snap\./, '')}`).join(', ')}.`);
        say(undoLine(target, options.stateDir, snapshot.id));
        return ExitCode.ok;
      }

      const back = (why: string) => putBack(context, change, target, plan.restarts, snapshot, why, gate, staged, interrupts);
      for (const service of plan.restarts) {
        if (interrupts.count() > 0) return await back(stopped());
        say(`Restarting ${service}`);
        try {
          await change.services.restart(service);
        } catch (error) {
          return await back(`${service} did not restart: ${(error as Error).message}`);
        }
      }
      try {
        await setStatus(change.ops, target.stateDir, snapshot.id, 'restarted');
      } catch (error) {
        return await back((error as Error).message);
      }
      const after = await gate(plan.restarts, 'after', interrupts.signal);
      if (after.interrupted || interrupts.count() > 0) return await back(stopped());
      if (!after.ok) return await back(`the change failed its health gate: ${after.failures.map((f) => f.message).join('; ')}`);
      // Healthy: the change is kept, and the originals next to the files are no longer needed.
      await staged.finish();

      // Verify: the applied rules pass now, and MicroK8s' own start-up rewrites are recorded, not taken for drift.
      const rules = planned.profile.rules;
      const now = await assessNode(fs, target, rules);
      const files = await Promise.all(
        snapshot.files.map(async (file) => ({ ...file, sha256AfterRestart: await nodeBytes(change.ops, target.root, file.path).then((bytes) => (bytes ? sha256Of(bytes) : null)) })),
      );
      // What drift holds the node to: the rules that pass now, as found.
      const passed = now.results.filter((r) => r.status === 'PASS').map((r) => r.id).sort();
      await setStatus(change.ops, target.stateDir, snapshot.id, 'verified', { files, passed }).catch((error: Error) => {
        io.err(`warning: the change is applied and healthy, but the snapshot ${snapshot.id} still says restarted: ${error.message}\n`);
      });
      await confirmClosedPorts(context, target.root, planned.assessment.model, now.model);
      const applied = plannedRuleIds(plan);
      const still = now.results.filter((r) => applied.has(r.id) && r.status !== 'PASS');
      say(still.length === 0 ? `Applied and verified: ${applied.size} rules now pass.` : `Applied; ${still.length} of ${applied.size} rules do not pass yet: ${still.map((r) => `${r.id} (${r.reason})`).join('; ')}`);
      say(undoLine(target, options.stateDir, snapshot.id));
      return ExitCode.ok;
    } finally {
      // Kept or put back, no temp file and no second name of an original stays next to the node's files.
      await staged.finish();
    }
  } finally {
    await lock.release();
  }
}

/** `Wrote 3 files, changed 2 modes, created 1 directory, set 4 running kernel parameters.` */
function writtenLine(plan: Plan): string {
  const files = plan.files.length + plan.companions.length + sysctlFilesOf(plan).length;
  const directories = (plan.directories ?? []).length;
  const running = runningOf(plan).length;
  const parts = [
    ...(plan.modes.length ? [`changed ${plan.modes.length} ${plan.modes.length === 1 ? 'mode' : 'modes'}`] : []),
    ...(directories ? [`created ${directories} ${directories === 1 ? 'directory' : 'directories'}`] : []),
    ...(running ? [`set ${running} running kernel ${running === 1 ? 'parameter' : 'parameters'}`] : []),
  ];
  return `Wrote ${files} ${files === 1 ? 'file' : 'files'}${parts.length ? `, ${parts.join(', ')}` : ''}.`;
}

/** --rollout: undefined when not given; a word matching ROLLOUT_ID otherwise (it is matched by playbooks and shown in listings). */
function rolloutId(given: unknown): string | undefined {
  if (given === undefined) return undefined;
  const text = Array.isArray(given) ? given.map(String).join(' ') : String(given);
  if (!ROLLOUT_ID.test(text)) {
    throw new UsageError(`--rollout takes 1 to 64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit (got ${JSON.stringify(text)})`, { hint: 'for example --rollout 2026-12-06T23-50' });
  }
  return text;
}

/** Before the first write, a signal ends the run: nothing was written (the caller's cleanup removes what it made). */
export function stopIfInterrupted(interrupts: Interrupts): void {
  if (interrupts.count() === 0) return;
  throw new HardenError(`interrupted by ${interrupts.first()} before the first write: nothing was written`, { exitCode: ExitCode.interrupted, hint: 'run the command again to start over' });
}

/** `Undo with: harden rollback ID`, with the --root (and --state-dir) it needs when the node is not this machine's /. */
function undoLine(target: NodeTarget, stateDirGiven: string | undefined, id: string): string {
  const words = ['harden'];
  if (path.resolve(target.root) !== '/') words.push('--root', shellWord(target.root));
  if (stateDirGiven !== undefined) words.push('--state-dir', shellWord(stateDirGiven));
  return `Undo with: ${[...words, 'rollback', id].join(' ')}`;
}

/**
 * The lock of the target's state dir: refused at once while another live harden run holds it, unless `--wait`
 * gave it seconds to let go (said once on stderr; `waitOption`: whether the command takes --wait, to suggest
 * it). A stale lock is taken over (see lock.ts).
 */
export async function takeLock(context: CommandContext, ops: FileOps, target: NodeTarget, waitSeconds: number, waitOption = true): Promise<Lock> {
  return acquireLock(ops, target.stateDir, process.pid, {
    waitForHolderMs: waitSeconds * 1000,
    waitOption: waitOption ? '--wait SECONDS' : undefined,
    onWait: (holder) => context.effects.io.err(`waiting up to ${waitSeconds} s for another harden run (${holderText(holder)}) to release ${shown(lockPath(target.stateDir))}\n`),
  });
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

/** The probes of the health gates over the given services, reading the node's files as they are when each runs. */
export function probesFor(change: ChangeEffects, target: NodeTarget, assessment: Assessment, restarts: readonly string[]): Probe[] {
  return healthProbes({ root: target.root, model: assessment.model, services: restarts }, async (nodePath) => (await nodeBytes(change.ops, target.root, nodePath))?.toString('utf8') ?? null);
}

/** Runs a health gate over the given services; `signal` ends its wait at once. `note` prints a line while one waits. */
export interface GateRunner {
  (restarts: readonly string[], what: string, signal?: AbortSignal): Promise<GateResult>;
  note(text: string): void;
}

/** Health gates over the given services, with progress on stderr (one line rewritten in place on a terminal). */
export function gateRunner(context: CommandContext, change: ChangeEffects, target: NodeTarget, assessment: Assessment, timeoutSeconds: number, windowSeconds: number): GateRunner {
  const { io } = context.effects;
  const progress = progressWriter((text) => io.err(text), io.errColumns ?? null);
  const gate = async (restarts: readonly string[], what: string, signal?: AbortSignal): Promise<GateResult> => {
    const probes = probesFor(change, target, assessment, restarts);
    const view = progress.view(what);
    try {
      return await runGates(change.services, probes, restarts, { timeoutMs: timeoutSeconds * 1000, stableMs: windowSeconds * 1000, onProgress: (state) => view.update(state), signal });
    } finally {
      view.end();
    }
  };
  return Object.assign(gate, { note: (text: string) => progress.note(text) });
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

/**
 * A saved plan decided with cluster facts is applied only with those very facts (--cluster, the same sha256),
 * read again and still young enough; one made without them is applied without.
 */
function savedPlanCluster(file: string, document: PlanDocument, options: ApplyOptions): void {
  const recorded = document.cluster;
  if (!recorded && options.cluster !== undefined) {
    throw new HardenError(`${file} was made without cluster facts, and --cluster was given`, { hint: 'apply it without --cluster, or make a new plan with harden plan --cluster FILE --out' });
  }
  if (recorded && options.cluster === undefined) {
    const named = recorded.file === STANDARD_INPUT ? 'cluster facts piped in on standard input' : `the cluster facts ${recorded.file}`;
    const again = recorded.file === STANDARD_INPUT ? '--cluster - and the same facts on standard input' : `--cluster ${recorded.file}`;
    throw new HardenError(`${file} was made with ${named} (sha256 ${recorded.sha256.replace(/^sha256:/, '').slice(0, 16)}…)`, { hint: `apply it with ${again}` });
  }
}

async function makePlan(context: CommandContext, options: ApplyOptions, target: NodeTarget, waivers: RunWaivers, rules?: readonly Rule[]): Promise<Planned> {
  const { fs } = context.effects;
  if (options.plan !== undefined) {
    const document = await readPlanFile(fs, options.plan);
    const assessment = await assessNode(fs, target, []);
    // A copy of the root (a cloned image) reads and plans the same: the plan says which node it was made for.
    const elsewhere = identityDifference(document.identity, await rootIdentity(fs, target.root, assessment.model.report.revision));
    if (elsewhere !== null) {
      const made = `${options.plan} was made for ${identityText(document.identity)}, not this one: ${elsewhere}`;
      if (!options.force) throw new HardenError(made, { hint: 'make a new plan on this node with harden plan --out FILE, or pass --force to apply it here anyway' });
      context.effects.io.err(`${shown(`warning: ${made}; applying it here as --force asks`)}\n`);
    }
    const current = inputDigests(assessment.facts);
    // The args files first, before the profile is loaded; what file-mode rules planned from once it is, below.
    const changed = [...new Set([...Object.keys(document.inputs).filter((key) => !isEntryInput(key)), ...Object.keys(current)])].filter((path) => document.inputs[path] !== current[path]).sort();
    if (changed.length > 0) {
      throw new HardenError(`the node changed since the plan was made: ${changed.join(', ')}`, { hint: 'make a new plan with harden plan --out, review it, and apply that' });
    }
    // The plan's own sha256 catches a damaged file, not a forged one: what it changes must also be exactly what
    // its profile and rules give on this node now, so that a plan file is never more than a reviewed copy.
    const saved = await savedPlanProfile(options.plan, document);
    savedPlanCluster(options.plan, document, options);
    savedPlanWaivers(options.plan, document.waivers, waivers);
    const fresh = await makePlan(context, { ...options, plan: undefined, profile: saved.reference, only: undefined, skip: undefined }, target, waivers, saved.rules);
    if (document.cluster && fresh.plan.cluster?.sha256 !== document.cluster.sha256) {
      throw new HardenError(`${options.cluster} are not the cluster facts ${options.plan} was made with (sha256 ${document.cluster.sha256.replace(/^sha256:/, '').slice(0, 16)}…)`, {
        hint: 'apply it with the cluster facts it was made with, or make a new plan with these',
      });
    }
    // Read again with the plan's rules: the args files, and the modes, owners and inodes its file-mode rules planned from.
    const now = { ...inputDigests(fresh.assessment.facts), ...entryInputs(saved.rules, fresh.assessment.answers, fresh.assessment.vars) };
    const moved = [...new Set([...Object.keys(document.inputs), ...Object.keys(now)])].filter((key) => document.inputs[key] !== now[key]).sort();
    if (moved.length > 0) {
      throw new HardenError(`the node changed since the plan was made: ${moved.map((key) => inputChangeText(key, document.inputs[key], now[key])).join(', ')}`, {
        hint: 'make a new plan with harden plan --out, review it, and apply that',
      });
    }
    refuseLapsedWaivers(options.plan, document.waivers, fresh.assessment.results);
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
  const cluster = await optionalClusterFacts(context, options, profileIdentity(profile));
  const assessment = await assessNode(fs, target, selected, undefined, { facts: cluster, mode: 'change', allRules: profile.allRules }, await nodeWaivers(fs, target, waivers));
  const plan = buildPlan({
    model: assessment.model,
    rules: selected,
    results: assessment.results,
    facts: assessment.answers,
    vars: assessment.vars,
    profile: profileIdentity(profile),
    cluster: cluster && { file: cluster.file === STANDARD_INPUT ? STANDARD_INPUT : path.resolve(cluster.file), sha256: cluster.sha256 },
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

/** The checklist: every failing rule, grouped by the file it changes; the plan is rebuilt from the choice (null: all kept). */
async function chooseChanges(context: CommandContext, change: ChangeEffects, options: ApplyOptions, target: NodeTarget, planned: Planned, interrupts: Interrupts, waivers: RunWaivers): Promise<Planned | null> {
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
  // Declining a prerequisite leaves its rule out: the rules that need it are then blocked, and say why.
  const prerequisites = 'prerequisites (declining one blocks the rules that need it)';
  for (const directory of planned.plan.directories ?? []) add(prerequisites, directory.ruleId);
  for (const sysctl of planned.plan.sysctls ?? []) add(prerequisites, sysctl.ruleId);
  const groups = [...byTarget].map(([title, choices]) => ({ title, choices }));
  const kept = new Set(await change.prompt.choose('Changes to make (space toggles, enter accepts)', groups, { signal: interrupts.signal }));
  const offered = new Set(groups.flatMap((g) => g.choices.map((c) => c.value)));
  if ([...offered].every((id) => kept.has(id))) return null;
  // Rules not offered (passing, manual, blocked) stay, so that requirements are judged as before.
  const rules = planned.profile!.rules.filter((rule) => !offered.has(rule.id) || kept.has(rule.id));
  return makePlan(context, options, target, waivers, rules);
}

/** A node file's bytes inside the root, through symlinks; null when it is missing or cannot be read. */
async function nodeBytes(ops: FileOps, root: string, nodePath: string): Promise<Buffer | null> {
  try {
    return (await readNodeFile(ops, root, nodePath))?.content ?? null;
  } catch {
    return null;
  }
}

export { putBack, restoreSnapshot };
export type { Services };
