// The plan: what applying a profile would change on a node, built by pure code from the node model and the
// rule results. Nothing here reads or writes a file; the effects layer hands in texts, facts and templates,
// and `apply` later carries out exactly this object.
import type { Era } from './consumers.js';
import { editArgsFile, type FlagEdit } from './edit-args.js';
import { checkEditedFile } from './edit-check.js';
import { argsFileOf, expandPath, fileModeTargets, octalMode, untouchable, type EntryFact, type NodeFactAnswers, type PathFact, type RuleResult } from './evaluate.js';
import { permittedNodePath, permittedText } from './rule-paths.js';
import { printArgsFile } from './args-file.js';
import type { NodeModel } from './node.js';
import { SNAP_DATA_CURRENT, snapVars } from './node-env.js';
import type { Rule } from './profile.js';
import { compareStrings } from './order.js';
import { unsafeValueReason, VALUE_RULE } from './safe-value.js';
import { quoted } from './finding.js';
import { assignmentText } from './evaluate.js';
import { persistedSysctls, sameSysctlValue, sysctlProcPath } from './sysctl.js';

/**
 * The plan document's format. v3 (from v2): `identity` says which node the plan was made for (the root's real
 * path, its revision and its machine-id), and `apply` refuses it on another without --force. A v2 plan lacks
 * it, so it cannot say where it belongs: it is refused as from an earlier harden, with a hint to plan again.
 * v2 (from v1): `profile` says where the profile came from (`source` shipped or
 * file, the `file`'s path) and its `sha256`, where v1's `source` was a path that a user's file could make look
 * like a shipped profile; and every saved plan is held to the schema in plan-schema.ts. A v1 plan is refused.
 */
export const PLAN_SCHEMA = 'harden.plan/v3';

/**
 * The profile a plan was made from, as plans show it: a shipped profile by its name, a user's file by its path
 * (whatever `name:` it gives itself), and either by the sha256 of its content (name, title, description and
 * every rule after `extends`, before --only and --skip).
 */
export interface ProfileIdentity {
  /** The profile's own `name:`. */
  readonly name: string;
  readonly source: 'shipped' | 'file';
  /** The file's absolute path when `source` is `file`; null for a shipped profile. */
  readonly file: string | null;
  /** `sha256:<hex>`. */
  readonly sha256: string;
}

export interface PlanEdit {
  readonly ruleIds: readonly string[];
  readonly flag: string;
  readonly action: 'add' | 'change' | 'remove';
  /** Line in the file as it is now (null for an added line). */
  readonly line: number | null;
  /** Line in the file as it will be (null for a removed line). */
  readonly newLine: number | null;
  readonly before: string | null;
  readonly after: string | null;
  readonly note: string | null;
}

export interface PlanFile {
  readonly name: string;
  /** Node path through `current`: `/var/snap/microk8s/current/args/kube-apiserver`. */
  readonly path: string;
  readonly service: string | null;
  readonly reader: 'bash' | 'kubelite';
  readonly before: string;
  readonly after: string;
  readonly edits: readonly PlanEdit[];
}

export interface PlanCompanion {
  readonly ruleId: string;
  readonly path: string;
  readonly template: string;
  readonly mode: string;
  readonly content: string;
}

export interface PlanModeChange {
  readonly ruleIds: readonly string[];
  readonly path: string;
  readonly type: PathFact['type'];
  readonly mode: { readonly from: string; readonly to: string } | null;
  readonly owner: { readonly from: string; readonly to: string } | null;
}

/** A directory a rule needs and harden creates (the audit log's). */
export interface PlanDirectory {
  readonly ruleId: string;
  readonly path: string;
  readonly mode: string;
  readonly owner: string;
}

/**
 * Kernel parameters a rule needs: the rule's file under /etc/sysctl.d/ that systemd-sysctl applies at boot, and
 * the running values, set in place in their procfs files (the one write harden makes that is not a rename).
 */
