// The flag version catalogue (profiles/flag-catalogue.tsv): when each flag, and each flag value that a
// component checks at start-up, was added to and removed from the binaries MicroK8s runs. From 1.21 one
// kubelite process runs all five Kubernetes components, so a single unknown flag or value stops all of them:
// harden writes a flag only when this module answers `supported`. Conventions of the data:
// shared/notes/flag-catalogue.md. Pure: the caller reads the file.
import type { Version } from './version.js';

// ---------------------------------------------------------------------------------------------------------
// Types

/** Which release line a version in the catalogue is counted on. */
export type VersionScale = 'kubernetes' | 'etcd' | 'k8s-dqlite';

/** How far the catalogue vouches for a boundary. Anything but `exact` makes the versions it decides uncertain. */
export type BoundaryCertainty =
  | 'exact'
  | 'approximate' // `~1.15`, or notes saying "not pinned"
  | 'inferred' // notes saying the removal is inferred
  | 'pre-release' // `1.37(pre-release)`: read from a release-notes draft
  | 'unverified'; // notes saying the first version in the row was not verified

/** One end of a row's lifetime: `added_in` or `removed_in`. */
export interface Boundary {
  /** As written in the TSV. */
  readonly text: string;
  readonly scale: VersionScale;
  /** `[1, 24]`, `[3, 6, 0]`. */
  readonly version: readonly number[];
  /** `<=1.13`: present at that version, perhaps earlier (the catalogue does not look further back). */
  readonly orEarlier: boolean;
  readonly certainty: BoundaryCertainty;
  /** `mk8s-1.19`: a flag of MicroK8s' patched binary, counted on the same Kubernetes minor versions. */
  readonly microk8sPatch: boolean;
}

export interface CatalogueRow {
  /** Line in the TSV (the header is line 1). */
  readonly line: number;
  readonly component: string;
  readonly flag: string;
  /** The value the row is about (an admission plugin, a feature gate, a proxy mode…), or null for the flag. */
  readonly value: string | null;
  readonly addedIn: string;
  readonly deprecatedIn: string;
  readonly removedIn: string;
  readonly notes: string;
  readonly source: string;
  readonly added: Boundary;
  /** Null while the flag is still present. */
  readonly removed: Boundary | null;
}

export interface FlagCatalogue {
  readonly rows: readonly CatalogueRow[];
  /** Rows by `component flag`. */
  readonly index: ReadonlyMap<string, readonly CatalogueRow[]>;
}

export type SupportStatus = 'supported' | 'not-yet' | 'removed' | 'uncertain' | 'unlisted' | 'version-unknown';

export interface FlagSupport {
  readonly status: SupportStatus;
  /** One short sentence for the user. */
  readonly reason: string;
  /** The row the verdict rests on, or null when there is none. */
  readonly row: CatalogueRow | null;
}

export interface FlagQuery {
  /** `kube-apiserver`, `kubelet`, `kube-proxy`, `kube-scheduler`, `kube-controller-manager`, `kubelite`, `etcd`, `k8s-dqlite`. */
  readonly component: string;
  readonly flag: string;
  /** The value to write, when it matters: `PodSecurityPolicy`, `userspace`, `SeccompDefault=true`, `Node,RBAC`. */
  readonly value?: string | null;
  /** The node's Kubernetes (MicroK8s) version; only the minor version counts. */
  readonly version: Version | null;
  /** The etcd the node runs (`3.5.17`), when known; otherwise derived from the MicroK8s version. */
  readonly etcdVersion?: string | null;
}

// ---------------------------------------------------------------------------------------------------------
// What the catalogue covers

const COLUMNS = ['component', 'flag', 'value', 'added_in', 'deprecated_in', 'removed_in', 'notes', 'source'];

const SCALE_OF_COMPONENT: Readonly<Record<string, VersionScale>> = {
  'kube-apiserver': 'kubernetes',
  kubelet: 'kubernetes',
  'kube-proxy': 'kubernetes',
  'kube-scheduler': 'kubernetes',
  'kube-controller-manager': 'kubernetes',
  kubelite: 'kubernetes',
  etcd: 'etcd',
  'k8s-dqlite': 'k8s-dqlite',
};

