// Evaluating rules on a node: PASS, FAIL, MANUAL, BLOCKED or NOT APPLICABLE, with the effective value found
// as the file's real reader sees it (comments do not count, the last occurrence wins, exact flag names).
import { flagSupport, type FlagCatalogue } from './flag-catalogue.js';
import type { NodeModel } from './node.js';
import type { ExposureRow } from './exposure.js';
import type { ClusterRequirement } from './cluster.js';
import type { Requirement, Rule } from './profile.js';
import { permittedNodePath, permittedText } from './rule-paths.js';
import { readerResults } from './reader-check.js';
import { compareMinor, formatVersion, parseVersion, type Version } from './version.js';
import { persistedSysctls, sameSysctlValue, sysctlProcPath, SYSCTL_DIRS, type SysctlAssignment, type SysctlConfFile } from './sysctl.js';

/**
 * WAIVED: a failing or blocked rule an operator's waiver excuses, with its justification (it does not fail the
 * run). NOT ASSESSED: what the input cannot tell (an audit of a `microk8s inspect` tarball has no modes, owners,
 * locks or certificates); unlike NOT APPLICABLE it keeps a report from saying the node complies.
 */
export type Status = 'PASS' | 'FAIL' | 'MANUAL' | 'BLOCKED' | 'NOT APPLICABLE' | 'WAIVED' | 'NOT ASSESSED';

/** Every status, in the order reports count them. */
export const STATUSES: readonly Status[] = ['PASS', 'FAIL', 'BLOCKED', 'WAIVED', 'MANUAL', 'NOT ASSESSED', 'NOT APPLICABLE'];

/** The waiver that excuses a result (WAIVED), or that expired (the result then FAILs and says so). */
export interface ResultWaiver {
  readonly justification: string;
  readonly owner: string | null;
  /** `2026-12-31`: the waiver holds to the end of that day, UTC; null when it does not expire. */
  readonly expires: string | null;
  /** The waiver file and line it comes from. */
  readonly file: string;
  readonly line: number;
  /** What the result was before the waiver (FAIL or BLOCKED). */
  readonly status: Status;
  readonly expired: boolean;
}

export interface RuleResult {
  readonly id: string;
  readonly title: string;
  readonly severity: Rule['severity'];
  readonly component: Rule['component'];
  readonly status: Status;
  /** What was found: `--read-only-port=0 (kubelet line 12)`, `absent (default 10255)`, a mode… */
  readonly found: string;
  readonly reason: string;
  readonly cis: readonly string[];
  readonly file: string | null;
  readonly line: number | null;
  /** The waiver that excuses this result, or that expired; absent without one. */
  readonly waiver?: ResultWaiver;
}

/** Answers about the node that rules ask for, gathered by the effects layer (node paths as keys). */
export interface PathFact {
  readonly type: 'file' | 'directory' | 'link' | 'other';
  readonly mode: number;
  readonly owner: string;
  readonly writable: boolean;
}

/**
 * An entry itself (lstat: a symlink is not followed), as file-mode and companion-file rules see it: where it
 * really is (its directory's links followed), its inode, how many names it has, and where a symlink points.
 */
export interface EntryFact extends PathFact {
  readonly realPath: string;
  readonly uid: number;
  readonly gid: number;
  readonly dev: number;
  readonly ino: number;
  readonly nlink: number;
  readonly target: string | null;
}

export interface NodeFactAnswers {
  /** What requirements ask about, symlinks followed. */
  readonly paths: Readonly<Record<string, PathFact | null>>;
  /** The paths file-mode and companion-file rules name, each entry itself (never followed). */
  readonly entries: Readonly<Record<string, EntryFact | null>>;
  /** The entries of directories that `file-mode` rules with `match` look into, by node path. */
  readonly listings: Readonly<Record<string, readonly (EntryFact & { readonly name: string })[] | null>>;
  readonly sysctls: Readonly<Record<string, string | null>>;
  readonly kubeconfigs: Readonly<Record<string, 'token' | 'certificate' | 'unknown' | null>>;
  /** What the node exposes, port by port, for probe rules; null or absent when the root has no proc/net data. */
  readonly exposure?: readonly ExposureRow[] | null;
  /** The `*.conf` files of systemd-sysctl's directories: what is set again at boot. Absent when no rule asks. */
  readonly sysctlFiles?: readonly SysctlConfFile[];
  /** Why a kernel parameter's running value cannot be written (`EROFS`, `EACCES`), by key; null when it can. */
  readonly sysctlRefusals?: Readonly<Record<string, string | null>>;
  /** Whether a certificate was issued and signed by a CA, by `${cert}\0${ca}` (node paths): `signed`, or what it is instead. */
  readonly signatures?: Readonly<Record<string, 'signed' | 'self-signed' | 'another issuer' | 'not a certificate' | 'missing'>>;
  /** Why nothing can be created in a directory a `directory` rule makes its directory in (`EROFS`), by node path. */
  readonly createRefusals?: Readonly<Record<string, string | null>>;
}