export interface PlanSysctl {
  readonly ruleId: string;
  /** The file: what it holds now (null: absent) and what harden writes; null when it already says exactly that. */
  readonly file: { readonly path: string; readonly before: string | null; readonly after: string } | null;
  /** The running values that differ, and what they become. */
  readonly running: readonly { readonly key: string; readonly path: string; readonly from: string; readonly to: string }[];
  /** Every parameter of the rule: the value wanted, and how it runs and is persisted now, in words. */
  readonly persisted: readonly { readonly key: string; readonly want: string; readonly now: string }[];
}

export interface PlanNote {
  readonly ruleId: string;
  readonly text: string;
  /** For a problem: what to do about it, when that is more than leaving the rule out. */
  readonly hint?: string;
}

export interface Plan {
  readonly schema: typeof PLAN_SCHEMA;
  readonly profile: ProfileIdentity;
  /** The cluster facts the plan was decided with (--cluster): their file and sha256. Absent without them. */
  readonly cluster?: PlanCluster;
  readonly node: {
    readonly version: string | null;
    readonly revision: string | null;
    readonly era: Era;
    readonly role: string;
    readonly datastore: string;
  };
  readonly files: readonly PlanFile[];
  readonly companions: readonly PlanCompanion[];
  readonly modes: readonly PlanModeChange[];
  /** Directories harden creates; absent from a plan saved before prerequisites were planned. */
  readonly directories?: readonly PlanDirectory[];
  /** Kernel parameters harden sets running and persists; absent from a plan saved before prerequisites were planned. */
  readonly sysctls?: readonly PlanSysctl[];
  /** Services to restart once each, in this order (datastore before kubelite). */
  readonly restarts: readonly string[];
  readonly healthChecks: readonly string[];
  readonly risks: readonly PlanNote[];
  readonly blocked: readonly PlanNote[];
  readonly manual: readonly PlanNote[];
  /** What MicroK8s itself may later rewrite, and what a cluster means for this change. */
  readonly warnings: readonly string[];
  /** Rules the plan cannot carry out safely: a plan with problems must not be applied. */
  readonly problems: readonly PlanNote[];
  readonly summary: {
    readonly add: number;
    readonly change: number;
    readonly remove: number;
    readonly files: number;
    /** Whether `check` passes once the plan is applied: nothing left failing or blocked. */
    readonly compliantAfter: boolean;
    readonly compliantNow: boolean;
  };
}

export interface PlanCluster {
  readonly file: string;
  readonly sha256: string;
}

export interface PlanInputs {
  readonly model: NodeModel;
  readonly rules: readonly Rule[];
  readonly results: readonly RuleResult[];
  readonly facts: NodeFactAnswers;
  readonly vars: Readonly<Record<string, string>>;
  readonly profile: ProfileIdentity;
  readonly cluster?: PlanCluster | null;
  /** Template texts by their name in profiles (`templates/audit-policy.yaml`). */
  readonly templates: Readonly<Record<string, string>>;
  /** The node's `var/lock/` entries. */
  readonly locks: readonly string[];
}

const SERVICE_ORDER = ['etcd', 'k8s-dqlite', 'containerd', 'apiserver'];

function restartRank(service: string): number {
  const index = SERVICE_ORDER.findIndex((name) => service === `snap.microk8s.daemon-${name}`);
  return index === -1 ? SERVICE_ORDER.length : index;
}

/** The rules a plan changes something for: its edits', its companion files', its mode changes' and its prerequisites'. */
export function plannedRuleIds(plan: Pick<Plan, 'files' | 'companions' | 'modes' | 'directories' | 'sysctls'>): Set<string> {
  return new Set([
    ...plan.files.flatMap((f) => f.edits.flatMap((e) => e.ruleIds)),
    ...plan.companions.map((c) => c.ruleId),
    ...plan.modes.flatMap((m) => m.ruleIds),
    ...(plan.directories ?? []).map((d) => d.ruleId),
    ...(plan.sysctls ?? []).map((k) => k.ruleId),
  ]);
}