/**
 * The newest version the research read, per scale. Beyond it the catalogue cannot vouch that a flag it
 * calls present still is: a newer release may have dropped it.
 */
const RESEARCHED_UP_TO: Readonly<Record<VersionScale, readonly number[]>> = {
  kubernetes: [1, 36], // MicroK8s master
  etcd: [3, 7], // tags v3.3.4 to v3.7.0
  'k8s-dqlite': [1, 8], // tags v1.0.0 to v1.8.1
};

/**
 * The etcd each MicroK8s release ships (flag-catalogue.md, from each branch's etcd/version.sh). Where a
 * branch moved to a newer etcd during its life, `lowest` is the one it started with: a flag whose arrival
 * falls in between cannot be judged from the MicroK8s version alone.
 */
const MICROK8S_ETCD: readonly { minors: readonly [number, number]; lowest: string; tip: string }[] = [
  { minors: [13, 15], lowest: '3.3.4', tip: '3.3.4' },
  // "Updating etcd to v3.3.7" (canonical/microk8s#1460, #1461) landed in July 2020, after 1.16 and 1.17 had
  // shipped; 1.15 stayed at 3.3.4 and 1.18 has 3.4, so these two branches must have started at 3.3.4.
  { minors: [16, 17], lowest: '3.3.4', tip: '3.3.7' },
  { minors: [18, 21], lowest: '3.4.3', tip: '3.4.3' },
  // 3.4.21 came to these branches in September 2022 (canonical/microk8s#3464 to #3467); they started on an
  // older 3.4 (taken as 3.4.3). No catalogued etcd flag changes within 3.4, so the start does not matter.
  { minors: [22, 25], lowest: '3.4.3', tip: '3.4.21' },
  { minors: [26, 31], lowest: '3.5.5', tip: '3.5.5' },
  { minors: [32, 33], lowest: '3.5.17', tip: '3.5.17' },
  { minors: [34, 34], lowest: '3.6.4', tip: '3.6.4' },
  { minors: [35, 35], lowest: '3.6.6', tip: '3.6.6' },
  { minors: [36, 36], lowest: '3.6.10', tip: '3.6.10' },
];

/** MicroK8s runs k8s-dqlite from 1.23 (the configure hook migrates `--storage-backend=dqlite` to it). */
const K8S_DQLITE_FIRST_MINOR = 23;
const K8S_DQLITE_TAGS = { lowest: '1.0.0', tip: '1.8.1' };

/**
 * Flags whose values the component checks against a fixed set at start-up, so that an unknown value kills
 * it as an unknown flag would (flag-catalogue.md, "Rules worth encoding"). When the catalogue lists values
 * of such a flag for a component, a value it does not list is unlisted, not judged by the flag's own row.
 */
const CHECKED_VALUE_FLAGS = new Set([
  '--enable-admission-plugins',
  '--disable-admission-plugins',
  '--admission-control',
  '--tls-cipher-suites',
  '--cipher-suites',
  '--tls-min-version',
  '--proxy-mode',
  '--authorization-mode',
]);

/** Every component rejects a feature gate it does not know, whether or not the catalogue lists any for it. */
const FEATURE_GATES = '--feature-gates';

/**
 * kube-apiserver checks every admission-plugin list against one plugin registry, so the plugin rows kept
 * under --enable-admission-plugins also decide the other two flags.
 */
const VALUE_ROWS_FROM: Readonly<Record<string, string>> = {
  '--disable-admission-plugins': '--enable-admission-plugins',
  '--admission-control': '--enable-admission-plugins',
};

// ---------------------------------------------------------------------------------------------------------
// Parsing

interface BoundaryForm {
  readonly pattern: RegExp;
  readonly scale: VersionScale;
  readonly orEarlier?: boolean;
  readonly certainty?: BoundaryCertainty;
  readonly microk8sPatch?: boolean;
}