/** The node paths, sysctls and kubeconfigs these rules need answers about. */
export function factQueries(
  rules: readonly Rule[],
  vars: Readonly<Record<string, string>>,
): { paths: string[]; entries: string[]; listings: string[]; sysctls: string[]; kubeconfigs: string[]; exposure: boolean; sysctlFiles: boolean; parents: string[]; signatures: [string, string][] } {
  const paths = new Set<string>();
  const entries = new Set<string>();
  const listings = new Set<string>();
  const sysctls = new Set<string>();
  const kubeconfigs = new Set<string>();
  const parents = new Set<string>();
  const signatures = new Map<string, [string, string]>();
  for (const rule of rules) {
    if (rule.path) entries.add(expandPath(rule.path, vars));
    if (rule.path && rule.match) listings.add(expandPath(rule.path, vars));
    // A directory to create is created in its parent, which must be there, itself.
    if (rule.operation === 'directory' && rule.path) {
      entries.add(parentOf(expandPath(rule.path, vars)));
      parents.add(parentOf(expandPath(rule.path, vars)));
    }
    for (const key of Object.keys(rule.sysctls ?? {})) sysctls.add(key);
    // The directory a sysctl rule's file goes in must be there, and writable.
    if (rule.operation === 'sysctl' && rule.path) {
      entries.add(parentOf(rule.path));
      parents.add(parentOf(rule.path));
    }
    for (const requirement of rule.requires ?? []) {
      if ('ca' in requirement) signatures.set(signatureKey(requirement.path, requirement.ca, vars), [expandPath(requirement.path, vars), expandPath(requirement.ca, vars)]);
      else if ('path' in requirement) paths.add(expandPath(requirement.path, vars));
      if ('key' in requirement) sysctls.add(requirement.key);
      if ('kubeconfig' in requirement) kubeconfigs.add(requirement.kubeconfig);
    }
  }
  return { paths: [...paths], entries: [...entries], listings: [...listings], sysctls: [...sysctls], kubeconfigs: [...kubeconfigs], exposure: rules.some((rule) => rule.operation === 'probe'), sysctlFiles: sysctls.size > 0, parents: [...parents], signatures: [...signatures.values()] };
}

/** The key of a certificate and its CA in `NodeFactAnswers.signatures`. */
export function signatureKey(path: string, ca: string, vars: Readonly<Record<string, string>>): string {
  return `${expandPath(path, vars)}\0${expandPath(ca, vars)}`;
}

function parentOf(nodePath: string): string {
  const slash = nodePath.lastIndexOf('/');
  return slash <= 0 ? '/' : nodePath.slice(0, slash);
}

export function expandPath(path: string, vars: Readonly<Record<string, string>>): string {
  return path.replace(/\$\{(SNAP|SNAP_DATA|SNAP_COMMON)\}/g, (_, name: string) => vars[name]);
}

/**
 * What an input other than a node root cannot tell (a `microk8s inspect` tarball): the rules that need it are
 * NOT ASSESSED, with the reason, here and nowhere else.
 */
export interface InputGaps {
  /** The input, in words: `a microk8s inspect tarball`. */
  readonly input: string;
  /** The node paths of the args dir the input holds a copy of: its files are the only entries it knows. */
  readonly argsDirs: readonly string[];
  /** Why what listens cannot be seen, or null when the input holds it. */
  readonly listeners: string | null;
  /** Why the MicroK8s version is unknown, or null when the input names it. */
  readonly version: string | null;
  /** Daemons the input shows switched off, by the lock that would say so on the node (`no-etcd`): the evidence. */
  readonly disabled: ReadonlyMap<string, string>;
}

/** Why the input cannot decide this rule, or null when it can. */
export function notAssessed(rule: Rule, gaps: InputGaps, vars: Readonly<Record<string, string>>): string | null {
  switch (rule.operation) {
    case 'file-mode':
      return `${gaps.input} holds no file modes or owners`;
    case 'directory':
      return `${gaps.input} holds no directories of the node, nor their modes and owners`;
    case 'sysctl':
      return `${gaps.input} holds no kernel parameters`;
    case 'probe':
      return gaps.listeners;
    case 'companion-file': {
      const path = expandPath(rule.path!, vars);
      return gaps.argsDirs.some((dir) => path.startsWith(`${dir}/`)) ? null : `${gaps.input} holds no files outside the args dir (${path})`;
    }
    default:
      return null;
  }
}