/** The files a plan's sysctl rules write under /etc/sysctl.d/ (none where a file already says it all). */
export function sysctlFilesOf(plan: Pick<Plan, 'sysctls'>): NonNullable<PlanSysctl['file']>[] {
  return (plan.sysctls ?? []).flatMap((sysctl) => (sysctl.file ? [sysctl.file] : []));
}

/** The running kernel parameters a plan sets, in place under /proc/sys. */
export function runningOf(plan: Pick<Plan, 'sysctls'>): PlanSysctl['running'][number][] {
  return (plan.sysctls ?? []).flatMap((sysctl) => sysctl.running);
}

/** Whether carrying out the plan changes anything on the node. */
export function changesAnything(plan: Pick<Plan, 'files' | 'companions' | 'modes' | 'directories' | 'sysctls'>): boolean {
  return plan.files.length + plan.companions.length + plan.modes.length + (plan.directories ?? []).length + (plan.sysctls ?? []).length > 0;
}

export function buildPlan(inputs: PlanInputs): Plan {
  const { model, rules, results, facts, vars } = inputs;
  const ruleById = new Map(rules.map((rule) => [rule.id, rule]));
  // An args file that fails its reader check is not a rule to carry out: it is fixed by hand (blocked, below).
  const failing = results.filter((result) => result.status === 'FAIL' && ruleById.has(result.id)).map((result) => ruleById.get(result.id)!);
  const problems: PlanNote[] = [];

  // Flag rules, grouped by file and flag: a flag gets one final value however many rules touch it.
  const byFile = new Map<string, Map<string, Rule[]>>();
  for (const rule of failing.filter((r) => r.flag !== undefined)) {
    const file = argsFileOf(rule.component);
    const flags = byFile.get(file) ?? new Map<string, Rule[]>();
    flags.set(rule.flag!, [...(flags.get(rule.flag!) ?? []), rule]);
    byFile.set(file, flags);
  }
  const files: PlanFile[] = [];
  for (const [name, flags] of byFile) {
    const view = model.views.get(name);
    const report = model.report.files.find((file) => file.name === name);
    if (!view || !report) {
      for (const rule of [...flags.values()].flat()) problems.push({ ruleId: rule.id, text: `${name} is not an args file this node has` });
      continue;
    }
    const edits: FlagEdit[] = [];
    for (const [flag, flagRules] of flags) {
      const edit = finalEdit(flag, flagRules, view.flags.flags.get(flag)?.value ?? null, view.flags.flags.has(flag));
      if ('problem' in edit) problems.push({ ruleId: flagRules.map((rule) => rule.id).join(','), text: edit.problem });
      else if (edit.edit) edits.push(edit.edit);
    }
    const before = printArgsFile(view.file);
    const { text: after, changes } = editArgsFile(before, edits);
    if (after === before) continue;
    const reader = report.reader === 'kubelite' ? 'kubelite' : 'bash';
    const env = { vars: { ...vars }, unknownVariables: 'keep' as const };
    // The model's view of the file is the one the check would make again, when the variables are the node's.
    const original = sameVars(vars, snapVars(model.report.revision)) ? view : undefined;
    for (const problem of checkEditedFile(before, after, { reader, component: report.component, env, expect: edits, original })) {
      const hint = problem.fixLine === undefined ? {} : { hint: `fix line ${problem.fixLine} of ${report.path} by hand (harden check lists what is wrong with it), then run harden again` };
      problems.push({ ruleId: edits.map((e) => e.ruleId).join(','), text: `${report.path}: ${problem.code}: ${problem.message}`, ...hint });
    }
    files.push({
      name,
      path: report.path,
      service: report.service,
      reader,
      before,
      after,
      edits: changes.map((change) => ({
        ruleIds: change.ruleId.split(','),
        flag: change.flag,
        action: change.action,
        line: change.line,
        newLine: change.newLine,
        before: change.before,
        after: change.after,
        note: change.note ?? null,
      })),
    });
  }

  const companions: PlanCompanion[] = [];
  for (const rule of failing.filter((r) => r.operation === 'companion-file')) {
    const content = inputs.templates[rule.template!];
    const path = expandPath(rule.path!, vars);
    const entry = facts.entries[path];
    if (content === undefined) problems.push({ ruleId: rule.id, text: `template ${rule.template} is not shipped with the profiles` });
    else if (!permittedNodePath(path) || (entry && !permittedNodePath(entry.realPath))) problems.push({ ruleId: rule.id, text: `${entry ? entry.realPath : path} is not under ${permittedText()}` });
    else if (entry) problems.push({ ruleId: rule.id, text: `${path} is ${entry.type === 'link' ? `a symlink to ${entry.target ?? '?'}` : 'there and not a regular file'}: harden never writes through a link nor over something else; remove it` });
    else companions.push({ ruleId: rule.id, path, template: rule.template!, mode: rule.mode!, content });
  }

  // A directory that is there already only has its mode and owner made right, like a file-mode rule's; anything
  // else in its place (a file, a link) is named, never changed.
  const directoryRules = failing.filter((r) => r.operation === 'directory');
  const existing = (rule: Rule) => (facts.entries[expandPath(rule.path!, vars)] ?? null) !== null;
  for (const rule of directoryRules.filter(existing)) {
    const entry = facts.entries[expandPath(rule.path!, vars)]!;
    if (entry.type !== 'directory' && entry.type !== 'link') problems.push({ ruleId: rule.id, text: `${expandPath(rule.path!, vars)} is there and not a directory: move it away` });
  }
  const asModes = directoryRules.filter((rule) => existing(rule) && ['directory', 'link'].includes(facts.entries[expandPath(rule.path!, vars)]!.type));
  const modes = modeChanges([...failing.filter((r) => r.operation === 'file-mode'), ...asModes], facts, vars, problems);
  const directories: PlanDirectory[] = directoryRules
    .filter((rule) => !existing(rule))
    .map((rule) => ({ ruleId: rule.id, path: expandPath(rule.path!, vars), mode: rule.mode!, owner: rule.owner! }));
  const sysctls = failing.filter((r) => r.operation === 'sysctl').flatMap((rule) => {
    const planned = sysctlChange(rule, facts);
    if ('problem' in planned) {
      problems.push({ ruleId: rule.id, text: planned.problem });
      return [];
    }
    return [planned];
  });

  const services = new Set(files.map((file) => file.service).filter((service): service is string => service !== null));
  const restarts = [...services].sort((a, b) => restartRank(a) - restartRank(b) || compareStrings(a, b));

  const selected = new Set(failing.map((rule) => rule.id));
  const risks = rules.filter((rule) => selected.has(rule.id)).flatMap((rule) => (rule.risks ?? []).map((text) => ({ ruleId: rule.id, text })));
  const blocked = results.filter((r) => r.status === 'BLOCKED' || (r.status === 'FAIL' && !ruleById.has(r.id))).map((r) => ({ ruleId: r.id, text: r.reason }));
  const manual = results.filter((r) => r.status === 'MANUAL').map((r) => ({ ruleId: r.id, text: r.reason }));

  const count = (action: PlanEdit['action']) => files.reduce((sum, file) => sum + file.edits.filter((edit) => edit.action === action).length, 0);
  // Args files are named through `current`, rule paths through the revision: count each file once.
  const samePath = (path: string) => (path.startsWith(`${vars.SNAP_DATA}/`) ? `${SNAP_DATA_CURRENT}/${path.slice(vars.SNAP_DATA.length + 1)}` : path);
  const touched = new Set(
    [...files.map((f) => f.path), ...companions.map((c) => c.path), ...modes.map((m) => m.path), ...directories.map((d) => d.path), ...sysctlFilesOf({ sysctls }).map((f) => f.path)].map(samePath),
  );
  const sysctlFiles = sysctlFilesOf({ sysctls });
  const runningValues = runningOf({ sysctls }).length;
  const compliantNow = results.every((r) => r.status !== 'FAIL' && r.status !== 'BLOCKED');
  return {
    schema: PLAN_SCHEMA,
    profile: inputs.profile,
    ...(inputs.cluster ? { cluster: { file: inputs.cluster.file, sha256: inputs.cluster.sha256 } } : {}),
    node: {
      version: model.report.version,
      revision: model.report.revision,
      era: model.report.era,
      role: model.report.role,
      datastore: model.report.datastore.kind,
    },
    files,
    companions,
    modes,
    directories,
    sysctls,
    restarts,
    healthChecks: healthChecks(restarts),
    risks,
    blocked,
    manual,
    warnings: warnings(model, files, modes, inputs.locks.includes('cis-hardening') || companions.some((c) => c.path.endsWith('/var/lock/cis-hardening'))),
    problems,
    summary: {
      add: count('add') + companions.length + directories.length + sysctlFiles.filter((f) => f.before === null).length,
      change: count('change') + modes.length + sysctlFiles.filter((f) => f.before !== null).length + runningValues,
      remove: count('remove'),
      files: touched.size,
      compliantAfter: problems.length === 0 && blocked.length === 0,
      compliantNow,
    },
  };
}