/** Every form an `added_in` or `removed_in` version may take (besides `still present`). */
const BOUNDARY_FORMS: readonly BoundaryForm[] = [
  { pattern: /^(\d+\.\d+)$/, scale: 'kubernetes' },
  { pattern: /^<=(\d+\.\d+)$/, scale: 'kubernetes', orEarlier: true },
  { pattern: /^~(\d+\.\d+)$/, scale: 'kubernetes', certainty: 'approximate' },
  { pattern: /^(\d+\.\d+)\(pre-release\)$/, scale: 'kubernetes', certainty: 'pre-release' },
  { pattern: /^mk8s-(\d+\.\d+)$/, scale: 'kubernetes', microk8sPatch: true },
  { pattern: /^etcd-(\d+\.\d+\.\d+)$/, scale: 'etcd' },
  { pattern: /^etcd<=(\d+\.\d+\.\d+)$/, scale: 'etcd', orEarlier: true },
  { pattern: /^k8s-dqlite-v(\d+\.\d+\.\d+)$/, scale: 'k8s-dqlite' },
];

const STILL_PRESENT = 'still present';

/**
 * Doubts the notes state in words rather than in a version's form. Each names the boundary it is about:
 * notes saying a *deprecation* is "not pinned" say nothing about when the flag works, and are ignored.
 */
const NOTE_DOUBTS: readonly { pattern: RegExp; boundary: 'added' | 'removed'; certainty: BoundaryCertainty }[] = [
  { pattern: /\bremoval\b[^.;]*\binferred\b/i, boundary: 'removed', certainty: 'inferred' },
  { pattern: /\badded(?:_in)?\b[^.;]*\b(?:approximate|not pinned)\b/i, boundary: 'added', certainty: 'approximate' },
  { pattern: /\bnot verified\b/i, boundary: 'added', certainty: 'unverified' },
];

/** Reads the catalogue TSV. Throws a plain Error naming the line of the first malformed row. */
export function parseFlagCatalogue(tsv: string): FlagCatalogue {
  const lines = tsv.split('\n').map((text) => (text.endsWith('\r') ? text.slice(0, -1) : text));
  if (lines[0] !== COLUMNS.join('\t')) {
    throw new Error(`flag catalogue line 1: expected the header ${COLUMNS.join(', ')} (tab-separated)`);
  }
  const rows: CatalogueRow[] = [];
  lines.forEach((text, i) => {
    if (i === 0 || text.trim() === '') return;
    rows.push(parseRow(text, i + 1));
  });
  return catalogueOf(rows);
}

/** The catalogue of rows parsed before (the single-file build carries them parsed, not as TSV). */
export function catalogueOf(rows: readonly CatalogueRow[]): FlagCatalogue {
  return { rows, index: indexRows(rows) };
}

function parseRow(text: string, line: number): CatalogueRow {
  const fail = (problem: string): never => {
    throw new Error(`flag catalogue line ${line}: ${problem}`);
  };
  const fields = text.split('\t');
  if (fields.length !== COLUMNS.length) {
    fail(`expected ${COLUMNS.length} tab-separated columns, found ${fields.length}`);
  }
  const [component, flag, value, addedIn, deprecatedIn, removedIn, notes, source] = fields;

  const scale = SCALE_OF_COMPONENT[component] ?? fail(`unknown component "${component}"`);
  if (!/^--[a-z0-9][a-z0-9-]*$/.test(flag)) fail(`"${flag}" is not a flag name`);
  if (source.trim() === '') fail('the source column is empty');
  if (!isDeprecation(deprecatedIn)) fail(`deprecated_in "${deprecatedIn}" is not in a recognised form`);

  let added = parseBoundary(addedIn) ?? fail(`added_in "${addedIn}" is not in a recognised form`);
  let removed = removedIn === STILL_PRESENT ? null : (parseBoundary(removedIn) ?? fail(`removed_in "${removedIn}" is not in a recognised form`));
  if (added.scale !== scale || (removed !== null && removed.scale !== scale)) {
    fail(`${component} versions are counted on the ${scale} scale, not as "${addedIn}" / "${removedIn}"`);
  }
  if (removed !== null && compareVersions(removed.version, added.version) <= 0) {
    fail(`removed_in ${removedIn} is not after added_in ${addedIn}`);
  }
  [added, removed] = applyNoteDoubts(added, removed, notes);

  return { line, component, flag, value: value === '' ? null : value, addedIn, deprecatedIn, removedIn, notes, source, added, removed };
}