export function evaluateRules(
  model: NodeModel,
  rules: readonly Rule[],
  facts: NodeFactAnswers,
  vars: Readonly<Record<string, string>>,
  catalogue: FlagCatalogue,
  cluster?: ClusterRequirement,
  /** What the input cannot tell (absent for a node root, which tells everything). */
  gaps?: InputGaps,
): RuleResult[] {
  const first = rules.map((rule) => versionGate(model, rule, evaluateRule(model, rule, facts, vars, gaps), catalogue));
  // An input with gaps says what the files hold; whether harden could fix a rule there is the node's to tell
  // (its certificates, kubeconfigs and kernel are not in it), so requirements are not looked at.
  let results = gaps === undefined ? blockUnmetRequirements(first, rules, facts, vars, cluster) : first;
  // A failing rule whose control-plane requirement is met only by a plan not yet applied there (check) says so.
  if (cluster) {
    results = results.map((result, index) => {
      if (result.status !== 'FAIL') return result;
      const notes = (rules[index].requires ?? []).flatMap((req) => ('rule' in req ? [cluster(req.rule, rules.find((rule) => rule.id === req.rule)?.component)?.note ?? null] : [])).filter((note): note is string => note !== null);
      return notes.length === 0 ? result : { ...result, reason: `${result.reason}; needs ${notes.join('; ')}` };
    });
  }
  // Then every args file its consumer cannot read or start with: a failure whatever the rules select.
  return [...results, ...readerResults(model)];
}

/**
 * A failing rule whose requirements are not met cannot be fixed: it is blocked, with what to do. Blocking
 * spreads: a rule that needs a blocked rule is blocked too, so this runs until nothing changes. Run again once
 * waivers are applied: a waived rule is never fixed, so it meets no other rule's requirement. Results that are
 * no rule of `rules` (reader checks, cluster agreement) are left as they are.
 */
export function blockUnmetRequirements(
  results: readonly RuleResult[],
  rules: readonly Rule[],
  facts: NodeFactAnswers,
  vars: Readonly<Record<string, string>>,
  cluster?: ClusterRequirement,
): RuleResult[] {
  const ruleById = new Map(rules.map((rule) => [rule.id, rule]));
  let current = [...results];
  for (let changed = true; changed; ) {
    changed = false;
    const byId = new Map(current.filter((result) => ruleById.has(result.id)).map((result) => [result.id, result]));
    current = current.map((result) => {
      const rule = ruleById.get(result.id);
      if (result.status !== 'FAIL' || !rule) return result;
      const unmet = (rule.requires ?? []).map((req) => unmetRequirement(req, facts, byId, vars, cluster)).filter((text): text is string => text !== null);
      if (unmet.length === 0) return result;
      changed = true;
      return { ...result, status: 'BLOCKED' as const, reason: `${result.reason}; blocked: ${unmet.join('; ')}` };
    });
  }
  return current;
}

function unmetRequirement(requirement: Requirement, facts: NodeFactAnswers, results: ReadonlyMap<string, RuleResult>, vars: Readonly<Record<string, string>>, cluster?: ClusterRequirement): string | null {
  const why = requirement.why ? ` (${requirement.why})` : '';
  if ('rule' in requirement) {
    const other = results.get(requirement.rule);
    // On a worker, a control-plane rule does not apply here: with cluster facts it is decided on the control planes.
    if (cluster && (!other || other.status === 'NOT APPLICABLE')) {
      const decided = cluster(requirement.rule, other?.component);
      if (decided !== undefined) return decided.unmet === null ? null : `${decided.unmet}${why}`;
    }
    if (!other) return `needs rule ${requirement.rule}, which is not selected${why}`;
    return other.status === 'PASS' || other.status === 'FAIL' ? null : `needs rule ${requirement.rule}, which is ${other.status}${why}`;
  }
  if (requirement.fact === 'sysctl') {
    const state = sysctlState(requirement.key, requirement.value, facts, null);
    return state.ok ? null : `needs sysctl ${requirement.key}=${requirement.value} running and persisted (${state.text})${why}`;
  }
  if (requirement.fact === 'kubeconfig-auth') {
    const auth = facts.kubeconfigs[requirement.kubeconfig];
    return auth === requirement.auth ? null : `needs credentials/${requirement.kubeconfig} to authenticate with a ${requirement.auth} (found ${auth ?? 'no file'})${why}`;
  }
  if (requirement.fact === 'signed-by') {
    const found = facts.signatures?.[signatureKey(requirement.path, requirement.ca, vars)] ?? 'missing';
    return found === 'signed' ? null : `needs ${expandPath(requirement.path, vars)} signed by ${expandPath(requirement.ca, vars)} (found ${found})${why}`;
  }
  const path = expandPath(requirement.path, vars);
  const entry = facts.paths[path];
  if (requirement.fact === 'file-exists') return entry?.type === 'file' ? null : `needs file ${path}${why}`;
  if (requirement.fact === 'dir-exists') return entry?.type === 'directory' ? null : `needs directory ${path}${why}`;
  return entry?.type === 'directory' && entry.writable ? null : `needs writable directory ${path}${why}`;
}