/** The text of a sysctl rule's file: a header that says whose it is, then each parameter, in the rule's order. */
export function sysctlFileText(rule: Rule): string {
  const lines = Object.entries(rule.sysctls ?? {}).map(([key, value]) => `${key} = ${value}\n`);
  return `# Written by harden for rule ${rule.id}: applied at every boot by systemd-sysctl.\n# harden rollback removes it; edit the profile, not this file.\n${lines.join('')}`;
}

/** What a running value may be for a plan to record it (and put it back): numbers and words, as procfs shows them. */
const SYSCTL_VALUE = /^[A-Za-z0-9_.:-]+([ \t][A-Za-z0-9_.:-]+)*$/;

/** A failing sysctl rule as a change: its file when it differs, and each running value that differs. */
function sysctlChange(rule: Rule, facts: NodeFactAnswers): PlanSysctl | { problem: string } {
  const path = rule.path!;
  const dir = path.slice(0, path.lastIndexOf('/'));
  const name = path.slice(path.lastIndexOf('/') + 1);
  const entry = facts.entries[path];
  if (entry && (entry.type !== 'file' || untouchable(entry) !== null)) {
    return { problem: `${path} is ${entry.type === 'link' ? `a symlink to ${entry.target ?? '?'}` : untouchable(entry) ?? 'there and not a regular file'}: harden never writes through a link nor over something else; remove it` };
  }
  const before = entry ? (facts.sysctlFiles ?? []).find((f) => f.dir === dir && f.name === name)?.text ?? null : null;
  if (entry && before === null) return { problem: `${path} cannot be read: harden replaces only a file it has read` };
  const after = sysctlFileText(rule);
  const wanted = Object.entries(rule.sysctls ?? {});
  const persisted = persistedSysctls(facts.sysctlFiles ?? [], wanted.map(([key]) => key));
  const running: { key: string; path: string; from: string; to: string }[] = [];
  for (const [key, want] of wanted) {
    const now = facts.sysctls[key] ?? null;
    if (now === null) return { problem: `${sysctlProcPath(key)} is missing: this kernel has no ${key}` };
    if (!SYSCTL_VALUE.test(now)) return { problem: `${sysctlProcPath(key)} holds ${quoted(now)}, not a value harden can record and put back` };
    if (!sameSysctlValue(now, want)) running.push({ key, path: sysctlProcPath(key), from: now, to: want });
  }
  return {
    ruleId: rule.id,
    file: before === after ? null : { path, before, after },
    running,
    persisted: wanted.map(([key, want]) => {
      const set = persisted.get(key) ?? null;
      const where = set === null ? 'persisted nowhere' : `persisted as ${set.value} by ${assignmentText(set)}`;
      return { key, want, now: `running ${facts.sysctls[key]}, ${where}` };
    }),
  };
}