/** Parses one `added_in` / `removed_in` version, or returns null when it has no recognised form. */
function parseBoundary(text: string): Boundary | null {
  for (const form of BOUNDARY_FORMS) {
    const match = form.pattern.exec(text);
    if (!match) continue;
    return {
      text,
      scale: form.scale,
      version: match[1].split('.').map(Number),
      orEarlier: form.orEarlier ?? false,
      certainty: form.certainty ?? 'exact',
      microk8sPatch: form.microk8sPatch ?? false,
    };
  }
  return null;
}

/** `-`, `soft`, or a version, optionally marked `(soft)`: a deprecation never stops a component. */
function isDeprecation(text: string): boolean {
  return text === '-' || text === 'soft' || parseBoundary(text.replace(/\(soft\)$/, '')) !== null;
}

function applyNoteDoubts(added: Boundary, removed: Boundary | null, notes: string): [Boundary, Boundary | null] {
  for (const doubt of NOTE_DOUBTS) {
    if (!doubt.pattern.test(notes)) continue;
    if (doubt.boundary === 'added' && added.certainty === 'exact') added = { ...added, certainty: doubt.certainty };
    if (doubt.boundary === 'removed' && removed?.certainty === 'exact') removed = { ...removed, certainty: doubt.certainty };
  }
  return [added, removed];
}

function indexRows(rows: readonly CatalogueRow[]): Map<string, CatalogueRow[]> {
  const index = new Map<string, CatalogueRow[]>();
  for (const row of rows) {
    const key = rowKey(row.component, row.flag);
    const same = index.get(key) ?? [];
    const twin = same.find((other) => other.value === row.value);
    if (twin) throw new Error(`flag catalogue line ${row.line}: repeats the row on line ${twin.line}`);
    same.push(row);
    index.set(key, same);
  }
  return index;
}

const rowKey = (component: string, flag: string): string => `${component} ${flag}`;

// ---------------------------------------------------------------------------------------------------------
// Finding the row for a query

/** A query narrowed to one value (a list value is judged item by item). */
interface Subject {
  readonly component: string;
  readonly flag: string;
  readonly value: string | null;
}

type RowLookup = { readonly row: CatalogueRow } | { readonly row: null; readonly reason: string };

function findRow(catalogue: FlagCatalogue, subject: Subject): RowLookup {
  const { component, flag, value } = subject;
  const flagRow = catalogue.index.get(rowKey(component, flag))?.find((row) => row.value === null) ?? null;
  const valueRows = valueRowsOf(catalogue, component, flag);
  const noRow = { row: null, reason: `The catalogue has no row for ${describe(subject)} on ${component}.` };

  if (value === null) return flagRow ? { row: flagRow } : noRow;
  const match = matchValue(valueRows, value);
  if (match) return { row: match };
  if (flag === FEATURE_GATES || (CHECKED_VALUE_FLAGS.has(flag) && valueRows.length > 0)) {
    return { row: null, reason: `The catalogue has no row for ${describe(subject)} on ${component}, which refuses values it does not know.` };
  }
  // A free-form value (a path, a port, a boolean): the flag's own row decides.
  return flagRow ? { row: flagRow } : noRow;
}

function valueRowsOf(catalogue: FlagCatalogue, component: string, flag: string): readonly CatalogueRow[] {
  const source = VALUE_ROWS_FROM[flag] ?? flag;
  return (catalogue.index.get(rowKey(component, source)) ?? []).filter((row) => row.value !== null);
}

