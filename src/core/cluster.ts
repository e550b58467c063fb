// Cluster facts: what every node of a MicroK8s cluster reported about itself (`harden facts`), gathered into one
// document (`harden cluster facts`) that a single node's check, plan and apply read like a profile. Pure: the
// document's shape, the decision of a worker's requirement on control-plane rules, and the settings that must
// agree across control-plane nodes.
import { CONTROL_PLANE, type RuleResult, type Status } from './evaluate.js';
import type { NodeModel, Role } from './node.js';

export const NODE_FACTS_SCHEMA = 'harden.node-facts/v1';
export const CLUSTER_SCHEMA = 'harden.cluster/v1';

/** How old cluster facts may be, in seconds, unless --cluster-max-age says otherwise: one hour. */
export const CLUSTER_MAX_AGE = 3600;
/** How far in the future a date may be (clocks of different nodes differ a little): five minutes. */
export const CLOCK_SKEW = 300;

/** One node's facts, as `harden facts` prints them. */
export interface NodeFactsDocument {
  readonly schema: typeof NODE_FACTS_SCHEMA;
  readonly gatheredAt: string;
  readonly name: string;
  readonly role: Role;
  readonly version: string | null;
  readonly profile: { readonly name: string; readonly sha256: string };
  /** Every rule of the profile (after --only and --skip none: facts are about the whole profile). */
  readonly results: readonly { readonly id: string; readonly status: Status }[];
  /** The effective value of each setting that must agree (`kube-apiserver --authorization-mode`), null when unset. */
  readonly settings: Readonly<Record<string, string | null>>;
  /** The failing rules this node's own plan would fix (planned, not yet applied). */
  readonly planned: readonly string[];
}

export type ClusterNode = Omit<NodeFactsDocument, 'schema'>;

export interface ClusterDocument {
  readonly schema: typeof CLUSTER_SCHEMA;
  readonly createdAt: string;
  readonly profile: { readonly name: string; readonly sha256: string };
  readonly nodes: readonly ClusterNode[];
}

/** Cluster facts as a command uses them: the document, its file and its digest. */
export interface ClusterFacts {
  readonly file: string;
  readonly sha256: string;
  readonly document: ClusterDocument;
}

/**
 * The control-plane settings that must be the same on every control-plane node: an API server behind a load
 * balancer that authorizes, admits, authenticates, audits or speaks TLS differently from its peer answers the
 * same request differently depending on which one a client reaches. Key: the id after `cluster.agree.`.
 */
export const AGREEING_SETTINGS: readonly { readonly id: string; readonly component: string; readonly flag: string }[] = [
  { id: 'authorization-mode', component: 'kube-apiserver', flag: '--authorization-mode' },
  { id: 'enable-admission-plugins', component: 'kube-apiserver', flag: '--enable-admission-plugins' },
  { id: 'disable-admission-plugins', component: 'kube-apiserver', flag: '--disable-admission-plugins' },
  { id: 'anonymous-auth', component: 'kube-apiserver', flag: '--anonymous-auth' },
  { id: 'token-auth-file', component: 'kube-apiserver', flag: '--token-auth-file' },
  { id: 'audit-log-path', component: 'kube-apiserver', flag: '--audit-log-path' },
  { id: 'audit-policy-file', component: 'kube-apiserver', flag: '--audit-policy-file' },
  { id: 'tls-min-version', component: 'kube-apiserver', flag: '--tls-min-version' },
  { id: 'tls-cipher-suites', component: 'kube-apiserver', flag: '--tls-cipher-suites' },
  { id: 'encryption-provider-config', component: 'kube-apiserver', flag: '--encryption-provider-config' },
  { id: 'kubelet-certificate-authority', component: 'kube-apiserver', flag: '--kubelet-certificate-authority' },
  { id: 'service-account-issuer', component: 'kube-apiserver', flag: '--service-account-issuer' },
  { id: 'profiling', component: 'kube-apiserver', flag: '--profiling' },
];

export function settingKey(setting: { component: string; flag: string }): string {
  return `${setting.component} ${setting.flag}`;
}

/** The effective value of every agreeing setting on this node (the last occurrence; `true` for a bare flag). */
export function agreeingSettings(model: NodeModel): Record<string, string | null> {
  const settings: Record<string, string | null> = {};
  for (const setting of AGREEING_SETTINGS) {
    const flag = model.views.get(setting.component)?.flags.flags.get(setting.flag);
    settings[settingKey(setting)] = flag ? (flag.value ?? 'true') : null;
  }
  return settings;
}

export function nodeFactsDocument(input: { gatheredAt: string; name: string; model: NodeModel; profile: { name: string; sha256: string }; results: readonly RuleResult[]; planned: readonly string[] }): NodeFactsDocument {
  return {
    schema: NODE_FACTS_SCHEMA,
    gatheredAt: input.gatheredAt,
    name: input.name,
    role: input.model.report.role,
    version: input.model.report.version,
    profile: { name: input.profile.name, sha256: input.profile.sha256 },
    results: input.results.map((result) => ({ id: result.id, status: result.status })),
    settings: agreeingSettings(input.model),
    planned: [...input.planned],
  };
}