/** One flag's final edit from every failing rule that touches it. */
function finalEdit(flag: string, rules: readonly Rule[], current: string | null, present: boolean): { edit: FlagEdit | null } | { problem: string } {
  const ruleId = rules.map((rule) => rule.id).join(',');
  const sets = rules.filter((rule) => rule.operation === 'set-flag');
  const removes = rules.filter((rule) => rule.operation === 'remove-flag');
  const lists = rules.filter((rule) => rule.operation === 'include-items' || rule.operation === 'exclude-items');
  if (sets.length + (removes.length > 0 ? 1 : 0) + (lists.length > 0 ? 1 : 0) > 1 || new Set(sets.map((rule) => rule.value)).size > 1) {
    return { problem: `they ask for different values of ${flag}; keep one of them` };
  }
  if (sets.length > 0) return safeSet(flag, sets[0].value!, ruleId);
  if (removes.length > 0) return { edit: present ? { kind: 'remove', flag, ruleId } : null };
  // List flags: keep the items there are, in their order; add what is missing at the end; drop excluded items.
  let items = present && current ? current.split(',').filter((item) => item !== '') : [];
  for (const rule of lists.filter((r) => r.operation === 'include-items')) items = [...items, ...rule.items!.filter((item) => !items.includes(item))];
  for (const rule of lists.filter((r) => r.operation === 'exclude-items')) items = items.filter((item) => !rule.items!.includes(item));
  if (items.length === 0) return { edit: present ? { kind: 'remove', flag, ruleId } : null };
  return safeSet(flag, items.join(','), ruleId);
}