/** The args file a component's flags live in: MicroK8s names each after its component. */
export function argsFileOf(component: string): string {
  return component;
}

/** `0660`: a mode's permission bits as profiles and reports write them. */
export function octalMode(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

/**
 * What a file-mode rule covers on this node: its path, and with `match` the directory's entries whose names
 * match (the directory itself too when its own name does), like `find PATH -maxdepth 1 -name GLOB`. Nothing
 * when the path does not exist.
 */
export function fileModeTargets(rule: Rule, facts: NodeFactAnswers, vars: Readonly<Record<string, string>>): { path: string; fact: EntryFact }[] {
  const path = expandPath(rule.path!, vars);
  const fact = facts.entries[path];
  if (!fact) return [];
  if (!rule.match) return [{ path, fact }];
  const pattern = globPattern(rule.match);
  const self = pattern.test(path.split('/').pop() ?? '') ? [{ path, fact }] : [];
  const children = (facts.listings[path] ?? []).filter((child) => pattern.test(child.name)).map((child) => ({ path: `${path}/${child.name}`, fact: child }));
  return [...self, ...children];
}

/**
 * Why harden will not change the mode or owner of this entry, or null when it may: it acts only on a regular
 * file with a single name, or a directory, that is itself where the rule looks (a symlink is a finding, never
 * followed) and really lies where rules may reach.
 */
export function untouchable(fact: EntryFact): string | null {
  if (fact.type === 'link') return `a symlink to ${fact.target ?? '?'}, never followed: remove it`;
  if (fact.type === 'other') return 'not a regular file or a directory';
  if (!permittedNodePath(fact.realPath)) return `really ${fact.realPath} (through a symlink on the way), outside ${permittedText()}`;
  if (fact.type === 'file' && fact.nlink !== 1) return `${fact.nlink} hard links: another name shares this file`;
  return null;
}

/** Control-plane components: a worker runs none of them (cluster facts decide their rules there). */
export const CONTROL_PLANE = new Set(['kube-apiserver', 'kube-scheduler', 'kube-controller-manager', 'etcd', 'k8s-dqlite']);

function evaluateRule(model: NodeModel, rule: Rule, facts: NodeFactAnswers, vars: Readonly<Record<string, string>>, gaps?: InputGaps): RuleResult {
  const cis = (rule.references ?? []).flatMap((ref) => ('cis' in ref ? [ref.cis] : []));
  // Written out rather than spread from a shared base: one object shape, and the key order --json prints.
  const result = (status: Status, found: string, reason: string, file: string | null = null, line: number | null = null): RuleResult => ({
    id: rule.id, title: rule.title, severity: rule.severity, component: rule.component, cis, file, line, status, found, reason,
  });
  const report = model.report;

  const applies = rule.applies ?? {};
  if (applies.versions) {
    if (!model.version && gaps?.version) return result('NOT ASSESSED', '-', `${gaps.version}, so this version-dependent rule cannot be decided`);
    if (!model.version) return result('BLOCKED', '-', 'the MicroK8s version is unknown, so this version-dependent rule cannot be decided');
    if (!inRange(model.version, applies.versions)) return result('NOT APPLICABLE', '-', `applies to ${rangeText(applies.versions)}; this node runs ${formatVersion(model.version)}`);
  }
  if (applies.era && applies.era !== report.era) return result('NOT APPLICABLE', '-', `applies to the ${applies.era} era; this node is in the ${report.era} era`);
  if (applies.role && applies.role !== report.role) return result('NOT APPLICABLE', '-', `applies to ${applies.role} nodes; this node is a ${report.role}`);
  // The datastore is told from args/kube-apiserver: when that cannot be read, neither can whether this applies.
  const apiserverUnreadable = model.unreadable.get('kube-apiserver');
  if (applies.datastore && report.datastore.kind === 'unknown' && apiserverUnreadable) return result('BLOCKED', '-', `which datastore this node uses cannot be told: ${apiserverUnreadable}`);
  if (applies.datastore && !applies.datastore.includes(report.datastore.kind)) return result('NOT APPLICABLE', '-', `applies to datastore ${applies.datastore.join(' or ')}; this node uses ${report.datastore.kind}`);

  if (report.role === 'worker' && CONTROL_PLANE.has(rule.component) && rule.operation !== 'file-mode' && rule.operation !== 'companion-file') {
    return result('NOT APPLICABLE', '-', `${rule.component} does not run on a worker node`);
  }
  if (rule.operation === 'manual') return result('MANUAL', '-', rule.explain ?? 'check by hand');
  const gap = gaps ? notAssessed(rule, gaps, vars) : null;
  if (gap) return result('NOT ASSESSED', '-', gap);

  if (rule.operation === 'probe') {
    if (!facts.exposure) return result('NOT APPLICABLE', '-', 'the root has no proc/net data (an offline copy): what listens cannot be seen');
    const rows = facts.exposure.filter((row) => row.configured?.component === rule.component && row.port !== null);
    const bad = rows.filter((row) => row.verdict === 'exposed' || row.verdict === 'unexpected');
    const listening = rows.filter((row) => (row.listening ?? []).length > 0).map((row) => row.port);
    const found = listening.length > 0 ? `listening on ${listening.join(', ')}` : 'not listening';
    if (bad.length > 0) return result('FAIL', found, bad.map((row) => `${row.port} ${row.what}: ${row.reason}`).join('; '));
    return result('PASS', found, rows.length > 0 ? `${rows.map((row) => row.port).join(', ')}: nothing unauthenticated beyond localhost, nothing where the configuration turns it off` : `${rule.component} configures no port here`);
  }

  if (rule.operation === 'sysctl') return evaluateSysctls(rule, facts, result);
  if (rule.operation === 'directory') {
    const path = expandPath(rule.path!, vars);
    const entry = facts.entries[path];
    const want = `a directory, mode ${rule.mode} or stricter, owner ${rule.owner}`;
    if (!entry) {
      // Created in its parent, itself: never through a link, never where rules may not reach.
      const parent = facts.entries[parentOf(path)];
      if (!parent) return result('BLOCKED', 'absent', `${path} does not exist, and neither does ${parentOf(path)} to create it in`, path);
      const realPath = `${parent.realPath}/${path.slice(path.lastIndexOf('/') + 1)}`;
      const outside = permittedNodePath(realPath) ? null : `really ${parent.realPath} (through a symlink on the way), outside ${permittedText()}`;
      const refused = parent.type === 'directory' ? outside : untouchable(parent) ?? 'not a directory';
      if (refused) return result('BLOCKED', 'absent', `${path} does not exist, and harden will not create it in ${parentOf(path)}: ${refused}`, path);
      const readOnly = facts.createRefusals?.[parentOf(path)];
      if (readOnly) return result('BLOCKED', 'absent', `${path} does not exist, and ${parentOf(path)} cannot be written here (${readOnly}${readOnly === 'EROFS' ? ': a read-only filesystem, or a sandbox such as harden watch\'s' : ''})`, path);
      return result('FAIL', 'absent', `${path} does not exist: harden creates it (${want.replace('a directory, ', '')})`, path);
    }
    const refused = entry.type === 'directory' || entry.type === 'link' ? untouchable(entry) : 'not a directory: move it away';
    if (refused) return result('FAIL', entry.type === 'link' ? `symlink to ${entry.target ?? '?'}` : entry.type, `${path}: ${refused}`, path);
    const wanted = Number.parseInt(rule.mode!, 8);
    const problems = [(entry.mode & 0o777 & ~wanted) !== 0 && `mode ${octalMode(entry.mode)} is more open than ${rule.mode}`, entry.owner !== rule.owner && `owner ${entry.owner} is not ${rule.owner}`].filter((text): text is string => typeof text === 'string');
    const found = `directory ${octalMode(entry.mode)} ${entry.owner}`;
    return problems.length > 0 ? result('FAIL', found, problems.join(', '), path) : result('PASS', found, want, path);
  }

  if (rule.operation === 'companion-file') {
    const path = expandPath(rule.path!, vars);
    const entry = facts.entries[path];
    if (!entry) return result('FAIL', 'absent', `${path} does not exist`, path);
    if (entry.type === 'file') return result('PASS', 'present', `${path} exists`, path);
    const found = entry.type === 'link' ? `symlink to ${entry.target ?? '?'}` : entry.type;
    return result('FAIL', found, `${path} is ${entry.type === 'link' ? `a symlink to ${entry.target ?? '?'}, never followed: remove it` : 'not a regular file'}`, path);
  }
  if (rule.operation === 'file-mode') {
    const path = expandPath(rule.path!, vars);
    const entry = facts.entries[path];
    // A file that does not exist exposes nothing; the rule that creates it, if any, is another rule.
    if (!entry) return result('NOT APPLICABLE', 'absent', `${path} does not exist on this node`, path);
    // The path itself first: nothing is looked at through a link, in a directory or for a single file.
    const refused = untouchable(entry);
    if (refused) return result('FAIL', entry.type === 'link' ? `symlink to ${entry.target ?? '?'}` : entry.type, `${path}: ${refused}`, path);
    const checked = fileModeTargets(rule, facts, vars).map(({ path: name, fact }) => ({ ...fact, name }));
    const wanted = rule.mode === undefined ? 0o777 : Number.parseInt(rule.mode, 8);
    const bad = checked.flatMap((item) => {
      const refused = untouchable(item);
      const problems = refused
        ? [refused]
        : [
            (item.mode & 0o777 & ~wanted) !== 0 && `mode ${octalMode(item.mode)} is more open than ${rule.mode}`,
            rule.owner !== undefined && item.owner !== rule.owner && `owner ${item.owner} is not ${rule.owner}`,
          ].filter((text): text is string => typeof text === 'string');
      return problems.length > 0 ? [{ item, problems }] : [];
    });
    const want = [rule.mode && `mode ${rule.mode} or stricter`, rule.owner && `owner ${rule.owner}`].filter(Boolean).join(', ');
    if (!rule.match) {
      const found = entry.type === 'link' ? `symlink to ${entry.target ?? '?'}` : `${octalMode(entry.mode)} ${entry.owner}`;
      return bad.length > 0 ? result('FAIL', found, bad[0].problems.join(', '), path) : result('PASS', found, want, path);
    }
    if (bad.length === 0) return result('PASS', `${checked.length} checked`, `${want} on ${checked.length} ${checked.length === 1 ? 'entry' : 'entries'} matching ${rule.match}`, path);
    const shown = bad.slice(0, 3).map(({ item, problems }) => `${item.name}: ${problems.join(', ')}`);
    const more = bad.length > 3 ? `; and ${bad.length - 3} more` : '';
    return result('FAIL', `${bad.length} of ${checked.length} out of policy`, `${shown.join('; ')}${more}`, path);
  }

  const fileName = argsFileOf(rule.component);
  const file = report.files.find((f) => f.name === fileName);
  const view = model.views.get(fileName);
  const shownFile = `${report.argsDir}/${fileName}`;
  // There, but not a file that can be read (a FIFO, a device): never "does not exist", never judged by the
  // defaults of an absent flag.
  const unreadable = model.unreadable.get(fileName);
  if (!file || (!view && !unreadable)) return result('NOT APPLICABLE', '-', `${shownFile} does not exist on this node`);
  if (!file.serviceEnabled) {
    const lock = file.service!.replace('snap.microk8s.daemon-', 'no-');
    const evidence = gaps ? (gaps.disabled.get(lock) ?? `var/lock/${lock}`) : `var/lock/no-${fileName}`;
    return result('NOT APPLICABLE', '-', `${file.service} is disabled on this node (${evidence})`);
  }
  if (unreadable || !view) return result('BLOCKED', '-', unreadable ?? `${shownFile} was not read`, shownFile);

  const flag = view.flags.flags.get(rule.flag!);
  const last = flag?.occurrences[flag.occurrences.length - 1];
  const fallback = defaultFor(rule, model.version);
  const value = flag ? (flag.value ?? 'true') : fallback;
  const found = flag ? `${rule.flag}${flag.value === null ? '' : `=${flag.value}`} (line ${last!.line})` : `absent${fallback !== null ? ` (default ${fallback})` : ''}`;
  const line = last?.line ?? null;
  const pass = (reason: string) => result('PASS', found, reason, shownFile, line);
  const fail = (reason: string) => result('FAIL', found, reason, shownFile, line);

  switch (rule.operation) {
    case 'remove-flag':
      return flag ? fail(`${rule.flag} must not be set`) : pass(`${rule.flag} is not set`);
    case 'set-flag': {
      // gte/lte name the bound; the others name the value harden writes, and what else passes.
      const wanted = rule.accept?.op === 'gte' || rule.accept?.op === 'lte' ? acceptText(rule) : `${rule.value}${rule.accept ? ` (or ${acceptText(rule)})` : ''}`;
      if (value === null) return fail(`${rule.flag} must be ${wanted}`);
      return accepts(rule, value) ? pass(`${rule.flag} is ${value}`) : fail(`${rule.flag} must be ${wanted}, found ${value}`);
    }
    case 'include-items':
    case 'exclude-items': {
      const items = (value ?? '').split(',').filter(Boolean);
      if (rule.operation === 'include-items') {
        const missing = rule.items!.filter((item) => !items.includes(item));
        return missing.length === 0 ? pass(`${rule.flag} includes ${rule.items!.join(', ')}`) : fail(`${rule.flag} must include ${missing.join(', ')}`);
      }
      const present = rule.items!.filter((item) => items.includes(item));
      return present.length === 0 ? pass(`${rule.flag} excludes ${rule.items!.join(', ')}`) : fail(`${rule.flag} must not include ${present.join(', ')}`);
    }
    default:
      return result('MANUAL', '-', 'not decidable from the files');
  }
}

/** One kernel parameter: whether it runs with the value and is persisted with it, and what was found, in words. */
interface SysctlState {
  readonly ok: boolean;
  /** The kernel has no such parameter (its file under proc/sys is missing). */
  readonly missing: boolean;
  readonly running: string | null;
  readonly persisted: SysctlAssignment | null;
  readonly text: string;
}

function sysctlState(key: string, want: string, facts: NodeFactAnswers, persisted: ReadonlyMap<string, SysctlAssignment | null> | null): SysctlState {
  const running = facts.sysctls[key] ?? null;
  const set = (persisted ?? persistedSysctls(facts.sysctlFiles ?? [], [key])).get(key) ?? null;
  const runningOk = running !== null && sameSysctlValue(running, want);
  const persistedOk = set !== null && sameSysctlValue(set.value, want);
  const where = set === null ? 'persisted nowhere' : `persisted as ${set.value} by ${assignmentText(set)}`;
  const text = running === null ? `${sysctlProcPath(key)} is missing: this kernel has no ${key}` : `running ${running}, ${where}`;
  return { ok: runningOk && persistedOk, missing: running === null, running, persisted: set, text };
}

/** `/etc/sysctl.d/99-sysctl.conf line 3 (through ../sysctl.conf)`. */
export function assignmentText(set: SysctlAssignment): string {
  return `${set.file} line ${set.line}${set.via ? ` (through ${set.via})` : ''}`;
}

/**
 * A sysctl rule: every parameter running with its value and persisted with it, as systemd-sysctl sets them at
 * boot. Blocked when the kernel lacks one, when a running value cannot be written (a read-only procfs, an
 * LXD container), or when a file applied after the rule's own would still set another value at boot.
 */
function evaluateSysctls(rule: Rule, facts: NodeFactAnswers, result: (status: Status, found: string, reason: string, file?: string | null) => RuleResult): RuleResult {
  const wanted = Object.entries(rule.sysctls ?? {});
  const keys = wanted.map(([key]) => key);
  const persisted = persistedSysctls(facts.sysctlFiles ?? [], keys);
  const states = wanted.map(([key, want]) => ({ key, want, ...sysctlState(key, want, facts, persisted) }));
  const bad = states.filter((state) => !state.ok);
  const file = rule.path!;
  if (bad.length === 0) return result('PASS', `${states.length} running and persisted`, states.map((s) => `${s.key}=${s.want}`).join(', '), file);
  const found = `${bad.length} of ${states.length} not running or not persisted`;
  const missing = bad.filter((state) => state.missing);
  if (missing.length === states.length) return result('BLOCKED', 'not seen', 'the root has no values under /proc/sys (an offline copy, or proc not mounted): the running kernel parameters cannot be seen', file);
  if (missing.length > 0) return result('BLOCKED', found, `${missing.map((state) => sysctlProcPath(state.key)).join(', ')} missing: this kernel does not have ${missing.map((state) => state.key).join(', ')}, and harden sets only parameters the kernel has`, file);
  const reasons = bad.map((state) => `${state.key} must be ${state.want}: ${state.text}`);
  if (bad.some((state) => state.persisted === null)) reasons.push(`persisted means set at boot by systemd-sysctl from ${SYSCTL_DIRS.join(', ')}`);
  const refused = bad.flatMap((state) => {
    const why = state.running !== null && !sameSysctlValue(state.running, state.want) ? facts.sysctlRefusals?.[state.key] : null;
    return why ? [`${sysctlProcPath(state.key)} cannot be written (${why}${why === 'EROFS' || why === 'EACCES' || why === 'EPERM' ? ': a read-only /proc/sys, as in an LXD or other unprivileged container' : ''})`] : [];
  });
  if (refused.length > 0) return result('BLOCKED', found, `${reasons.join('; ')}; blocked: ${refused.join('; ')}`, file);
  // What boot would set once the rule's own file is in place: a file applied after it still wins.
  const own = { dir: file.slice(0, file.lastIndexOf('/')), name: file.slice(file.lastIndexOf('/') + 1), text: wanted.map(([key, want]) => `${key} = ${want}`).join('\n') };
  const others = (facts.sysctlFiles ?? []).filter((f) => !(f.dir === own.dir && f.name === own.name));
  const after = persistedSysctls([...others, own], keys);
  const overridden = states.flatMap((state) => {
    const set = after.get(state.key) ?? null;
    return set !== null && set.file !== file && !sameSysctlValue(set.value, state.want) ? [`${assignmentText(set)} sets ${state.key} = ${set.value} after ${file}: change or remove that line`] : [];
  });
  if (overridden.length > 0) return result('BLOCKED', found, `${reasons.join('; ')}; blocked: ${overridden.join('; ')}`, file);
  // The file goes into systemd-sysctl's own directory, itself: never made, never reached through a link.
  const dir = parentOf(file);
  const dirEntry = facts.entries[dir];
  if (dirEntry !== undefined && dirEntry?.type !== 'directory') {
    return result('BLOCKED', found, `${reasons.join('; ')}; blocked: ${dir} ${dirEntry === null ? 'does not exist' : `is ${dirEntry.type === 'link' ? `a symlink to ${dirEntry.target ?? '?'}` : 'not a directory'}`}: harden writes the file only into that directory itself`, file);
  }
  const readOnly = facts.createRefusals?.[dir];
  if (readOnly) return result('BLOCKED', found, `${reasons.join('; ')}; blocked: ${dir} cannot be written here (${readOnly})`, file);
  return result('FAIL', found, reasons.join('; '), file);
}

function accepts(rule: Rule, value: string): boolean {
  if (value === rule.value) return true;
  const accept = rule.accept;
  if (!accept) return false;
  if (accept.op === 'any') return value !== '';
  if (accept.op === 'one-of') return (accept.values ?? []).includes(value);
  if (accept.op === 'not-one-of') return !(accept.values ?? []).includes(value);
  if (accept.op === 'subset-of') return value.split(',').every((item) => (accept.values ?? []).includes(item));
  const [found, wanted] = [Number.parseFloat(value), Number.parseFloat(rule.value!)];
  if (Number.isNaN(found)) return false;
  return accept.op === 'gte' ? found >= wanted : found <= wanted;
}

function acceptText(rule: Rule): string {
  const accept = rule.accept!;
  switch (accept.op) {
    case 'any':
      return 'any value';
    case 'one-of':
      return (accept.values ?? []).join(', ');
    case 'not-one-of':
      return `anything but ${(accept.values ?? []).join(', ')}`;
    case 'subset-of':
      return `only items of the allowed list`;
    default:
      return `${accept.op === 'gte' ? 'at least' : 'at most'} ${rule.value}`;
  }
}

function defaultFor(rule: Rule, version: Version | null): string | null {
  if (rule.default === undefined) return null;
  if (typeof rule.default === 'string') return rule.default;
  const match = rule.default.find((entry) => version !== null && inRange(version, entry));
  return match?.value ?? null;
}

/** `*` and `*.crt` as used by file-mode `match`. */
function globPattern(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`);
}

/** The flag and values a failing rule would write, or null when fixing it writes no new flag value. */
function writtenValue(rule: Rule): { flag: string; value: string | null } | null {
  if (rule.operation === 'set-flag') return { flag: rule.flag!, value: rule.value! };
  if (rule.operation === 'include-items') return { flag: rule.flag!, value: rule.items!.join(',') };
  return null;
}

/**
 * No rule may write a flag, or a flag value, that the node's version of the component does not know: since
 * 1.21 one unknown flag stops every Kubernetes component at once. A failing rule whose fix the flag catalogue
 * cannot vouch for is blocked; one whose flag this version does not have at all does not apply.
 */
function versionGate(model: NodeModel, rule: Rule, result: RuleResult, catalogue: FlagCatalogue): RuleResult {
  const written = result.status === 'FAIL' ? writtenValue(rule) : null;
  if (!written) return result;
  const support = flagSupport(catalogue, { component: rule.component, flag: written.flag, value: written.value, version: model.version });
  if (support.status === 'supported') return result;
  const what = written.value === null ? written.flag : `${written.flag}=${written.value}`;
  const present = model.views.get(argsFileOf(rule.component))?.flags.flags.has(written.flag) ?? false;
  if ((support.status === 'removed' || support.status === 'not-yet') && !present) {
    return { ...result, status: 'NOT APPLICABLE', reason: `${support.reason} (${what} cannot be set on this node)` };
  }
  if (support.status === 'version-unknown') {
    return { ...result, status: 'BLOCKED', reason: `${result.reason}; blocked: the MicroK8s version is unknown, so harden cannot tell whether ${rule.component} knows ${what}` };
  }
  return { ...result, status: 'BLOCKED', reason: `${result.reason}; blocked: harden will not write ${what}: ${support.reason}` };
}

export function inRange(version: Version, range: { from?: string; before?: string }): boolean {
  if (range.from && compareMinor(version, parseVersion(range.from)!) < 0) return false;
  if (range.before && compareMinor(version, parseVersion(range.before)!) >= 0) return false;
  return true;
}

function rangeText(range: { from?: string; before?: string }): string {
  if (range.from && range.before) return `${range.from} up to (not including) ${range.before}`;
  return range.from ? `${range.from} and later` : `versions before ${range.before}`;
}

export interface CheckSummary {
  readonly counts: Readonly<Record<Status, number>>;
  readonly compliant: boolean;
}

/** Compliant: nothing fails or is blocked (a waived rule does not count against it), and nothing went unassessed. */
export function summarize(results: readonly RuleResult[]): CheckSummary {
  const counts: Record<Status, number> = { PASS: 0, FAIL: 0, MANUAL: 0, BLOCKED: 0, 'NOT APPLICABLE': 0, WAIVED: 0, 'NOT ASSESSED': 0 };
  for (const result of results) counts[result.status] += 1;
  return { counts, compliant: counts.FAIL === 0 && counts.BLOCKED === 0 && counts['NOT ASSESSED'] === 0 };
}