/**
 * The row for one value: the row written for exactly that value, else a row listing it among
 * comma-separated names (cipher suites), else a feature-gate row for the gate's name — `Gate (any value)`,
 * or a bare `Gate` — when no row is written for this exact setting.
 */
function matchValue(rows: readonly CatalogueRow[], value: string): CatalogueRow | null {
  const gate = value.split('=')[0];
  return (
    rows.find((row) => row.value === value) ??
    rows.find((row) => row.value!.includes(',') && row.value!.split(',').map((name) => name.trim()).includes(value)) ??
    rows.find((row) => row.value === `${gate} (any value)` || row.value === gate) ??
    null
  );
}

// ---------------------------------------------------------------------------------------------------------
// The node's version of the row's component

/**
 * The versions the node may run of one component: a single version, or a range when it cannot be told
 * exactly (a MicroK8s branch that moved to a newer etcd during its life).
 */
type NodeVersion =
  | { readonly kind: 'known'; readonly lowest: readonly number[]; readonly highest: readonly number[]; readonly text: string }
  | { readonly kind: 'absent'; readonly reason: string }
  | { readonly kind: 'unknown'; readonly status: 'version-unknown' | 'uncertain'; readonly reason: string };

function nodeVersion(scale: VersionScale, query: FlagQuery, what: string): NodeVersion {
  if (scale === 'kubernetes') return kubernetesVersion(query.version, what);
  if (scale === 'etcd') return etcdVersion(query, what);
  return k8sDqliteVersion(query.version, what);
}

function kubernetesVersion(version: Version | null, what: string): NodeVersion {
  if (version === null) {
    return { kind: 'unknown', status: 'version-unknown', reason: `The node's Kubernetes version is unknown, so ${what} cannot be checked.` };
  }
  const minor = [version.major, version.minor];
  return { kind: 'known', lowest: minor, highest: minor, text: minor.join('.') };
}

/** The etcd version given, else the one the node's MicroK8s release ships. */
function etcdVersion(query: FlagQuery, what: string): NodeVersion {
  const given = parseEtcdVersion(query.etcdVersion ?? null);
  if (given) return given;
  const version = query.version;
  if (version === null) {
    return { kind: 'unknown', status: 'version-unknown', reason: `Neither the etcd nor the MicroK8s version is known, so ${what} cannot be checked.` };
  }
  const microk8s = `${version.major}.${version.minor}`;
  const shipped = MICROK8S_ETCD.find(({ minors: [first, last] }) => version.major === 1 && version.minor >= first && version.minor <= last);
  if (!shipped) {
    return { kind: 'unknown', status: 'uncertain', reason: `The catalogue does not know which etcd MicroK8s ${microk8s} ships; give the etcd version to check ${what}.` };
  }
  const text = shipped.lowest === shipped.tip
    ? `${shipped.tip} (the etcd of MicroK8s ${microk8s})`
    : `${shipped.lowest} to ${shipped.tip} (MicroK8s ${microk8s} moved from one to the other)`;
  return { kind: 'known', lowest: dotted(shipped.lowest), highest: dotted(shipped.tip), text };
}

/** `3.5.17` or `v3.5.17`; `3.5` stands for any 3.5.x. Anything else counts as not given. */
function parseEtcdVersion(text: string | null): NodeVersion | null {
  const match = text === null ? null : /^v?(\d+)\.(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) return null;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  if (match[3] === undefined) {
    return { kind: 'known', lowest: [major, minor, 0], highest: [major, minor, Infinity], text: `${major}.${minor}.x` };
  }
  const version = [major, minor, Number(match[3])];
  return { kind: 'known', lowest: version, highest: version, text: version.join('.') };
}