/**
 * A set edit, or why its value cannot be written: the one definition of a safe value (safe-value.ts) that the
 * profile schema holds values to and the editor enforces. A list's value keeps the items the node has, which
 * no schema has seen.
 */
function safeSet(flag: string, value: string, ruleId: string): { edit: FlagEdit } | { problem: string } {
  const reason = unsafeValueReason(value);
  if (reason !== null) return { problem: `harden will not write ${flag}=${quoted(value)}: ${reason}; ${VALUE_RULE}` };
  return { edit: { kind: 'set', flag, value, ruleId } };
}

/**
 * Mode and owner changes: modes only lose bits (never opened), several rules on one path combine. What harden
 * will not touch (a symlink, a FIFO, a file with a second name, something reached through a link to elsewhere)
 * is a problem of the plan, named, never followed.
 */
function modeChanges(rules: readonly Rule[], facts: NodeFactAnswers, vars: Readonly<Record<string, string>>, problems: PlanNote[]): PlanModeChange[] {
  const byPath = new Map<string, { fact: PathFact; mask: number; owner: string | null; ruleIds: string[] }>();
  const want = (path: string, fact: PathFact, rule: Rule) => {
    const entry = byPath.get(path) ?? { fact, mask: 0o777, owner: null, ruleIds: [] };
    if (rule.mode) entry.mask &= Number.parseInt(rule.mode, 8);
    if (rule.owner) entry.owner = rule.owner;
    entry.ruleIds.push(rule.id);
    byPath.set(path, entry);
  };
  for (const rule of rules) {
    const path = expandPath(rule.path!, vars);
    if (!permittedNodePath(path)) {
      problems.push({ ruleId: rule.id, text: `${path} is not under ${permittedText()}` });
      continue;
    }
    const targets = fileModeTargets(rule, facts, vars);
    const own = facts.entries[path];
    // A path that is itself a link is not looked into: it is the one finding, whatever the glob.
    const refusedSelf = own ? untouchable(own) : null;
    if (refusedSelf !== null) {
      problems.push({ ruleId: rule.id, text: `${path}: ${refusedSelf}` });
      continue;
    }
    for (const { path: target, fact } of targets) {
      const refused = untouchable(fact);
      if (refused === null) want(target, fact, rule);
      else problems.push({ ruleId: rule.id, text: `${target}: ${refused}` });
    }
  }
  const changes: PlanModeChange[] = [];
  for (const [path, { fact, mask, owner, ruleIds }] of [...byPath].sort(([a], [b]) => compareStrings(a, b))) {
    // Never a bit more: the new mode is the old one with bits taken away.
    const to = fact.mode & 0o777 & mask;
    const mode = to !== (fact.mode & 0o777) ? { from: octalMode(fact.mode), to: octalMode(to) } : null;
    const ownerChange = owner && owner !== fact.owner ? { from: fact.owner, to: owner } : null;
    if (mode || ownerChange) changes.push({ ruleIds, path, type: fact.type, mode, owner: ownerChange });
  }
  return changes;
}

