// Drift: what harden last left on a node, compared with the node now, and the most likely cause of each
// difference, from evidence on the node. Pure: the command gathers the snapshots, the node's rule results and
// the evidence (effects/drift-evidence.ts), and renders what this returns.
//
// What harden left is the cumulative effect of the applies that were neither rolled back nor put back (status
// `verified`, or `written` with --no-restart), oldest first, a later one overriding an earlier one on the same
// setting: each flag line it wrote or removed, each mode and owner it set, each file it created, and the rules
// that passed when it left (recorded in the snapshot; for older snapshots, the rules the plan fixed).
import { parseArgsFile, type ArgsLine } from './args-file.js';
import type { RuleResult } from './evaluate.js';
import type { SnapshotManifest } from './snapshot-manifest.js';

export type DriftCauseKind = 'refresh' | 'join' | 'kubelite-sanitisation' | 'cis-hardening-disabled' | 'edited';

export interface DriftCause {
  readonly kind: DriftCauseKind;
  /** One sentence: the evidence. */
  readonly detail: string;
}

/** A line of a file: its number and text; null when there is none. */
export interface DriftLine {
  readonly line: number | null;
  readonly text: string;
}

export interface Drift {
  /** The rules this setting served (the first one names it in the text view). */
  readonly ruleIds: readonly string[];
  readonly title: string;
  readonly kind: 'flag' | 'mode' | 'file' | 'rule';
  /** Node path through `current`. */
  readonly file: string | null;
  readonly before: DriftLine | null;
  readonly now: DriftLine | null;
  /** The apply that left it (snapshot id), or null for a rule that passed when harden left without its change. */
  readonly snapshot: string | null;
  readonly cause: DriftCause;
  /** Whether `--reapply` can put it back: its rules still apply to this node. */
  readonly reapplicable: boolean;
}

/** One file as it is now. */
export interface FileNow {
  readonly exists: boolean;
  readonly text: string | null;
  /** `sha256:<hex>` of the bytes, when read. */
  readonly sha256: string | null;
  readonly mode: string | null;
  readonly owner: string | null;
  /** ISO time of its last change, when known. */
  readonly changedAt: string | null;
}

/** What the node shows now, beyond its rule results. */
export interface DriftEvidence {
  readonly revision: string | null;
  readonly version: string | null;
  readonly era: 'kubelite' | 'daemons';
  /** `var/lock` entries now. */
  readonly locks: readonly string[];
  /** ISO mtime of markers, when present: `var/lock/clustered.lock`, `args/kubelet.backup`, the dqlite `cluster.yaml`. */
  readonly markers: { readonly clusteredLock: string | null; readonly kubeletBackup: string | null; readonly clusterYaml: string | null };
  /** Every file a setting lives in, by node path. */
  readonly files: Readonly<Record<string, FileNow>>;
  /** Whether the node's version no longer has the flag (kubelite deletes such flags at start). */
  readonly removedFlag: (component: string, flag: string) => boolean;
}

/** A file harden wrote that changed since, while every setting of harden's in it still holds. */
export interface HeldChange {
  readonly file: string;
  /** Flag lines in the file now that were not there when harden left it, and the reverse. */
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly snapshot: string;
  readonly cause: DriftCause;
}

export interface DriftReport {
  /** Files harden wrote that changed since without undoing any of its settings (the configure hook's additions). */
  readonly held: readonly HeldChange[];
  /** The applies compared with, oldest first. */
  readonly applies: readonly { readonly id: string; readonly at: string; readonly revision: string | null; readonly profile: string | null }[];
  /** Settings and rules compared. */
  readonly compared: number;
  readonly drifts: readonly Drift[];
}

/** The applies whose effect is on the node: not rolled back, not put back, oldest first. */
export function standingApplies(manifests: readonly SnapshotManifest[]): SnapshotManifest[] {
  // `written` stands only when --no-restart left it so on purpose (restarts owed, or none needed); otherwise the
  // run stopped half-way, and check reports that as an interrupted change, not as what harden left.
  const restarts = (m: SnapshotManifest) => (Array.isArray(record(m.plan).restarts) ? (record(m.plan).restarts as unknown[]).length : 0);
  return manifests.filter((m) => m.kind === 'apply' && (m.status === 'verified' || (m.status === 'written' && (m.restartsOwed.length > 0 || restarts(m) === 0))));
}