function k8sDqliteVersion(version: Version | null, what: string): NodeVersion {
  if (version === null) {
    return { kind: 'unknown', status: 'version-unknown', reason: `The node's MicroK8s version is unknown, so ${what} cannot be checked.` };
  }
  const microk8s = [version.major, version.minor];
  if (compareVersions(microk8s, [1, K8S_DQLITE_FIRST_MINOR]) < 0) {
    return { kind: 'absent', reason: `MicroK8s ${microk8s.join('.')} has no k8s-dqlite (it arrived in 1.${K8S_DQLITE_FIRST_MINOR}), so ${what} does not apply.` };
  }
  if (compareVersions(microk8s, RESEARCHED_UP_TO.kubernetes) > 0) {
    return { kind: 'unknown', status: 'uncertain', reason: `The catalogue does not know which k8s-dqlite MicroK8s ${microk8s.join('.')} ships.` };
  }
  const { lowest, tip } = K8S_DQLITE_TAGS;
  return { kind: 'known', lowest: dotted(lowest), highest: dotted(tip), text: `v${lowest} to v${tip} (the tags MicroK8s 1.${K8S_DQLITE_FIRST_MINOR} and later ship)` };
}

const dotted = (text: string): number[] => text.split('.').map(Number);

// ---------------------------------------------------------------------------------------------------------
// Judging a row at a version

type Verdict = { readonly status: 'supported' | 'not-yet' | 'removed' | 'uncertain'; readonly reason: string };

/** The words of a judgement: what is judged, in which binary, and the version the node runs. */
interface Wording {
  readonly what: string;
  readonly binary: string;
  readonly node: string;
}

/** Where the row stands at one version of its own scale. */
function judgeAt(row: CatalogueRow, version: readonly number[], words: Wording): Verdict {
  const { added, removed } = row;
  if (removed !== null && compareVersions(version, removed.version) >= 0) {
    return removed.certainty === 'exact' ? removedVerdict(removed, words) : removalDoubt(removed, words);
  }
  if (compareVersions(version, added.version) < 0) {
    if (added.orEarlier) return { status: 'uncertain', reason: `The catalogue only knows that ${words.binary} had ${words.what} by ${versionText(added)}; the node runs ${words.node}.` };
    return added.certainty === 'exact' ? notYetVerdict(added, words) : arrivalDoubt(added, words);
  }
  // Present by the catalogue's dates. A `~` date vouches for no version before the removal (the flag may
  // have come later than written); an unverified first version is doubtful only up to that version.
  if (added.certainty === 'approximate' || (added.certainty === 'unverified' && compareVersions(version, added.version) <= 0)) {
    return arrivalDoubt(added, words);
  }
  const researched = RESEARCHED_UP_TO[added.scale];
  if (compareVersions(version.slice(0, 2), researched) > 0) {
    return { status: 'uncertain', reason: `The catalogue covers ${words.binary} up to ${researched.join('.')}; the node runs ${words.node}.` };
  }
  const until = removed === null ? '' : `; it is removed in ${versionText(removed)}`;
  return { status: 'supported', reason: `${words.what} is supported by ${words.binary} ${words.node}${until}.` };
}

function removedVerdict(removed: Boundary, { what, binary, node }: Wording): Verdict {
  return { status: 'removed', reason: `${what} was removed from ${binary} in ${versionText(removed)}; the node runs ${node}.` };
}

function notYetVerdict(added: Boundary, { what, binary, node }: Wording): Verdict {
  return { status: 'not-yet', reason: `${what} was added to ${binary} in ${versionText(added)}; the node runs ${node}.` };
}

function removalDoubt(removed: Boundary, { what, binary, node }: Wording): Verdict {
  const how = removed.certainty === 'pre-release' ? 'has only pre-release notes saying' : removed.certainty === 'inferred' ? 'only infers' : 'only estimates';
  return { status: 'uncertain', reason: `The catalogue ${how} that ${what} is removed from ${binary} in ${removed.version.join('.')}; the node runs ${node}.` };
}

function arrivalDoubt(added: Boundary, { what, binary, node }: Wording): Verdict {
  if (added.certainty === 'unverified') {
    return { status: 'uncertain', reason: `The catalogue has not verified ${what} on ${binary} ${node}.` };
  }
  return { status: 'uncertain', reason: `Nobody pinned when ${what} arrived in ${binary} (${versionText(added)}), so ${node} is not vouched for.` };
}