/** The suffix of the plan-input keys that hold what file-mode rules planned from. */
const ENTRY_INPUT = ' (mode and owner)';

/**
 * What the file-mode rules planned from, for a saved plan's `inputs`: every entry they looked at (the path each
 * names, and the matching directory's entries), as `file 0660 root:microk8s inode 1234`, `symlink to X`
 * or `absent` (the inode number without its device, which a reboot may number otherwise). `apply PLAN`
 * refuses when any of them differs on the node.
 */
export function entryInputs(rules: readonly Rule[], facts: NodeFactAnswers, vars: Readonly<Record<string, string>>): Record<string, string> {
  const inputs: Record<string, string> = {};
  const describe = (fact: EntryFact | null) => {
    if (!fact) return 'absent';
    if (fact.type === 'link') return `symlink to ${fact.target ?? '?'}`;
    const links = fact.type === 'file' && fact.nlink !== 1 ? ` links ${fact.nlink}` : '';
    return `${fact.type} ${(fact.mode & 0o7777).toString(8).padStart(4, '0')} ${fact.owner} inode ${fact.ino}${links}`;
  };
  for (const rule of rules.filter((r) => r.operation === 'file-mode')) {
    const path = expandPath(rule.path!, vars);
    inputs[`${path}${ENTRY_INPUT}`] = describe(facts.entries[path] ?? null);
    for (const child of facts.listings[path] ?? []) inputs[`${path}/${child.name}${ENTRY_INPUT}`] = describe(child);
  }
  return Object.fromEntries(Object.entries(inputs).sort(([a], [b]) => compareStrings(a, b)));
}

/** Whether a plan-input key holds what a file-mode rule planned from (not an args file's digest). */
export function isEntryInput(key: string): boolean {
  return key.endsWith(ENTRY_INPUT);
}

/** How one plan input differs, for the refusal of `apply PLAN`: the path, and for an entry what it was and is. */
export function inputChangeText(key: string, planned: string | undefined, now: string | undefined): string {
  if (!isEntryInput(key)) return key;
  const path = key.slice(0, -ENTRY_INPUT.length);
  const shown = (value: string | undefined) => (value ?? 'absent').replace(/ inode \S+/, '');
  const what = shown(planned) === shown(now) ? 'replaced by another file' : `${shown(planned)} when planned, ${shown(now)} now`;
  return `${path} (${what})`;
}

function healthChecks(restarts: readonly string[]): string[] {
  const checks: string[] = [];
  for (const service of restarts) {
    checks.push(`${service} is active after its restart`);
    if (service.endsWith('-kubelite') || service.endsWith('-apiserver')) checks.push('kube-apiserver answers https://127.0.0.1:16443/readyz');
    if (service.endsWith('-kubelite') || service.endsWith('-kubelet')) checks.push('the kubelet answers http://127.0.0.1:10248/healthz');
    if (service.endsWith('-etcd') || service.endsWith('-k8s-dqlite')) checks.push(`${service.replace('snap.microk8s.daemon-', '')} accepts connections on its endpoint`);
  }
  return checks;
}

const KUBERNETES_FILES = new Set(['kube-apiserver', 'kubelet', 'kube-proxy', 'kube-scheduler', 'kube-controller-manager', 'kubelite']);