/** When harden left the node after this apply: verified, else written. */
export function leftAt(manifest: SnapshotManifest): string {
  const done = [...manifest.history].reverse().find((h) => h.status === 'verified' || h.status === 'written');
  return done?.at ?? manifest.createdAt;
}

interface PlanEditLike {
  ruleIds?: unknown;
  flag?: unknown;
  action?: unknown;
  after?: unknown;
  newLine?: unknown;
}

interface FlagSetting {
  readonly kind: 'flag';
  readonly file: string;
  readonly fileName: string;
  readonly flag: string;
  readonly action: 'add' | 'change' | 'remove';
  readonly after: string | null;
  readonly newLine: number | null;
  readonly ruleIds: readonly string[];
  readonly apply: SnapshotManifest;
}

interface ModeSetting {
  readonly kind: 'mode';
  readonly file: string;
  readonly mode: string;
  readonly owner: string;
  readonly ruleIds: readonly string[];
  readonly apply: SnapshotManifest;
}

interface FileSetting {
  readonly kind: 'file';
  readonly file: string;
  readonly ruleIds: readonly string[];
  readonly apply: SnapshotManifest;
}

type Setting = FlagSetting | ModeSetting | FileSetting;

const asStrings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);
const record = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {});

/**
 * A node path through `current`: plans name args files that way, but a created file or a mode change may name the
 * revision dir it was resolved to, which a refresh leaves behind.
 */