/** Judges the row over every version the node may run: both ends agree, or the answer is uncertain. */
function judgeRow(row: CatalogueRow, query: FlagQuery, subject: Subject): FlagSupport {
  const what = describe(subject);
  const version = nodeVersion(row.added.scale, query, what);
  if (version.kind === 'unknown') return { status: version.status, reason: version.reason, row };
  if (version.kind === 'absent') return { status: 'not-yet', reason: version.reason, row };

  const patched = row.added.microk8sPatch || row.removed?.microk8sPatch === true;
  const words = { what, binary: patched ? `MicroK8s' patched ${row.component}` : row.component, node: version.text };
  const low = judgeAt(row, version.lowest, words);
  const high = judgeAt(row, version.highest, words);
  if (low.status !== high.status) {
    return { status: 'uncertain', reason: `${what} depends on which ${row.component} the node runs: ${version.text}; give its exact version to decide.`, row };
  }
  return { status: low.status, reason: low.reason, row };
}

function versionText(boundary: Boundary): string {
  const version = boundary.version.join('.');
  if (boundary.orEarlier) return `${version} or earlier`;
  if (boundary.certainty === 'approximate') return `about ${version}`;
  if (boundary.certainty === 'pre-release') return `${version} (pre-release notes)`;
  return boundary.scale === 'k8s-dqlite' ? `v${version}` : version;
}

// ---------------------------------------------------------------------------------------------------------
// The question harden asks

/** A list value reports its first item that is not supported, worst status first. */
const SEVERITY: readonly SupportStatus[] = ['removed', 'not-yet', 'unlisted', 'uncertain', 'version-unknown'];

/** Whether the node's version of the component knows the flag, or the flag with this value. */
export function flagSupport(catalogue: FlagCatalogue, query: FlagQuery): FlagSupport {
  const value = query.value?.trim() || null;
  const subject: Subject = { component: query.component, flag: query.flag, value };
  const items = listItems(catalogue, subject);
  return items.length > 1 ? judgeList(catalogue, query, subject, items) : judgeOne(catalogue, query, subject);
}

function judgeOne(catalogue: FlagCatalogue, query: FlagQuery, subject: Subject): FlagSupport {
  const lookup = findRow(catalogue, subject);
  if (lookup.row === null) return { status: 'unlisted', reason: lookup.reason, row: null };
  return judgeRow(lookup.row, query, subject);
}

/**
 * `Node,RBAC` or `NodeRestriction,EventRateLimit` is judged item by item when the component checks the
 * flag's values and no row is written for the whole string (some cipher-suite rows are).
 */
function listItems(catalogue: FlagCatalogue, subject: Subject): readonly string[] {
  const { component, flag, value } = subject;
  if (value === null || !value.includes(',') || SCALE_OF_COMPONENT[component] !== 'kubernetes') return [];
  const valueRows = valueRowsOf(catalogue, component, flag);
  if (valueRows.length === 0 && flag !== FEATURE_GATES) return [];
  if (valueRows.some((row) => row.value === value)) return [];
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

function judgeList(catalogue: FlagCatalogue, query: FlagQuery, subject: Subject, items: readonly string[]): FlagSupport {
  const verdicts = items.map((item) => judgeOne(catalogue, query, { ...subject, value: item }));
  for (const status of SEVERITY) {
    const worst = verdicts.find((verdict) => verdict.status === status);
    if (worst) return worst;
  }
  const node = query.version === null ? '' : ` ${query.version.major}.${query.version.minor}`;
  return { status: 'supported', reason: `Every value of ${describe(subject)} is supported by ${subject.component}${node}.`, row: verdicts[0].row };
}

function describe(subject: Subject): string {
  return subject.value === null ? subject.flag : `${subject.flag}=${subject.value}`;
}

/** Compares dotted versions part by part; a missing part counts as 0. */
function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const [x, y] = [a[i] ?? 0, b[i] ?? 0];
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