/** What MicroK8s itself rewrites later, and what peers mean for a change made on one node. */
function warnings(model: NodeModel, files: readonly PlanFile[], modes: readonly PlanModeChange[], locked: boolean): string[] {
  const out: string[] = [];
  const report = model.report;
  const peers = report.peers;
  if (peers.callbackTokens.length > 0 || peers.members.length > 1 || peers.clustered) {
    const who = [...peers.callbackTokens, ...peers.members.filter((m) => m !== peers.self)];
    out.push(
      `this node has peers${who.length ? ` (${[...new Set(who)].join(', ')})` : ''}: control-plane flags such as --authorization-mode must be the same on every control-plane node, and harden changes only this one`,
    );
  }
  if (report.era === 'kubelite' && files.some((file) => KUBERNETES_FILES.has(file.name))) {
    out.push(
      'kubelite rewrites its args files at every start: it deletes flags Kubernetes removed (unless var/lock/no-arg-sanitisation exists) and adds --resolv-conf and a few host-specific kubelet flags',
    );
  }
  if (files.length > 0) {
    out.push('the configure hook (every snap refresh and `snap set microk8s`) patches some flags in place; `microk8s join` overwrites args/kubelet with the control plane\'s, so harden the joined node again after a join');
  }
  if (modes.length > 0 && !locked) {
    out.push('the configure hook and the apiservice-kicker reset file modes under args/, credentials/, certs/ and var/kubernetes/backend/ unless var/lock/cis-hardening exists');
  }
  return out;
}

/**
 * The first way a saved plan differs from the plan its profile gives now, in what it would change on the node
 * (files and their new text, companions and their content and mode, modes and owners, restarts); null when it
 * would change exactly the same. A plan file edited on its way from review to apply shows up here.
 */
export function planDifference(saved: Plan, fresh: Plan): string | null {
  const keyed = <T>(items: readonly T[], key: (item: T) => string, value: (item: T) => string) => new Map(items.map((item) => [key(item), value(item)]));
  const sets: [string, Map<string, string>, Map<string, string>][] = [
    ['args file', keyed(saved.files, (f) => f.path, (f) => f.after), keyed(fresh.files, (f) => f.path, (f) => f.after)],
    ['companion file', keyed(saved.companions, (c) => c.path, (c) => `${c.mode}\0${c.content}`), keyed(fresh.companions, (c) => c.path, (c) => `${c.mode}\0${c.content}`)],
    ['mode change of', keyed(saved.modes, (m) => m.path, (m) => `${m.mode?.to ?? ''}\0${m.owner?.to ?? ''}`), keyed(fresh.modes, (m) => m.path, (m) => `${m.mode?.to ?? ''}\0${m.owner?.to ?? ''}`)],
    ['directory', keyed(saved.directories ?? [], (d) => d.path, (d) => `${d.mode}\0${d.owner}`), keyed(fresh.directories ?? [], (d) => d.path, (d) => `${d.mode}\0${d.owner}`)],
    ['kernel parameters file', keyed(sysctlFilesOf(saved), (f) => f.path, (f) => f.after), keyed(sysctlFilesOf(fresh), (f) => f.path, (f) => f.after)],
    ['running kernel parameter', keyed(runningOf(saved), (r) => r.key, (r) => `${r.from}\0${r.to}`), keyed(runningOf(fresh), (r) => r.key, (r) => `${r.from}\0${r.to}`)],
  ];
  for (const [what, mine, theirs] of sets) {
    for (const [path, value] of mine) {
      if (!theirs.has(path)) return `it changes the ${what} ${path}, which the profile does not`;
      if (theirs.get(path) !== value) return `its ${what} ${path} differs from what the profile writes`;
    }
    for (const path of theirs.keys()) if (!mine.has(path)) return `it leaves out the ${what} ${path}, which the profile changes`;
  }
  if (saved.restarts.join(' ') !== fresh.restarts.join(' ')) return `it restarts ${saved.restarts.join(', ') || 'nothing'}, the profile ${fresh.restarts.join(', ') || 'nothing'}`;
  return null;
}


function sameVars(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