export function throughCurrent(nodePath: string): string {
  return nodePath.replace(/^\/var\/snap\/microk8s\/(?!current\/|common\/)[^/]+\//, '/var/snap/microk8s/current/');
}

/** Every setting the standing applies left, the later one winning on the same file and flag (or mode, or file). */
export function settingsLeft(applies: readonly SnapshotManifest[]): Setting[] {
  const settings = new Map<string, Setting>();
  for (const apply of applies) {
    const plan = record(apply.plan);
    for (const file of Array.isArray(plan.files) ? plan.files : []) {
      const f = record(file);
      if (typeof f.path !== 'string') continue;
      for (const edit of Array.isArray(f.edits) ? (f.edits as PlanEditLike[]) : []) {
        if (typeof edit.flag !== 'string' || (edit.action !== 'add' && edit.action !== 'change' && edit.action !== 'remove')) continue;
        settings.set(`${f.path}\0${edit.flag}`, {
          kind: 'flag',
          file: f.path,
          fileName: typeof f.name === 'string' ? f.name : f.path.slice(f.path.lastIndexOf('/') + 1),
          flag: edit.flag,
          action: edit.action,
          after: typeof edit.after === 'string' ? edit.after : null,
          newLine: typeof edit.newLine === 'number' ? edit.newLine : null,
          ruleIds: asStrings(edit.ruleIds),
          apply,
        });
      }
    }
    for (const change of apply.modes ?? []) {
      const planned = (Array.isArray(plan.modes) ? plan.modes : []).map(record).find((m) => m.path === change.path);
      const file = throughCurrent(change.path);
      settings.set(`${file}\0mode`, { kind: 'mode', file, mode: change.modeAfter, owner: change.ownerAfter, ruleIds: asStrings(planned?.ruleIds), apply });
    }
    // What harden created: companion files, the files that persist kernel parameters, directories (an audit log's).
    const created = [
      ...(Array.isArray(plan.companions) ? plan.companions.map(record) : []).map((c) => ({ path: c.path, ruleId: c.ruleId })),
      ...(Array.isArray(plan.sysctls) ? plan.sysctls.map(record) : []).map((k) => ({ file: record(k.file), ruleId: k.ruleId })).filter(({ file }) => file.before === null).map(({ file, ruleId }) => ({ path: file.path, ruleId })),
      ...(Array.isArray(plan.directories) ? plan.directories.map(record) : []).map((d) => ({ path: d.path, ruleId: d.ruleId })),
    ];
    for (const item of created) {
      if (typeof item.path !== 'string') continue;
      const file = throughCurrent(item.path);
      settings.set(`${file}\0file`, { kind: 'file', file, ruleIds: typeof item.ruleId === 'string' ? [item.ruleId] : [], apply });
    }
  }
  return [...settings.values()];
}

/** The rules that passed when harden left the node: recorded, or (older snapshots) the ones the plan fixed. */
export function rulesLeftPassing(applies: readonly SnapshotManifest[]): Map<string, SnapshotManifest> {
  const passing = new Map<string, SnapshotManifest>();
  for (const apply of applies) {
    const ids = apply.passed ?? settingsLeft([apply]).flatMap((s) => s.ruleIds);
    for (const id of ids) passing.set(id, apply);
  }
  return passing;
}

/** The last line setting the flag (the one its reader takes), or null. */
function flagLine(text: string, flag: string): ArgsLine | null {
  const lines = parseArgsFile(text).lines.filter((line) => line.kind === 'flag' && line.flag?.name === flag);
  return lines[lines.length - 1] ?? null;
}

const lineText = (line: ArgsLine): string => `${line.indent}${line.flag!.name}${line.flag!.separator}${line.flag!.rawValue ?? ''}${line.rest}`;

/** The value a flag line sets (quotes removed), or null for a bare flag. */
function valueOf(text: string): string | null {
  const parsed = parseArgsFile(`${text}\n`).lines[0];
  return parsed?.flag?.value ?? null;
}

const COMPONENT_OF_FILE: Readonly<Record<string, string>> = {
  'kube-apiserver': 'kube-apiserver',
  kubelet: 'kubelet',
  'kube-proxy': 'kube-proxy',
  'kube-scheduler': 'kube-scheduler',
  'kube-controller-manager': 'kube-controller-manager',
  etcd: 'etcd',
  'k8s-dqlite': 'k8s-dqlite',
};

/** Flags `microk8s disable cis-hardening` deletes (every line containing the name), by args file. */
const ADDON_REMOVES: Readonly<Record<string, readonly string[]>> = {
  'kube-apiserver': ['--kubelet-certificate-authority', '--enable-admission-plugins', '--admission-control-config-file', '--audit-log-path', '--audit-log-maxage', '--audit-log-maxbackup', '--audit-log-maxsize', '--audit-policy-file', '--request-timeout', '--tls-cipher-suites'],
  'kube-controller-manager': ['--terminated-pod-gc-threshold'],
  kubelet: ['--protect-kernel-defaults', '--event-qps', '--tls-cipher-suites', '--authorization-mode', '--tls-cert-file', '--tls-private-key-file'],
};

/** Flags the configure hook deletes on refresh, by args file. */
const HOOK_DELETES: Readonly<Record<string, readonly string[]>> = {
  'kube-apiserver': ['--insecure-port'],
  'kube-scheduler': ['--address'],
  'kube-controller-manager': ['--address'],
  etcd: ['--enable-v2'],
  kubelet: ['--log-dir', '--allow-privileged'],
};

interface Compared {
  readonly now: DriftLine | null;
  readonly before: DriftLine | null;
  /** The flag line is gone (deleted) rather than changed. */
  readonly deleted: boolean;
  /** The list value kept harden's members and gained others (what the configure hook does to feature gates). */
  readonly appended: boolean;
}

/**
 * Compares harden's settings and rules with the node: a setting drifted when the node no longer has it and a
 * rule it served no longer passes (a list flag to which MicroK8s added members still holds), when a file harden
 * created is gone, or when the flag harden wrote was deleted; a rule that passed when harden left drifted when it
 * fails or is blocked now.
 */
export function detectDrift(manifests: readonly SnapshotManifest[], results: readonly RuleResult[], evidence: DriftEvidence, flags: ReadonlyMap<string, string> = new Map()): DriftReport {
  const applies = standingApplies(manifests);
  const byId = new Map(results.map((result) => [result.id, result]));
  const failing = (ids: readonly string[]) => ids.some((id) => byId.get(id)?.status === 'FAIL' || byId.get(id)?.status === 'BLOCKED');
  const applicable = (ids: readonly string[]) => ids.some((id) => byId.has(id) && byId.get(id)!.status !== 'NOT APPLICABLE');
  const titleOf = (ids: readonly string[]) => byId.get(ids[0] ?? '')?.title ?? '';
  const drifts: Drift[] = [];
  const covered = new Set<string>();
  const settings = settingsLeft(applies);
  for (const setting of settings) {
    const now = evidence.files[setting.file] ?? { exists: false, text: null, sha256: null, mode: null, owner: null, changedAt: null };
    let compared: Compared | null = null;
    if (setting.kind === 'flag') {
      const line = now.text === null ? null : flagLine(now.text, setting.flag);
      const before = setting.after === null ? null : { line: setting.newLine, text: setting.after };
      const nowLine = line ? { line: line.number, text: lineText(line) } : null;
      if (setting.action === 'remove') {
        if (line && failing(setting.ruleIds)) compared = { now: nowLine, before: { line: null, text: `(no ${setting.flag} line)` }, deleted: false, appended: false };
      } else if (!line) {
        // Deleted: drift when its rules fail now, or no longer apply here (a version without the flag); a
        // default that still satisfies them is not.
        if (failing(setting.ruleIds) || !applicable(setting.ruleIds)) compared = { now: null, before, deleted: true, appended: false };
      } else if (setting.after !== null && line.flag!.value !== valueOf(setting.after) && failing(setting.ruleIds)) {
        const was = (valueOf(setting.after) ?? '').split(',');
        const is = (line.flag!.value ?? '').split(',');
        compared = { now: nowLine, before, deleted: false, appended: was.every((item) => is.includes(item)) && is.length > was.length };
      }
    } else if (setting.kind === 'mode') {
      if (now.exists && (now.mode !== setting.mode || now.owner !== setting.owner) && failing(setting.ruleIds)) {
        compared = { now: { line: null, text: `mode ${now.mode} ${now.owner}` }, before: { line: null, text: `mode ${setting.mode} ${setting.owner}` }, deleted: false, appended: false };
      }
    } else if (!now.exists) {
      compared = { now: { line: null, text: '(gone)' }, before: { line: null, text: '(created by harden)' }, deleted: true, appended: false };
    }
    if (!compared) continue;
    for (const id of setting.ruleIds) covered.add(id);
    drifts.push({
      ruleIds: setting.ruleIds,
      title: titleOf(setting.ruleIds),
      kind: setting.kind,
      file: setting.file,
      before: compared.before,
      now: compared.now,
      snapshot: setting.apply.id,
      cause: causeOf(setting, compared, now, evidence),
      reapplicable: applicable(setting.ruleIds),
    });
  }
  const passing = rulesLeftPassing(applies);
  for (const [id, apply] of passing) {
    const result = byId.get(id);
    if (covered.has(id) || !result || (result.status !== 'FAIL' && result.status !== 'BLOCKED')) continue;
    const file = result.file ? (evidence.files[result.file] ?? null) : null;
    // The rule's flag as harden left its file (the plan's text after the change), when that apply wrote the file.
    const flag = flags.get(id);
    const left = result.file && flag ? afterText(apply, result.file) : null;
    const leftLine = left !== null && flag ? flagLine(left, flag) : null;
    const nowLine = file?.text && flag ? flagLine(file.text, flag) : null;
    const setting: FlagSetting | null =
      result.file && flag && left !== null
        ? { kind: 'flag', file: result.file, fileName: result.file.slice(result.file.lastIndexOf('/') + 1), flag, action: 'change', after: leftLine ? lineText(leftLine) : null, newLine: leftLine?.number ?? null, ruleIds: [id], apply }
        : null;
    const compared: Compared = { now: null, before: null, deleted: leftLine !== null && nowLine === null, appended: false };
    drifts.push({
      ruleIds: [id],
      title: result.title,
      kind: 'rule',
      file: result.file,
      before: leftLine ? { line: leftLine.number, text: lineText(leftLine) } : { line: null, text: 'passed when harden left the node' },
      now: nowLine ? { line: nowLine.number, text: lineText(nowLine) } : { line: result.line, text: `${result.status}: ${result.reason}` },
      snapshot: apply.id,
      cause: setting && file ? causeOf(setting, compared, file, evidence) : ruleCause(apply, file, result, evidence),
      reapplicable: result.status === 'FAIL',
    });
  }
  return {
    applies: applies.map((a) => ({ id: a.id, at: leftAt(a), revision: a.revision, profile: a.profile?.name ?? null })),
    compared: settings.length + passing.size,
    drifts,
    held: heldChanges(applies, drifts, evidence),
  };
}

/** Flags the configure hook adds when they are missing (aggregation layer, service-account issuer). */
const HOOK_ADDS = /^--(requestheader-[a-z-]+|proxy-client-(cert|key)-file|service-account-(issuer|signing-key-file|key-file)|enable-aggregator-routing)(=|\s|$)/;

/**
 * Each file a standing apply wrote whose bytes are neither what harden left nor what MicroK8s' own start made of
 * them, and in which no setting drifted: what changed, and the likely cause.
 */
function heldChanges(applies: readonly SnapshotManifest[], drifts: readonly Drift[], evidence: DriftEvidence): HeldChange[] {
  const newest = new Map<string, { apply: SnapshotManifest; sha: readonly (string | null | undefined)[] }>();
  for (const apply of applies) {
    for (const file of apply.files) if (!file.created) newest.set(file.path, { apply, sha: [file.sha256After, file.sha256AfterRestart] });
  }
  const drifted = new Set(drifts.map((d) => d.file));
  const held: HeldChange[] = [];
  for (const [file, { apply, sha }] of newest) {
    const now = evidence.files[file];
    const left = afterText(apply, file);
    if (!now?.exists || now.text === null || now.sha256 === null || sha.includes(now.sha256) || drifted.has(file) || left === null) continue;
    const lines = (text: string) => parseArgsFile(text).lines.filter((l) => l.kind === 'flag').map(lineText);
    const then = lines(left);
    const is = lines(now.text);
    const added = is.filter((line) => !then.includes(line));
    const removed = then.filter((line) => !is.includes(line));
    if (added.length + removed.length === 0) continue;
    held.push({ file, added, removed, snapshot: apply.id, cause: heldCause(apply, file, now, added, removed, evidence) });
  }
  return held;
}

function heldCause(apply: SnapshotManifest, file: string, now: FileNow, added: readonly string[], removed: readonly string[], evidence: DriftEvidence): DriftCause {
  const since = leftAt(apply);
  const name = file.slice(file.lastIndexOf('/') + 1);
  const joined = workerJoin(name, since, evidence);
  if (joined) return joined;
  const refreshed = refreshedSince(apply, evidence);
  const flagOf = (line: string) => parseArgsFile(`${line}\n`).lines[0]?.flag?.name ?? '';
  const gates = (lines: readonly string[]) => lines.find((line) => flagOf(line) === '--feature-gates');
  const appendedGates = (() => {
    const was = gates(removed);
    const is = gates(added);
    if (!is) return false;
    const items = (line: string | undefined) => (line ? (valueOf(line) ?? '').split(',').filter(Boolean) : []);
    return items(was).every((item) => items(is).includes(item));
  })();
  const hookLike =
    added.every((line) => HOOK_ADDS.test(line) || flagOf(line) === '--feature-gates') &&
    removed.every((line) => (HOOK_DELETES[name] ?? []).includes(flagOf(line)) || flagOf(line) === '--feature-gates') &&
    (gates(added) === undefined || appendedGates);
  if (refreshed && hookLike) {
    return { kind: 'refresh', detail: `the snap was refreshed from revision ${apply.revision} to ${evidence.revision}, and its configure hook makes this change` };
  }
  return editedCause(name, now, since);
}

/** A worker join since harden left the node: args/kubelet replaced, the join's lock newer than the apply. */
function workerJoin(name: string | null, since: string, evidence: DriftEvidence): DriftCause | null {
  const lock = evidence.markers.clusteredLock;
  if (name !== 'kubelet' || !after(lock, since)) return null;
  return { kind: 'join', detail: `args/kubelet was replaced when this node joined a cluster as a worker (var/lock/clustered.lock made ${lock}, after harden left it at ${since})` };
}

/** Whether the snap's revision moved since the apply (both known). */
function refreshedSince(apply: SnapshotManifest, evidence: DriftEvidence): boolean {
  return apply.revision !== null && evidence.revision !== null && apply.revision !== evidence.revision;
}

/** Anything else: an edit, dated and owned as the file is now. */
function editedCause(name: string | null, now: FileNow | null, since: string, note = ''): DriftCause {
  const what = name ? `: ${name}${now?.changedAt ? ` changed ${now.changedAt}` : ''}${now?.owner ? `, owner ${now.owner}` : ''}` : '';
  return { kind: 'edited', detail: `edited by hand or by another tool${what}, after harden left it at ${since}${note}` };
}

/** The text a standing apply left in a file (its plan's text after the change), or null when it did not write it. */
function afterText(apply: SnapshotManifest, file: string): string | null {
  const planned = (Array.isArray(record(apply.plan).files) ? (record(apply.plan).files as unknown[]) : []).map(record).find((f) => f.path === file);
  return typeof planned?.after === 'string' ? planned.after : null;
}

const after = (time: string | null, than: string): boolean => time !== null && time > than;
const recorded = (apply: SnapshotManifest): readonly string[] | null => (Array.isArray(apply.locks) ? apply.locks : null);

/** The most likely cause of one setting's drift, from the evidence, in the order the checks are listed. */
function causeOf(setting: Setting, compared: Compared, now: FileNow, evidence: DriftEvidence): DriftCause {
  const since = leftAt(setting.apply);
  const name = setting.file.slice(setting.file.lastIndexOf('/') + 1);
  const flag = setting.kind === 'flag' ? setting.flag : null;
  const { markers } = evidence;
  // microk8s join: args/kubelet replaced by the control plane's, the API server's authorization mode and port set.
  const joined = workerJoin(name, since, evidence);
  if (joined) return joined;
  const planeJoin = after(markers.kubeletBackup, since) ? `args/kubelet.backup made ${markers.kubeletBackup}` : after(markers.clusterYaml, since) ? `the dqlite cluster.yaml changed ${markers.clusterYaml}` : null;
  if (planeJoin && (name === 'kubelet' || (name === 'kube-apiserver' && (flag === '--authorization-mode' || flag === '--secure-port')))) {
    return { kind: 'join', detail: `a control-plane join rewrote it (${planeJoin}, after harden left it at ${since})` };
  }
  // microk8s disable cis-hardening: deletes its flags by substring, re-opens modes, removes its lock.
  const addonDisabled = recorded(setting.apply)?.includes('cis-hardening') === true && !evidence.locks.includes('cis-hardening');
  if (addonDisabled && ((setting.kind === 'file' && setting.file.endsWith('/var/lock/cis-hardening')) || (flag && compared.deleted && (ADDON_REMOVES[name] ?? []).some((f) => flag.includes(f))) || (setting.kind === 'mode' && reopened(now)))) {
    return { kind: 'cis-hardening-disabled', detail: `the cis-hardening addon was disabled (var/lock/cis-hardening was there when harden left the node and is gone): it deletes its flags by name and re-opens modes` };
  }
  // kubelite's sanitisation at start: a flag the node's Kubernetes removed, deleted unless no-arg-sanitisation.
  const component = COMPONENT_OF_FILE[name];
  if (flag && compared.deleted && component && evidence.era === 'kubelite' && !evidence.locks.includes('no-arg-sanitisation') && evidence.removedFlag(component, flag)) {
    return { kind: 'kubelite-sanitisation', detail: `kubelite deleted ${flag} at start: MicroK8s ${evidence.version ?? '(version unknown)'} no longer has it, and var/lock/no-arg-sanitisation is absent` };
  }
  // A refresh: the revision moved, and the change is one the configure hook makes.
  const refreshed = refreshedSince(setting.apply, evidence);
  if (refreshed) {
    const hook =
      (flag === '--feature-gates' && compared.appended) ||
      (flag !== null && compared.deleted && (HOOK_DELETES[name] ?? []).includes(flag)) ||
      (setting.kind === 'mode' && reopened(now) && !evidence.locks.includes('cis-hardening'));
    if (hook) {
      return { kind: 'refresh', detail: `the snap was refreshed from revision ${setting.apply.revision} to ${evidence.revision} since harden left it, and its configure hook makes this change` };
    }
  }
  const refreshNote = refreshed ? `; the snap was also refreshed (revision ${setting.apply.revision} to ${evidence.revision}), but its hook does not make this change` : '';
  return editedCause(name, now, since, refreshNote);
}

/** A rule that passed and fails now, with no setting of harden's behind it: a hand edit, unless a refresh or join explains its file. */
function ruleCause(apply: SnapshotManifest, file: FileNow | null, result: RuleResult, evidence: DriftEvidence): DriftCause {
  const since = leftAt(apply);
  const name = result.file ? result.file.slice(result.file.lastIndexOf('/') + 1) : null;
  const joined = workerJoin(name, since, evidence);
  if (joined) return joined;
  // A kernel parameters rule whose file was not written since harden left it: a running value changed, not the file.
  if (name && result.file?.startsWith('/etc/sysctl.d/') && file?.exists && file.changedAt !== null && !after(file.changedAt, since)) {
    return { kind: 'edited', detail: `a running kernel parameter was set again by hand or by another tool since harden set it at ${since}; ${name} is unchanged` };
  }
  return editedCause(name, file, since);
}

/** Group read-write and group microk8s: what the configure hook (without the cis-hardening lock) and the addon's disable do. */
function reopened(now: FileNow): boolean {
  const mode = now.mode ? parseInt(now.mode, 8) : 0;
  return (mode & 0o060) === 0o060 && (now.owner ?? '').endsWith(':microk8s');
}