/** Why these node facts cannot make one cluster document, or null: one profile, one entry per name, a control plane. */
export function clusterProblem(nodes: readonly { file: string; facts: NodeFactsDocument }[]): { message: string; hint: string } | null {
  if (nodes.length === 0) return { message: 'no node facts given', hint: 'give one file of harden facts per node' };
  const [first] = nodes;
  for (const { file, facts } of nodes.slice(1)) {
    if (facts.profile.name !== first.facts.profile.name || facts.profile.sha256 !== first.facts.profile.sha256) {
      return {
        message: `${file} was gathered with profile ${facts.profile.name} (${short(facts.profile.sha256)}), ${first.file} with ${first.facts.profile.name} (${short(first.facts.profile.sha256)})`,
        hint: 'gather every node with the same profile: harden facts --profile P on each',
      };
    }
  }
  const seen = new Map<string, string>();
  for (const { file, facts } of nodes) {
    const other = seen.get(facts.name);
    if (other !== undefined) return { message: `${file} and ${other} are both node ${facts.name}`, hint: 'give each node once, or name nodes apart with harden facts --node-name NAME' };
    seen.set(facts.name, file);
  }
  if (!nodes.some(({ facts }) => facts.role === 'control-plane')) {
    return { message: 'no control-plane node among the facts given', hint: 'include the facts of every control-plane node' };
  }
  return null;
}

export function clusterDocument(createdAt: string, nodes: readonly NodeFactsDocument[]): ClusterDocument {
  return {
    schema: CLUSTER_SCHEMA,
    createdAt,
    profile: nodes[0].profile,
    nodes: nodes.map(({ schema: _schema, ...node }) => node),
  };
}

/** `sha256 1f2e3d4c5b6a7988…`: the first 16 hex digits, as plan headers show digests. */
export function short(sha256: string): string {
  return `sha256 ${sha256.replace(/^sha256:/, '').slice(0, 16)}…`;
}

/** Why a dated document cannot be used at `now`: too old, or dated in the future; null when it can. */
export function ageProblem(date: string, now: Date, maxAge: number): string | null {
  const age = (now.getTime() - Date.parse(date)) / 1000;
  if (age < -CLOCK_SKEW) return `is dated ${date}, in the future`;
  if (age > maxAge) return `was made ${date}, more than ${duration(maxAge)} ago`;
  return null;
}

/** `1h`, `90m`, `45s`: whole units only. */
function duration(seconds: number): string {
  const s = Math.floor(seconds);
  if (s % 3600 === 0 && s > 0) return `${s / 3600}h`;
  if (s % 60 === 0 && s > 0) return `${s / 60}m`;
  return `${s}s`;
}


/**
 * How a worker's requirement on a control-plane rule is decided with the cluster's facts: `unmet` null when the
 * rule passes on every control-plane node, the reason otherwise (naming the nodes); `note` says where it is
 * planned but not yet applied (check only). Undefined when the cluster has nothing to say (not a control-plane
 * rule, or this node is not a worker).
 */
export type ClusterRequirement = (ruleId: string, component: string | undefined) => { readonly unmet: string | null; readonly note: string | null } | undefined;

/**
 * `check` counts a rule planned on a control plane (failing there, fixed by that node's own plan) as met, and says
 * so; `plan` and `apply` change the node now, so only what is applied counts.
 */
export type ClusterMode = 'check' | 'change';

export function clusterRequirement(document: ClusterDocument, role: Role, mode: ClusterMode, components: ReadonlyMap<string, string> = new Map()): ClusterRequirement {
  return (ruleId, given) => {
    // A rule left out by --only is known by its component in the whole profile.
    const component = given ?? components.get(ruleId);
    if (role !== 'worker' || component === undefined || !CONTROL_PLANE.has(component)) return undefined;
    const planes = document.nodes.filter((node) => node.role === 'control-plane');
    const lacking: string[] = [];
    const planned: string[] = [];
    for (const node of planes) {
      const status = node.results.find((result) => result.id === ruleId)?.status;
      if (status === 'PASS') continue;
      if (mode === 'check' && status === 'FAIL' && node.planned.includes(ruleId)) planned.push(node.name);
      else lacking.push(`${node.name} (${status === 'FAIL' && node.planned.includes(ruleId) ? 'FAIL, planned, not yet applied' : (status ?? 'not checked')})`);
    }
    return {
      unmet: lacking.length === 0 ? null : `needs rule ${ruleId} on every control-plane node; it does not pass on ${lacking.join(', ')}`,
      note: planned.length === 0 ? null : `${ruleId} planned on ${planned.join(', ')}, not yet applied`,
    };
  };
}

/** `cluster.agree.ID` results: PASS when every control-plane node has the same effective value, FAIL otherwise. */
export function agreementResults(document: ClusterDocument): RuleResult[] {
  const planes = document.nodes.filter((node) => node.role === 'control-plane');
  return AGREEING_SETTINGS.map((setting) => {
    const key = settingKey(setting);
    const values = planes.map((node) => ({ node: node.name, value: node.settings[key] ?? null }));
    const distinct = new Set(values.map((entry) => entry.value));
    const agree = distinct.size <= 1;
    const found = agree ? (values[0]?.value ?? 'unset') : values.map((entry) => `${entry.node}: ${entry.value ?? 'unset'}`).join('; ');
    return {
      id: `cluster.agree.${setting.id}`,
      title: `${setting.flag} is the same on every control-plane node`,
      severity: 'high',
      component: setting.component as RuleResult['component'],
      status: agree ? 'PASS' : 'FAIL',
      found,
      reason: agree
        ? `the same on all ${planes.length} control-plane nodes`
        : `${setting.flag} differs across control-plane nodes; make it the same on each (harden changes one node at a time)`,
      cis: [],
      file: null,
      line: null,
    };
  });
}
